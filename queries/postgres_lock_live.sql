-- postgres_lock_live: take the live tables for the swap. Readers wait only from here to commit.
-- parameters: none
-- result: none
lock table sessions, events in access exclusive mode
