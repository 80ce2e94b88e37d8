-- postgres_constrain_sessions_staging: the keys of create_sessions.sql, built in one sort each.
-- PostgreSQL names them sessions_staging_*; the swap renames them to the live names.
-- parameters: none
-- result: none
alter table sessions_staging
add primary key (session_id),
add unique (customer_id, session_index)
