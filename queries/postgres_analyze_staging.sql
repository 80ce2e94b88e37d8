-- postgres_analyze_staging: planner statistics for the columns of sessions that the metric
-- queries read, so that the first queries after the swap plan well: half the time of analyzing
-- every column. With a column list, ANALYZE leaves the table's count of changed rows as it is,
-- so autovacuum analyzes the whole of sessions, and events, within a minute or so: analyzing
-- events here would add seconds to every load.
-- parameters: none
-- result: none
analyze sessions_staging (
    customer_id, session_index, started_at, duration_seconds, first_order_at, referrer
)
