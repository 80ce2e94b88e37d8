-- postgres_live_grants: the privileges granted on the live tables and their columns (to
-- analysts' roles, say), so that the swap grants them again on the staging tables that replace
-- them: a dropped table takes its grants with it. The owner's own privileges are left out: the
-- staging table is given the same owner first (postgres_live_tables.sql).
-- parameters: none
-- result: one row per grant
--   table_name (text): sessions or events
--   column_name (text): the column granted on, or null for the whole table
--   grantee (text): the role granted to, or null for public
--   privilege_type (text): select, insert, update, ... in lower case (maintain from PostgreSQL 17)
--   is_grantable (boolean): whether it was granted with grant option
with granted as (
    select
        tables.relname as table_name,
        null::text as column_name,
        tables.relowner as owner,
        acl.grantee,
        acl.privilege_type,
        acl.is_grantable
    from pg_class as tables
    cross join lateral aclexplode(tables.relacl) as acl
    where tables.oid in (to_regclass('sessions'), to_regclass('events'))
    union all
    select
        tables.relname as table_name,
        columns.attname::text as column_name,
        tables.relowner as owner,
        acl.grantee,
        acl.privilege_type,
        acl.is_grantable
    from pg_class as tables
    inner join pg_attribute as columns on tables.oid = columns.attrelid
    cross join lateral aclexplode(columns.attacl) as acl
    where
        tables.oid in (to_regclass('sessions'), to_regclass('events'))
        and columns.attnum > 0
        and not columns.attisdropped
)
select
    table_name,
    column_name,
    case when grantee = 0 then null else pg_get_userbyid(grantee) end as grantee,
    lower(privilege_type) as privilege_type,
    is_grantable
from granted
where grantee <> owner
order by table_name, column_name nulls first, grantee, privilege_type
