"""The DuckDB yardstick: plain, fast sessionization to hold `xcc-sessions sessionize` against.

Usage: python benchmarks/yardstick_duckdb.py EVENTS OUTPUT_DIR [GAP_SECONDS]

It reads the NDJSON file with explicit columns, keeps the logged-in events, starts a session at
each customer's first event and after every gap longer than the timeout (LAG over the customer's
events in (timestamp, id) order), numbers the sessions with a running SUM, and writes
events.parquet and sessions.parquet. No validation, rejects or de-duplication: what it lacks
is what the product adds, so it is a floor to compare against, not a replacement.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

EVENT_COLUMNS = (
    "{id: 'BIGINT', type: 'VARCHAR', event: 'STRUCT(\"user-agent\" VARCHAR, ip VARCHAR, "
    '"customer-id" BIGINT, "timestamp" TIMESTAMP, page VARCHAR, referrer VARCHAR, '
    "query VARCHAR, product BIGINT, position INTEGER)'}"
)

SESSIONIZED_EVENTS = f"""
create temporary table sessionized as
with events as (
    select
        id,
        lower(type) as type,
        event."customer-id" as customer_id,
        event."timestamp" as timestamp_at,
        event.page as page,
        event.referrer as referrer,
        event.query as query,
        event.product as product,
        event.position as position,
        event."user-agent" as user_agent,
        event.ip as ip
    from read_json($events, format = 'newline_delimited', columns = {EVENT_COLUMNS})
    where event."customer-id" is not null
),

flagged as (
    select
        *,
        coalesce(
            timestamp_at - lag(timestamp_at) over per_customer > to_seconds($gap_seconds),
            true
        ) as starts_session
    from events
    window per_customer as (partition by customer_id order by timestamp_at, id)
)

select
    *,
    sum(starts_session::integer) over (
        partition by customer_id order by timestamp_at, id rows unbounded preceding
    )::integer as session_index
from flagged
"""

# Every sessionized event with its session's id, like the product's events.parquet.
EVENTS = """
select
    customer_id || '-' || strftime(
        min(timestamp_at) over (partition by customer_id, session_index), '%Y%m%dT%H%M%S%f'
    ) || 'Z' as session_id,
    id,
    customer_id,
    type,
    timestamp_at,
    page,
    referrer,
    query,
    product,
    position,
    user_agent,
    ip
from sessionized
"""

SESSIONS = """
select
    customer_id || '-' || strftime(min(timestamp_at), '%Y%m%dT%H%M%S%f') || 'Z' as session_id,
    customer_id,
    session_index,
    min(timestamp_at) as started_at,
    max(timestamp_at) as ended_at,
    epoch(max(timestamp_at)) - epoch(min(timestamp_at)) as duration_seconds,
    count(*) as event_count,
    count(*) filter (where type = 'page_view') as page_view_count,
    count(*) filter (where type = 'placed_order') as order_count,
    min(timestamp_at) filter (where type = 'placed_order') as first_order_at,
    first(referrer order by timestamp_at, id) filter (where referrer is not null) as referrer,
    first(page order by timestamp_at, id) filter (where type = 'page_view') as landing_page,
    first(user_agent order by timestamp_at, id) as user_agent,
    first(ip order by timestamp_at, id) as ip
from sessionized
group by customer_id, session_index
"""


def main(events: Path, output: Path, gap_seconds: float) -> None:
    output.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as connection:
        connection.execute(SESSIONIZED_EVENTS, {"events": str(events), "gap_seconds": gap_seconds})
        connection.execute(f"copy ({EVENTS}) to '{output / 'events.parquet'}'")
        connection.execute(f"copy ({SESSIONS}) to '{output / 'sessions.parquet'}'")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) > 3 else 1800)
