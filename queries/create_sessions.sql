-- create_sessions: the sessions table, one row per customer session (timestamps are UTC).
-- parameters: none
-- result: none
create table if not exists sessions (
    session_id text collate "C" primary key,
    customer_id bigint not null,
    session_index integer not null,
    started_at timestamp not null,
    ended_at timestamp not null,
    duration_seconds double precision not null,
    event_count integer not null,
    page_view_count integer not null,
    order_count integer not null,
    first_order_at timestamp,
    referrer text,
    landing_page text,
    user_agent text,
    ip text,
    unique (customer_id, session_index)
)
