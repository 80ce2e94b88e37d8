-- postgres_rename_events_staging: the staged events become the live table.
-- parameters: none
-- result: none
alter table events_staging rename to events
