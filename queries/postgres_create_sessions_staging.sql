-- postgres_create_sessions_staging: an empty copy of sessions' columns (types, not null),
-- without indexes: COPY fills it faster, and the indexes are built once afterwards.
-- parameters: none
-- result: none
create table sessions_staging (like sessions including defaults)
