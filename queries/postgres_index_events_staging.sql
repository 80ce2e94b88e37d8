-- postgres_index_events_staging: the index of postgres_create_events_session_id_index.sql.
-- parameters: none
-- result: none
create index events_staging_session_id_idx on events_staging (session_id)
