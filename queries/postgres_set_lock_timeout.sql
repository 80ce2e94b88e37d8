-- postgres_set_lock_timeout: how long the swap waits for readers to let go of the live tables
-- before it gives up and tries again (readers queue behind a waiting swap).
-- parameters: $1 timeout (text, e.g. '2s'), for the rest of the transaction
-- result: one row, the setting
select set_config('lock_timeout', $1, true) as lock_timeout
