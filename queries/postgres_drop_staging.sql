-- postgres_drop_staging: staging tables never outlive a load (they are created inside its
-- transaction), but clear any a foreign tool or an older version left, so they cannot break this.
-- parameters: none
-- result: none
drop table if exists events_staging, sessions_staging
