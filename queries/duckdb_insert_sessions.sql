-- duckdb_insert_sessions: fill the new sessions table straight from sessionize's Parquet file.
-- parameters: $1 path of sessions.parquet (text)
-- result: count (bigint): the rows inserted
insert into sessions (
    session_id,
    customer_id,
    session_index,
    started_at,
    ended_at,
    duration_seconds,
    event_count,
    page_view_count,
    order_count,
    first_order_at,
    referrer,
    landing_page,
    user_agent,
    ip
)
select
    session_id,
    customer_id,
    session_index,
    started_at,
    ended_at,
    duration_seconds,
    event_count,
    page_view_count,
    order_count,
    first_order_at,
    referrer,
    landing_page,
    user_agent,
    ip
from read_parquet($1)
