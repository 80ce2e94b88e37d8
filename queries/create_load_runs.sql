-- create_load_runs: one row per load, with the sessionize summary it loaded (timestamps are UTC).
-- parameters: none
-- result: none
create table if not exists load_runs (
    run_id integer primary key,
    loaded_at timestamp not null,
    source_path text not null,
    source_bytes bigint not null,
    source_sha256 text not null,
    gap_seconds double precision not null,
    lines bigint not null,
    blank bigint not null,
    rejected bigint not null,
    anonymous bigint not null,
    duplicates bigint not null,
    events bigint not null,
    customers bigint not null,
    sessions bigint not null,
    sessions_loaded bigint not null,
    events_loaded bigint not null,
    seconds double precision not null
)
