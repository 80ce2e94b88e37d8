-- postgres_staging_names: the indexes and constraints of the swapped-in tables that still carry
-- their staging names, so the swap can give them the names create_*.sql gives (sessions_pkey,
-- events_session_id_fkey, ...) and a later `create index if not exists` finds them.
-- parameters: none
-- result: one row per name
--   kind (text): 'index' (renaming it renames its primary key or unique constraint too) or
--     'constraint' (one without an index of its own, such as a foreign key)
--   table_name (text), name (text): the current name, containing "_staging"
select
    'index' as kind,
    tables.relname as table_name,
    indexes.relname as name
from pg_index as index_info
inner join pg_class as indexes on index_info.indexrelid = indexes.oid
inner join pg_class as tables on index_info.indrelid = tables.oid
where
    tables.oid in (to_regclass('sessions'), to_regclass('events'))
    and strpos(indexes.relname, '_staging') > 0
union all
select
    'constraint' as kind,
    tables.relname as table_name,
    constraints.conname as name
from pg_constraint as constraints
inner join pg_class as tables on constraints.conrelid = tables.oid
where
    tables.oid in (to_regclass('sessions'), to_regclass('events'))
    and constraints.contype not in ('p', 'u', 'x')
    and strpos(constraints.conname, '_staging') > 0
order by kind, table_name, name
