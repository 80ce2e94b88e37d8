-- postgres_lock_load: one load at a time per schema; held until the load's transaction ends, so
-- a killed load releases it with its connection.
-- parameters: none
-- result: one row, no meaningful columns
select pg_advisory_xact_lock(hashtext('xcc-sessions load ' || current_schema())) as locked
