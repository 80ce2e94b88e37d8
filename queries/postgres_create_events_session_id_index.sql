-- postgres_create_events_session_id_index: look up a session's events (joins from sessions to
-- events). DuckDB has none: its min-max zonemaps find them in rows stored in session order.
-- parameters: none
-- result: none
create index if not exists events_session_id_idx on events (session_id)
