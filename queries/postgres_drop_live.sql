-- postgres_drop_live: drop the replaced tables (their indexes and the foreign key go with them).
-- parameters: none
-- result: none
drop table events, sessions
