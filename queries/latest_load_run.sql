-- latest_load_run: the most recent load, which also versions everything computed from the tables.
-- parameters: none
-- result: zero rows (never loaded) or one row with every load_runs column:
--   run_id, loaded_at (UTC), source_path, source_bytes, source_sha256, gap_seconds, lines, blank,
--   rejected, anonymous, duplicates, events, customers, sessions, sessions_loaded, events_loaded,
--   seconds
select
    run_id,
    loaded_at,
    source_path,
    source_bytes,
    source_sha256,
    gap_seconds,
    lines,
    blank,
    rejected,
    anonymous,
    duplicates,
    events,
    customers,
    sessions,
    sessions_loaded,
    events_loaded,
    seconds
from load_runs
order by run_id desc
limit 1
