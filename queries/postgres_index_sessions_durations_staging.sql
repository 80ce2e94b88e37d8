-- postgres_index_sessions_durations_staging: the index of
-- postgres_create_sessions_durations_index.sql over the staging table (the swap renames it).
-- parameters: none
-- result: none
create index sessions_staging_durations_idx
on sessions_staging (customer_id, session_index)
include (duration_seconds)
