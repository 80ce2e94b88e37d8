-- duckdb_insert_events: fill the new events table straight from sessionize's Parquet file.
-- parameters: $1 path of events.parquet (text)
-- result: count (bigint): the rows inserted
insert into events (
    id,
    session_id,
    customer_id,
    type,
    timestamp,
    page,
    referrer,
    query,
    product,
    position,
    user_agent,
    ip
)
select
    id,
    session_id,
    customer_id,
    type,
    timestamp,
    page,
    referrer,
    query,
    product,
    position,
    user_agent,
    ip
from read_parquet($1)
