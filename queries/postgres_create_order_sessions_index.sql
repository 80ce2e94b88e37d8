-- postgres_create_order_sessions_index: the order-holding sessions (about one in seven) in
-- (customer_id, session_index) order with what metrics_orders.sql reads of them, so it finds each
-- buyer's first order session from this small index alone instead of scanning and sorting the
-- table. PostgreSQL only: DuckDB has no partial indexes and does not need one.
-- parameters: none
-- result: none
create index if not exists sessions_order_sessions_idx
on sessions (customer_id, session_index)
include (started_at, first_order_at)
where first_order_at is not null
