-- postgres_analyze_staging: planner statistics, so the first queries after the swap plan well.
-- parameters: none
-- result: none
analyze sessions_staging, events_staging
