-- postgres_rename_sessions_staging: the staged sessions become the live table.
-- parameters: none
-- result: none
alter table sessions_staging rename to sessions
