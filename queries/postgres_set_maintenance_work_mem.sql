-- postgres_set_maintenance_work_mem: memory for building the staging tables' keys and index, so
-- each sorts in memory instead of spilling to disk (PostgreSQL takes only what a sort needs).
-- parameters: $1 amount (text, e.g. '512MB'), for the rest of the transaction
-- result: one row, the setting
select set_config('maintenance_work_mem', $1, true) as maintenance_work_mem
