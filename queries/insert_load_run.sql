-- insert_load_run: record one finished load; run_id is one more than the latest (the load holds
-- the database's load lock, so two loads never pick the same number).
-- parameters: $1 loaded_at (timestamp, UTC), $2 source_path (text), $3 source_bytes (bigint),
--   $4 source_sha256 (text), $5 gap_seconds (double precision), $6 lines, $7 blank, $8 rejected,
--   $9 anonymous, $10 duplicates, $11 events, $12 customers, $13 sessions (bigint: the
--   sessionize summary's counts), $14 sessions_loaded, $15 events_loaded (bigint: rows written),
--   $16 seconds (double precision)
-- result: run_id (integer)
insert into load_runs (
    run_id,
    loaded_at,
    source_path,
    source_bytes,
    source_sha256,
    gap_seconds,
    lines,
    blank,
    rejected,
    anonymous,
    duplicates,
    events,
    customers,
    sessions,
    sessions_loaded,
    events_loaded,
    seconds
)
select
    coalesce(max(run_id), 0) + 1 as run_id,
    cast($1 as timestamp) as loaded_at,
    cast($2 as text) as source_path,
    cast($3 as bigint) as source_bytes,
    cast($4 as text) as source_sha256,
    cast($5 as double precision) as gap_seconds,
    cast($6 as bigint) as lines,
    cast($7 as bigint) as blank,
    cast($8 as bigint) as rejected,
    cast($9 as bigint) as anonymous,
    cast($10 as bigint) as duplicates,
    cast($11 as bigint) as events,
    cast($12 as bigint) as customers,
    cast($13 as bigint) as sessions,
    cast($14 as bigint) as sessions_loaded,
    cast($15 as bigint) as events_loaded,
    cast($16 as double precision) as seconds
from load_runs
returning run_id
