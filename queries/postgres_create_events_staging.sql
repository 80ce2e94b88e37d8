-- postgres_create_events_staging: an empty copy of events' columns (types, not null), without
-- indexes or the foreign key: COPY fills it faster, and both are built once afterwards.
-- parameters: none
-- result: none
create table events_staging (like events including defaults)
