-- duckdb_drop_sessions: drop the live sessions table inside the load's transaction (after
-- events, whose foreign key refers to it); until commit, other connections keep reading it.
-- parameters: none
-- result: none
drop table if exists sessions
