-- duckdb_drop_events: drop the live events table inside the load's transaction; until commit,
-- other connections keep reading it (DuckDB's catalog is versioned like its rows).
-- parameters: none
-- result: none
drop table if exists events
