-- postgres_live_comments: the comments on the live tables and their columns (a data catalog's
-- descriptions, dbt's persist_docs say), so that the swap sets them again on the staging tables
-- that replace them: a dropped table takes its comments with it.
-- parameters: none
-- result: one row per comment
--   table_name (text): sessions or events
--   column_name (text): the column commented on, or null for the whole table
--   description (text): the comment
select
    tables.relname as table_name,
    columns.attname::text as column_name,
    comments.description
from pg_description as comments
inner join pg_class as tables on comments.objoid = tables.oid
left join pg_attribute as columns
    on comments.objoid = columns.attrelid and comments.objsubid = columns.attnum
where
    comments.classoid = 'pg_class'::regclass
    and tables.oid in (to_regclass('sessions'), to_regclass('events'))
order by table_name, column_name nulls first
