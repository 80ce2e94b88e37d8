-- postgres_index_order_sessions_staging: the index of
-- postgres_create_order_sessions_index.sql over the staging table (the swap renames it).
-- parameters: none
-- result: none
create index sessions_staging_order_sessions_idx
on sessions_staging (customer_id, session_index)
include (started_at, first_order_at)
where first_order_at is not null
