"""Session rows written straight into the real tables, for the query and API tests.

The tables come from queries/create_*.sql, exactly as `load` creates them; the rows are built
by hand so each test states the sessions its expected numbers are computed from.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import duckdb
import psycopg

from xcc_sessions.database import Database
from xcc_sessions.schema import SESSIONS
from xcc_sessions.sql import load_query

START = datetime(2022, 4, 28, 2, 44, 46, 290271)

Session = dict[str, Any]


def session(
    customer_id: int,
    session_index: int,
    minutes: float,
    *,
    order_after: float | None = None,
    referrer: str | None = None,
    started_at: datetime | None = None,
) -> Session:
    """One sessions row lasting `minutes`, with its first order `order_after` minutes in."""
    start = started_at or START + timedelta(days=session_index, hours=customer_id % 24)
    first_order_at = None if order_after is None else start + timedelta(minutes=order_after)
    return {
        "session_id": f"{customer_id}-{start:%Y%m%dT%H%M%S%f}Z",
        "customer_id": customer_id,
        "session_index": session_index,
        "started_at": start,
        "ended_at": start + timedelta(minutes=minutes),
        "duration_seconds": minutes * 60,
        "event_count": 3,
        "page_view_count": 2,
        "order_count": 0 if order_after is None else 1,
        "first_order_at": first_order_at,
        "referrer": referrer,
        "landing_page": "https://xcc-webshop.com",
        "user_agent": "Mozilla/5.0",
        "ip": "127.0.0.1",
    }


def customer(customer_id: int, minutes: Sequence[float], **orders: float) -> list[Session]:
    """A customer's sessions in order; orders={"s2": 20} puts an order 20 minutes into session 2."""
    return [
        session(customer_id, index, length, order_after=orders.get(f"s{index}"))
        for index, length in enumerate(minutes, start=1)
    ]


def worked_example() -> list[Session]:
    """The brief's images/metrics.png: user-1 buys at the end of session 2, user-2 of session 1."""
    return customer(1, [30, 20, 12], s2=20) + customer(2, [45, 20, 10.5], s1=45, s3=10.5)


def write_sessions(
    database: Database,
    sessions: Iterable[Session],
    *,
    run_id: int = 1,
    loaded_at: datetime | None = None,
) -> None:
    """Create the tables if needed, add `sessions`, and record load run `run_id`."""
    rows = [tuple(row[column] for column in SESSIONS.names()) for row in sessions]
    load_run = (run_id, loaded_at or START + timedelta(days=run_id), len(rows))
    if database.engine == "duckdb":
        with duckdb.connect(database.location) as connection:
            _fill(connection, rows, load_run)
    else:
        with psycopg.connect(database.location, autocommit=True) as connection:
            _fill(psycopg.RawCursor(connection), rows, load_run)


def _fill(cursor: Any, rows: list[tuple[object, ...]], load_run: tuple[object, ...]) -> None:
    for table in ("sessions", "events", "load_runs"):
        cursor.execute(load_query(f"create_{table}"))
    if rows:
        cursor.executemany(_INSERT_SESSION, rows)
    cursor.execute(_INSERT_LOAD_RUN, load_run)


_INSERT_SESSION = (
    f"insert into sessions ({', '.join(SESSIONS.names())}) "
    f"values ({', '.join(f'${n}' for n in range(1, len(SESSIONS) + 1))})"
)

_INSERT_LOAD_RUN = """
insert into load_runs values (
    $1, $2, 'events.json', 1000, 'c0ffee', 1800, 10, 0, 0, 0, 0, 10, 2, $3, $3, 10, 0.5
)
"""
