-- postgres_live_grants: the privileges granted on the live tables (to analysts' roles, say), so
-- that the swap grants them again on the staging tables that replace them: a dropped table
-- takes its grants with it. The owner's own privileges are left out (the new owner has them).
-- parameters: none
-- result: one row per grant
--   table_name (text): sessions or events
--   grantee (text): the role granted to, or null for public
--   privilege_type (text): select, insert, update, delete, truncate, references or trigger
--   is_grantable (boolean): whether it was granted with grant option
select
    tables.relname as table_name,
    case when acl.grantee = 0 then null else pg_get_userbyid(acl.grantee) end as grantee,
    lower(acl.privilege_type) as privilege_type,
    acl.is_grantable
from pg_class as tables
cross join lateral aclexplode(tables.relacl) as acl
where
    tables.oid in (to_regclass('sessions'), to_regclass('events'))
    and acl.grantee <> tables.relowner
order by table_name, grantee, privilege_type
