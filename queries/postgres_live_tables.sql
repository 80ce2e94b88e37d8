-- postgres_live_tables: what the swap must carry over from the live tables to the staging ones
-- beyond their grants: the owner, and whether row-level security guards them (which a load
-- refuses to drop: policies are not carried over, and the new tables would show every row).
-- parameters: none
-- result: one row per live table
--   table_name (text): sessions or events
--   owner (text): the owning role
--   row_security (boolean): row-level security enabled or forced, or a policy defined
select
    tables.relname as table_name,
    pg_get_userbyid(tables.relowner) as owner,
    tables.relrowsecurity
    or tables.relforcerowsecurity
    or exists (select 1 from pg_policy as policies where policies.polrelid = tables.oid)
    as row_security
from pg_class as tables
where tables.oid in (to_regclass('sessions'), to_regclass('events'))
order by table_name
