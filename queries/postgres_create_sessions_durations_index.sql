-- postgres_create_sessions_durations_index: each customer's sessions in order with their
-- durations, so metrics_orders.sql sums a buyer's earlier sessions from the index alone (an
-- index-only scan: COPY FREEZE leaves every page all-visible). DuckDB has no INCLUDE and does
-- not need it.
-- parameters: none
-- result: none
create index if not exists sessions_durations_idx
on sessions (customer_id, session_index)
include (duration_seconds)
