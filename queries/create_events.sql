-- create_events: the events table, every sessionized event with its session (timestamps are UTC).
-- parameters: none
-- result: none
create table if not exists events (
    id bigint primary key,
    session_id text collate "C" not null references sessions (session_id),
    customer_id bigint not null,
    type text not null,
    timestamp timestamp not null,
    page text,
    referrer text,
    query text,
    product bigint,
    position integer,
    user_agent text,
    ip text
)
