-- postgres_analyze_staging: planner statistics for sessions, which the metric queries read, so
-- the first queries after the swap plan well. events is left to autovacuum's analyze, which
-- follows within a minute or so: analyzing it here would add seconds to every load.
-- parameters: none
-- result: none
analyze sessions_staging
