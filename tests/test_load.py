"""load: sessionize's Parquet output into PostgreSQL and DuckDB, atomically and idempotently.

Every case that touches a database runs on both engines (the `database` fixture): a DuckDB file
in tmp_path and a fresh schema on the real PostgreSQL. The input files are written here with
polars and the column contract in xcc_sessions/schema.py, so each test states its data.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import psycopg
import pytest
from polars.testing import assert_frame_equal
from psycopg import sql
from typer.testing import CliRunner

from xcc_sessions.cli import app
from xcc_sessions.database import Database
from xcc_sessions.errors import XccError
from xcc_sessions.generate import generate_events
from xcc_sessions.load import (
    SCHEMA_QUERIES,
    LoadResult,
    OnStep,
    _signals_deferred,
    load,
    load_sessionized,
)
from xcc_sessions.schema import EVENTS, SESSIONS
from xcc_sessions.sessionize import OUTPUT_FILES, Summary, sessionize, sessionize_in_memory
from xcc_sessions.sql import load_query

START = datetime(2022, 4, 28, 2, 44, 46, 290271)

#: Text that trips up naive CSV or text COPY: quotes, separators, escapes, newlines, unicode.
AWKWARD = 'a "quoted", tab\there\\N back\\slash\nnew line; Zoë 🛒 ,'


def summary_for(sessions: pl.DataFrame, events: pl.DataFrame) -> dict[str, Any]:
    return {
        "lines": events.height + 7,
        "blank": 1,
        "rejected": 2,
        "rejected_by_reason": {"invalid_json": 2},
        "anonymous": 3,
        "duplicates": 1,
        "events": events.height,
        "customers": sessions["customer_id"].n_unique(),
        "sessions": sessions.height,
        "gap_seconds": 1800.0,
        "input": {"path": "data/events.json", "bytes": 123_456, "sha256": "ab" * 32},
        "seconds": 0.25,
    }


def write_output(directory: Path, sessions: pl.DataFrame, events: pl.DataFrame) -> Path:
    """A sessionize output directory holding these rows."""
    directory.mkdir(parents=True, exist_ok=True)
    sessions.write_parquet(directory / "sessions.parquet")
    events.write_parquet(directory / "events.parquet")
    summary = summary_for(sessions, events)
    (directory / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return directory


def awkward_rows() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Two customers, three sessions, five events, with nulls and awkward values throughout."""
    first = START
    second = START + timedelta(hours=2, microseconds=1)
    other = START + timedelta(days=1, microseconds=999_999)
    big_customer = 2**62 + 7
    sessions = pl.DataFrame(
        [
            session_row(2868, 1, first, minutes=5.5, referrer=AWKWARD, order_at=None),
            session_row(2868, 2, second, minutes=0.0, referrer=None, order_at=second),
            session_row(big_customer, 1, other, minutes=61.25, referrer="", order_at=None),
        ],
        schema=SESSIONS,
        orient="row",
    )
    ids = sessions["session_id"].to_list()
    events = pl.DataFrame(
        [
            event_row(9, ids[0], 2868, "page_view", first, page=AWKWARD, referrer=AWKWARD),
            event_row(2, ids[0], 2868, "search", first + timedelta(minutes=5.5), query=""),
            event_row(3, ids[1], 2868, "placed_order", second),
            event_row(2**53 + 1, ids[2], big_customer, "visit_related_product", other),
            event_row(5, ids[2], big_customer, "page_view", other + timedelta(minutes=61.25)),
        ],
        schema=EVENTS,
        orient="row",
    ).with_columns(
        product=pl.when(pl.col("type") == "visit_related_product").then(pl.lit(2**40)),
        position=pl.when(pl.col("type") == "visit_related_product").then(pl.lit(-3, pl.Int32)),
    )
    return sessions, events


def session_row(
    customer_id: int,
    index: int,
    started_at: datetime,
    *,
    minutes: float,
    referrer: str | None,
    order_at: datetime | None,
) -> tuple[object, ...]:
    return (
        f"{customer_id}-{started_at:%Y%m%dT%H%M%S%f}Z",
        customer_id,
        index,
        started_at,
        started_at + timedelta(minutes=minutes),
        minutes * 60,
        2,
        1,
        0 if order_at is None else 1,
        order_at,
        referrer,
        "https://xcc-webshop.com/cart",
        AWKWARD,
        "200.15.173.55",
    )


def event_row(
    event_id: int,
    session_id: str,
    customer_id: int,
    kind: str,
    at: datetime,
    *,
    page: str | None = None,
    referrer: str | None = None,
    query: str | None = None,
) -> tuple[object, ...]:
    return (
        event_id,
        session_id,
        customer_id,
        kind,
        at,
        page,
        referrer,
        query,
        None,
        None,
        "Mozilla/5.0 (X11; Linux x86_64)",
        "10.0.0.1",
    )


def synthetic_rows(sessions: int, events_per_session: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Many plain rows, built column-wise: enough to make a load take a noticeable while."""
    started = pl.lit(START) + pl.duration(seconds=pl.col("n") * 7919)
    session_frame = (
        pl.DataFrame({"n": pl.int_range(sessions, eager=True)})
        .select(
            session_id=pl.format("{}-{}", pl.col("n") // 3, pl.col("n")),
            customer_id=pl.col("n") // 3,
            session_index=pl.col("n") % 3 + 1,
            started_at=started,
            ended_at=started + pl.duration(minutes=10),
            duration_seconds=pl.lit(600.0),
            event_count=pl.lit(events_per_session),
            page_view_count=pl.lit(events_per_session),
            order_count=pl.lit(0),
            first_order_at=pl.lit(None),
            referrer=pl.lit("https://gonzalez.com"),
            landing_page=pl.lit("https://xcc-webshop.com/category/6"),
            user_agent=pl.lit("Mozilla/5.0 (iPhone; CPU iPhone OS 14_2 like Mac OS X)"),
            ip=pl.lit("200.15.173.55"),
        )
        .cast(SESSIONS)
    )
    per_event = pl.col("id") // events_per_session
    event_frame = (
        pl.DataFrame({"id": pl.int_range(sessions * events_per_session, eager=True)})
        .select(
            "id",
            session_id=pl.format("{}-{}", per_event // 3, per_event),
            customer_id=per_event // 3,
            type=pl.lit("page_view"),
            timestamp=pl.lit(START) + pl.duration(microseconds=pl.col("id")),
            page=pl.lit("https://xcc-webshop.com/category/6"),
            referrer=pl.lit(None),
            query=pl.lit(None),
            product=pl.lit(None),
            position=pl.lit(None),
            user_agent=pl.lit("Mozilla/5.0 (iPhone; CPU iPhone OS 14_2 like Mac OS X)"),
            ip=pl.lit("200.15.173.55"),
        )
        .cast(EVENTS)
    )
    return session_frame, event_frame


# Reading the tables back


def query(database: Database, statement: str) -> list[tuple[Any, ...]]:
    if database.engine == "postgresql":
        with psycopg.connect(database.location) as connection:
            return connection.execute(statement).fetchall()
    with duckdb.connect(database.location) as connection:
        return connection.execute(statement).fetchall()


def table(database: Database, name: str, contract: pl.Schema) -> pl.DataFrame:
    """The table's rows in key order, typed by the contract."""
    columns = ", ".join(contract.names())
    rows = query(database, f"select {columns} from {name} order by {contract.names()[0]}")
    return pl.DataFrame(rows, schema=contract, orient="row")


def load_runs(database: Database) -> list[tuple[Any, ...]]:
    return query(database, "select * from load_runs order by run_id")


def sorted_by_key(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns[0])


@pytest.fixture
def awkward_output(tmp_path: Path) -> Path:
    return write_output(tmp_path / "awkward", *awkward_rows())


@pytest.fixture
def big_output(tmp_path: Path) -> Path:
    return write_output(tmp_path / "big", *synthetic_rows(20_000, 5))


@pytest.fixture
def generated_events(tmp_path: Path) -> Path:
    path = tmp_path / "events.json"
    generate_events(path, 3_000, seed=7)
    return path


# Round trip


def test_sessions_round_trip_exactly(database: Database, awkward_output: Path) -> None:
    sessions, _ = awkward_rows()

    load(awkward_output, database)

    assert_frame_equal(table(database, "sessions", SESSIONS), sorted_by_key(sessions))


def test_events_round_trip_exactly(database: Database, awkward_output: Path) -> None:
    _, events = awkward_rows()

    load(awkward_output, database)

    assert_frame_equal(table(database, "events", EVENTS), sorted_by_key(events))


def test_timestamps_before_postgres_epoch_round_trip(database: Database, tmp_path: Path) -> None:
    # PostgreSQL's binary COPY counts microseconds from 2000-01-01: times before it are negative.
    started = [datetime(1970, 1, 1, 0, 0, 0, 1), datetime(1999, 12, 31, 23, 59, 59, 999_999)]
    sessions = pl.DataFrame(
        [
            session_row(7, index, at, minutes=1.0, referrer=None, order_at=at)
            for index, at in enumerate(started, start=1)
        ],
        schema=SESSIONS,
        orient="row",
    )
    events = pl.DataFrame(
        [
            event_row(index, session_id, 7, "placed_order", at)
            for index, session_id, at in zip((1, 2), sessions["session_id"], started, strict=True)
        ],
        schema=EVENTS,
        orient="row",
    )

    load(write_output(tmp_path / "old", sessions, events), database)

    assert_frame_equal(table(database, "sessions", SESSIONS), sorted_by_key(sessions))


def test_many_rows_round_trip(database: Database, tmp_path: Path) -> None:
    sessions, events = synthetic_rows(3_000, 4)
    output = write_output(tmp_path / "many", sessions, events)

    load(output, database)

    assert_frame_equal(table(database, "events", EVENTS), sorted_by_key(events))


def test_loads_what_the_real_sessionize_wrote(
    database: Database, tmp_path: Path, generated_events: Path
) -> None:
    sessionize(generated_events, tmp_path / "out")

    load(tmp_path / "out", database)

    expected = pl.read_parquet(tmp_path / "out" / "sessions.parquet")
    assert_frame_equal(table(database, "sessions", SESSIONS), sorted_by_key(expected))


def test_a_nul_in_a_string_is_stored_as_the_replacement_character(
    database: Database, tmp_path: Path
) -> None:
    # PostgreSQL's text cannot hold U+0000: both engines store the same U+FFFD instead.
    events = tmp_path / "events.json"
    events.write_text(
        '{"id":5000,"type":"search","event":{"customer-id":7,'
        '"timestamp":"2022-04-27T05:20:12","query":"shoes\\u0000"}}\n'
    )
    sessionize(events, tmp_path / "out")

    load(tmp_path / "out", database)

    assert query(database, "select query from events where id = 5000") == [("shoes\ufffd",)]


def test_result_says_what_was_loaded(database: Database, awkward_output: Path) -> None:
    result = load(awkward_output, database)

    summary = (result.engine, result.location, result.run_id)
    counts = (result.sessions_loaded, result.events_loaded)
    assert (*summary, *counts) == (database.engine, database.display, 1, 3, 5)


def test_load_runs_records_the_summary_and_the_rows_loaded(
    database: Database, awkward_output: Path
) -> None:
    summary = json.loads((awkward_output / "summary.json").read_text())

    load(awkward_output, database)

    (row,) = load_runs(database)
    counts = [summary[key] for key in ("lines", "blank", "rejected", "anonymous", "duplicates")]
    counts += [summary[key] for key in ("events", "customers", "sessions")]
    expected = ("data/events.json", 123_456, "ab" * 32, 1800.0, *counts, 3, 5)
    assert row[2:16] == expected


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def test_load_runs_times_the_load_in_utc(database: Database, awkward_output: Path) -> None:
    before = utc_now()

    load(awkward_output, database)

    assert before <= load_runs(database)[0][1] <= utc_now()


def test_on_step_hears_each_step_in_order(database: Database, awkward_output: Path) -> None:
    steps: list[str] = []

    load(awkward_output, database, on_step=lambda name, _seconds: steps.append(name))

    expected = {
        "duckdb": ["connect", "prepare", "insert sessions", "insert events", "commit"],
        "postgresql": ["connect", "prepare", "copy sessions", "copy events", "index sessions"],
    }
    assert steps[:5] + steps[-1:] == [*expected[database.engine], "commit"]


# Idempotence and replacement


def test_loading_twice_leaves_the_same_rows(database: Database, awkward_output: Path) -> None:
    load(awkward_output, database)
    first = (table(database, "sessions", SESSIONS), table(database, "events", EVENTS))

    load(awkward_output, database)

    second = (table(database, "sessions", SESSIONS), table(database, "events", EVENTS))
    assert all(a.equals(b) for a, b in zip(first, second, strict=True))


def test_each_load_gets_the_next_run_id(database: Database, awkward_output: Path) -> None:
    for _ in range(3):
        load(awkward_output, database)

    assert [row[0] for row in load_runs(database)] == [1, 2, 3]


def test_a_load_replaces_every_row_of_the_previous_one(
    database: Database, tmp_path: Path, awkward_output: Path
) -> None:
    sessions, events = synthetic_rows(30, 2)
    load(write_output(tmp_path / "before", sessions, events), database)

    load(awkward_output, database)

    assert table(database, "events", EVENTS)["id"].to_list() == [2, 3, 5, 9, 2**53 + 1]


def test_an_empty_output_empties_the_tables(
    database: Database, tmp_path: Path, awkward_output: Path
) -> None:
    load(awkward_output, database)
    empty = write_output(tmp_path / "empty", SESSIONS.to_frame(), EVENTS.to_frame())

    load(empty, database)

    assert query(database, "select count(*) from sessions")[0][0] == 0


# Failures leave the previous data


def orphan_event(directory: Path) -> None:
    """An event whose session is not in sessions.parquet: the foreign key refuses it late."""
    events = pl.read_parquet(directory / "events.parquet")
    orphan = events.head(1).with_columns(id=pl.lit(10**12), session_id=pl.lit("no-such-session"))
    pl.concat([events, orphan]).write_parquet(directory / "events.parquet")


def duplicate_session(directory: Path) -> None:
    sessions = pl.read_parquet(directory / "sessions.parquet")
    pl.concat([sessions, sessions.tail(1)]).write_parquet(directory / "sessions.parquet")


def corrupt_page(directory: Path) -> None:
    """Overwrite the middle of events.parquet; its footer (and schema) stays readable."""
    path = directory / "events.parquet"
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle - 2000 : middle + 2000] = os.urandom(4000)
    path.write_bytes(bytes(data))


def truncate(directory: Path) -> None:
    path = directory / "events.parquet"
    path.write_bytes(path.read_bytes()[:1000])


def every_line_rejected(directory: Path) -> None:
    """The output of no event file (an HTML error page, say): all it would load is nothing."""
    SESSIONS.to_frame().write_parquet(directory / "sessions.parquet")
    EVENTS.to_frame().write_parquet(directory / "events.parquet")
    summary = json.loads((directory / "summary.json").read_text())
    counts = {"anonymous": 0, "duplicates": 0, "events": 0, "customers": 0, "sessions": 0}
    summary |= counts | {"rejected": summary["lines"] - summary["blank"]}
    (directory / "summary.json").write_text(json.dumps(summary))


DAMAGE = [orphan_event, duplicate_session, corrupt_page, truncate, every_line_rejected]


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda damage: damage.__name__)
def test_a_failed_load_is_an_error(
    database: Database, tmp_path: Path, awkward_output: Path, damage: Any
) -> None:
    load(awkward_output, database)
    broken = write_output(tmp_path / "broken", *synthetic_rows(2_000, 5))
    damage(broken)

    with pytest.raises(XccError):
        load(broken, database)


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda damage: damage.__name__)
def test_a_failed_load_leaves_the_previous_data(
    database: Database, tmp_path: Path, awkward_output: Path, damage: Any
) -> None:
    load(awkward_output, database)
    before = (table(database, "sessions", SESSIONS), table(database, "events", EVENTS))
    broken = write_output(tmp_path / "broken", *synthetic_rows(2_000, 5))
    damage(broken)

    with pytest.raises(XccError):
        load(broken, database)

    after = (table(database, "sessions", SESSIONS), table(database, "events", EVENTS))
    unchanged = all(a.equals(b) for a, b in zip(before, after, strict=True))
    assert (unchanged, len(load_runs(database))) == (True, 1)


def test_a_failed_load_does_not_stop_the_next(
    database: Database, tmp_path: Path, awkward_output: Path
) -> None:
    broken = write_output(tmp_path / "broken", *synthetic_rows(2_000, 5))
    orphan_event(broken)
    with pytest.raises(XccError):
        load(broken, database)

    result = load(awkward_output, database)

    assert (result.run_id, result.events_loaded) == (1, 5)


def test_a_failed_load_leaves_no_staging_tables(
    postgres_url: str, tmp_path: Path, awkward_output: Path
) -> None:
    database = Database("postgresql", postgres_url)
    load(awkward_output, database)
    broken = write_output(tmp_path / "broken", *synthetic_rows(2_000, 5))
    orphan_event(broken)
    with pytest.raises(XccError):
        load(broken, database)

    tables = query(
        database,
        "select table_name from information_schema.tables "
        "where table_schema = current_schema() order by table_name",
    )

    assert tables == [("events",), ("load_runs",), ("sessions",)]


def backend_of(database: Database, application_name: str) -> list[tuple[Any, ...]]:
    return query(
        database,
        "select pid, left(query, 4) from pg_stat_activity "
        f"where application_name = '{application_name}' and state = 'active'",
    )


def kill_during_copy(postgres_url: str, output: Path) -> None:
    """Start a load of `output` in another process and SIGKILL it while it COPYs rows."""
    database = Database("postgresql", postgres_url)
    name = f"killed-load-{uuid.uuid4().hex[:8]}"
    url = f"{postgres_url}&application_name={name}"
    child = subprocess.Popen([sys.executable, "-c", KILLED_LOAD, str(output), url])
    deadline = time.monotonic() + 60
    while not any(kind == "copy" for _, kind in backend_of(database, name)):
        if child.poll() is not None or time.monotonic() > deadline:
            pytest.fail("the load never reached COPY")
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()


def test_a_killed_load_leaves_the_previous_data(
    postgres_url: str, awkward_output: Path, big_output: Path
) -> None:
    database = Database("postgresql", postgres_url)
    load(awkward_output, database)
    before = table(database, "events", EVENTS)

    kill_during_copy(postgres_url, big_output)

    assert_frame_equal(table(database, "events", EVENTS), before)


KILLED_LOAD = """
import sys
from pathlib import Path
from xcc_sessions.database import Database
from xcc_sessions.load import load
load(Path(sys.argv[1]), Database("postgresql", sys.argv[2]))
"""


def test_a_load_after_a_killed_one_succeeds(
    postgres_url: str, awkward_output: Path, big_output: Path
) -> None:
    kill_during_copy(postgres_url, big_output)

    result = load(awkward_output, Database("postgresql", postgres_url))

    assert (result.run_id, result.events_loaded) == (1, 5)


def test_ctrl_c_during_a_duckdb_load_exits_130_and_keeps_the_previous_data(
    tmp_path: Path, awkward_output: Path
) -> None:
    database = Database("duckdb", str(tmp_path / "x.duckdb"))
    load(awkward_output, database)
    before = table(database, "events", EVENTS)
    events = tmp_path / "events.json"
    generate_events(events, 300_000, seed=7)  # DuckDB's Ctrl+C error showed on such rows
    sessionize(events, tmp_path / "long")
    command = ["load", str(tmp_path / "long"), "--database", database.location, "--verbose"]
    with subprocess.Popen(
        [sys.executable, "-m", "xcc_sessions", *command], stderr=subprocess.PIPE, text=True
    ) as child:
        assert child.stderr is not None
        for step in child.stderr:
            if step.startswith("  insert sessions:"):
                # Well into the events' insert (about 0.25 s), before the commit: DuckDB, not
                # Python, meets the signal there.
                time.sleep(0.05)
                child.send_signal(signal.SIGINT)
                break
        stopped = (child.wait(), "Traceback" in child.stderr.read())

    assert (stopped, table(database, "events", EVENTS).equals(before)) == ((130, False), True)


def test_ctrl_c_during_a_commit_lets_it_finish_then_stops() -> None:
    committed = []

    def commit() -> None:
        with _signals_deferred():
            signal.raise_signal(signal.SIGINT)  # to this thread, at once: as Ctrl+C in a commit
            committed.append("the block ran to its end")

    with pytest.raises(KeyboardInterrupt):
        commit()

    assert committed == ["the block ran to its end"]


def test_concurrent_loads_take_turns(
    postgres_url: str, awkward_output: Path, big_output: Path
) -> None:
    database = Database("postgresql", postgres_url)
    results: list[LoadResult] = []
    loads = [
        threading.Thread(target=lambda output=output: results.append(load(output, database)))
        for output in (big_output, awkward_output)
    ]
    for thread in loads:
        thread.start()
    for thread in loads:
        thread.join()

    last = max(results, key=lambda result: result.run_id)
    counts = query(database, "select (select count(*) from events), max(run_id) from load_runs")
    assert counts == [(last.events_loaded, 2)]


# A sessionize run still in memory (`xcc-sessions run`)


def load_in_memory(events: Path, output: Path, database: Database) -> tuple[Summary, LoadResult]:
    """Sessionize and load as `xcc-sessions run` does (`pipeline.prepare`)."""
    with sessionize_in_memory(events, output) as sessionized:
        return load_sessionized(sessionized, database)


def test_a_run_in_memory_loads_its_events(
    database: Database, tmp_path: Path, generated_events: Path
) -> None:
    with sessionize_in_memory(generated_events, tmp_path / "out") as sessionized:
        load_sessionized(sessionized, database)

    assert_frame_equal(table(database, "events", EVENTS), sorted_by_key(sessionized.events))


def test_a_run_in_memory_writes_the_files_sessionize_writes(
    database: Database, tmp_path: Path, generated_events: Path
) -> None:
    sessionize(generated_events, tmp_path / "files")

    load_in_memory(generated_events, tmp_path / "out", database)

    written = [
        pl.read_parquet(tmp_path / "out" / name) for name in ("sessions.parquet", "events.parquet")
    ]
    expected = [
        pl.read_parquet(tmp_path / "files" / name)
        for name in ("sessions.parquet", "events.parquet")
    ]
    assert all(a.equals(b) for a, b in zip(written, expected, strict=True))


def test_a_run_in_memory_records_its_summary(
    database: Database, tmp_path: Path, generated_events: Path
) -> None:
    summary, _ = load_in_memory(generated_events, tmp_path / "out", database)

    (row,) = load_runs(database)
    on_disk = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert (row[4], row[11], on_disk["input"]["sha256"]) == (
        summary.input.sha256,
        summary.events,
        summary.input.sha256,
    )


def test_a_run_in_memory_whose_files_fail_to_write_leaves_the_previous_data(
    database: Database, tmp_path: Path, awkward_output: Path, generated_events: Path
) -> None:
    load(awkward_output, database)

    with sessionize_in_memory(generated_events, tmp_path / "out") as sessionized:
        shutil.rmtree(tmp_path / "out")  # the files can no longer be written there
        with pytest.raises(XccError, match="cannot write"):
            load_sessionized(sessionized, database)

    assert (len(table(database, "events", EVENTS)), len(load_runs(database))) == (5, 1)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("<html>\n<body>Service unavailable</body>\n</html>\n", "every line of {} was rejected"),
        ("", "{} holds no event (it is empty, or blank)"),
        ("\n \n\t\n", "{} holds no event (it is empty, or blank)"),
    ],
    ids=["error page", "empty", "blank"],
)
def test_a_run_in_memory_of_no_event_file_keeps_the_data(
    database: Database, tmp_path: Path, awkward_output: Path, text: str, why: str
) -> None:
    load(awkward_output, database)
    page = tmp_path / "events.json"
    page.write_text(text)

    with pytest.raises(XccError, match=f"^{re.escape(why.format(page))}.*, so nothing was loaded"):
        load_in_memory(page, tmp_path / "out", database)

    assert len(table(database, "events", EVENTS)) == 5


def test_a_run_in_memory_of_no_event_file_writes_its_rejected_lines(
    database: Database, tmp_path: Path
) -> None:
    page = tmp_path / "events.json"
    page.write_text("<html>\n<body>Service unavailable</body>\n</html>\n")

    with pytest.raises(XccError):
        load_in_memory(page, tmp_path / "out", database)

    assert len((tmp_path / "out" / "rejected.ndjson").read_text().splitlines()) == 3


def refusals_of_runs_into(directory: Path, events: Path) -> tuple[list[bool], OnStep]:
    """An on_step listener that tries to sessionize into `directory` at each step of a load,
    and the list it records each attempt's refusal in."""
    refused: list[bool] = []

    def try_a_run(name: str, seconds: float) -> None:
        try:
            sessionize(events, directory)
            refused.append(False)
        except XccError:
            refused.append(True)

    return refused, try_a_run


def test_a_load_holds_its_directory_against_runs_until_done(
    database: Database, tmp_path: Path, generated_events: Path
) -> None:
    sessionize(generated_events, tmp_path / "out")
    refused, try_a_run = refusals_of_runs_into(tmp_path / "out", generated_events)

    load(tmp_path / "out", database, on_step=try_a_run)

    assert set(refused) == {True}


def test_a_run_in_memory_holds_its_directory_until_it_is_loaded(
    database: Database, tmp_path: Path, generated_events: Path
) -> None:
    refused, try_a_run = refusals_of_runs_into(tmp_path / "out", generated_events)

    with sessionize_in_memory(generated_events, tmp_path / "out") as sessionized:
        load_sessionized(sessionized, database, on_step=try_a_run)

    assert set(refused) == {True}


def test_a_load_of_a_directory_a_run_is_writing_is_refused(
    database: Database, tmp_path: Path, generated_events: Path
) -> None:
    with sessionize_in_memory(generated_events, tmp_path / "out") as run:
        run.write()

        with pytest.raises(XccError, match="out is being written by a sessionize or run"):
            load(tmp_path / "out", database)


def test_a_run_in_memory_writes_its_files_when_the_load_fails(
    tmp_path: Path, generated_events: Path
) -> None:
    unreachable = Database("postgresql", f"postgresql://xcc@127.0.0.1:{free_port()}/xcc")

    with pytest.raises(XccError, match="Connection refused"):
        load_in_memory(generated_events, tmp_path / "out", unreachable)

    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == sorted(OUTPUT_FILES)


# Readers during a load


class Reader(threading.Thread):
    """Counts sessions, events and load runs in one statement, again and again, on its own."""

    STATEMENT = (
        "select (select count(*) from sessions), (select count(*) from events), "
        "(select count(*) from load_runs)"
    )

    def __init__(self, database: Database) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.stop = threading.Event()
        self.seen: list[tuple[float, tuple[int, ...]]] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for row in self._rows():
                self.seen.append((time.monotonic(), tuple(int(value) for value in row)))
                if self.stop.is_set():
                    return
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error

    def _rows(self) -> Iterator[tuple[Any, ...]]:
        if self.database.engine == "postgresql":
            with psycopg.connect(self.database.location, autocommit=True) as connection:
                while True:
                    row = connection.execute(self.STATEMENT).fetchone()
                    assert row is not None
                    yield row
        with duckdb.connect(self.database.location) as connection:
            while True:
                row = connection.execute(self.STATEMENT).fetchone()
                assert row is not None
                yield row


def read_during_load(database: Database, output: Path) -> tuple[Reader, float, float]:
    """Run a reader, then a load of `output`; the reader's observations and the load's span."""
    reader = Reader(database)
    reader.start()
    while not reader.seen and reader.error is None:
        time.sleep(0.01)
    started = time.monotonic()
    load(output, database)
    finished = time.monotonic()
    time.sleep(0.05)
    reader.stop.set()
    reader.join(timeout=30)
    if reader.error is not None:
        raise reader.error
    return reader, started, finished


def test_a_reader_sees_the_old_rows_or_the_new_never_a_mix(
    database: Database, awkward_output: Path, big_output: Path
) -> None:
    load(awkward_output, database)

    reader, _, _ = read_during_load(database, big_output)

    assert {counts for _, counts in reader.seen} == {(3, 5, 1), (20_000, 100_000, 2)}


def test_a_reader_is_not_blocked_while_the_load_runs(
    database: Database, awkward_output: Path, big_output: Path
) -> None:
    load(awkward_output, database)

    reader, started, finished = read_during_load(database, big_output)

    answered_during_load = [at for at, _ in reader.seen if started < at < finished]
    assert len(answered_during_load) >= 3


def test_the_swap_waits_for_a_long_reader_then_lands(
    postgres_url: str, awkward_output: Path, big_output: Path
) -> None:
    database = Database("postgresql", postgres_url)
    load(awkward_output, database)
    swap_waited: list[float] = []
    with psycopg.connect(postgres_url) as reader:
        reader.execute("select count(*) from sessions")  # holds its lock until the commit

        def before_the_swap(step: str, seconds: float) -> None:
            if step == "analyze":  # let go later than one round of the swap's wait
                threading.Timer(3.0, reader.commit).start()
            if step == "swap":
                swap_waited.append(seconds)

        result = load(big_output, database, on_step=before_the_swap)

    landed = query(database, "select count(*) from sessions")[0][0] == result.sessions_loaded
    assert (landed, swap_waited[0] >= 3.0) == (True, True)


# The schema


def test_the_columns_the_metric_queries_read_have_statistics_once_loaded(
    postgres_url: str, awkward_output: Path
) -> None:
    database = Database("postgresql", postgres_url)

    load(awkward_output, database)

    analyzed = query(
        database,
        "select attname from pg_stats "
        "where schemaname = current_schema() and tablename = 'sessions'",
    )
    read_by_metrics = {"customer_id", "session_index", "started_at", "duration_seconds"}
    read_by_metrics |= {"first_order_at", "referrer"}
    assert read_by_metrics <= {name for (name,) in analyzed}


def test_loads_into_tables_created_beforehand(database: Database, awkward_output: Path) -> None:
    for name in ("create_sessions", "create_events", "create_load_runs"):
        query_without_result(database, load_query(name))
    _, events = awkward_rows()

    load(awkward_output, database)

    assert_frame_equal(table(database, "events", EVENTS), sorted_by_key(events))


def query_without_result(database: Database, statement: str) -> None:
    if database.engine == "postgresql":
        with psycopg.connect(database.location) as connection:
            connection.execute(statement)
    else:
        with duckdb.connect(database.location) as connection:
            connection.execute(statement)


@pytest.fixture
def roles(postgres_url: str) -> Iterator[list[str]]:
    """Two roles of this test's own, as analysts' would be, one with a name that needs quoting
    (roles are the server's, not the schema's: dropped at the end)."""
    tag = uuid.uuid4().hex[:8]
    names = [f"xcc_test_reader_{tag}", f"xcc_test_Analyst {tag}"]
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        for name in names:
            admin.execute(sql.SQL("create role {} nologin").format(sql.Identifier(name)))
        yield names
        for name in names:
            admin.execute(sql.SQL("drop owned by {}").format(sql.Identifier(name)))
            admin.execute(sql.SQL("drop role {}").format(sql.Identifier(name)))


# Who may do what on the tables and their columns, who owns them, and their comments (a table's
# default access, a null ACL, written out as the owner's, so that the same access compares
# equal).
ACCESS = """
with tables as (
    select oid, relname, relowner, coalesce(relacl, acldefault('r', relowner)) as acl
    from pg_class
    where relname in ('sessions', 'events') and relnamespace = current_schema()::regnamespace
)
select tables.relname, null as attname, acl.grantor, acl.grantee, acl.privilege_type,
    acl.is_grantable
from tables cross join lateral aclexplode(tables.acl) as acl
union all
select tables.relname, columns.attname, acl.grantor, acl.grantee, acl.privilege_type,
    acl.is_grantable
from tables
inner join pg_attribute as columns on tables.oid = columns.attrelid
cross join lateral aclexplode(columns.attacl) as acl
union all
select relname, 'owner', relowner, relowner, null, null from tables
union all
select tables.relname, 'comment ' || comments.objsubid, null, null, comments.description, null
from tables
inner join pg_description as comments
    on tables.oid = comments.objoid and comments.classoid = 'pg_class'::regclass
order by 1, 2, 3, 4, 5
"""


def test_a_load_keeps_the_tables_owner_grants_and_comments(
    postgres_url: str, awkward_output: Path, roles: list[str]
) -> None:
    database = Database("postgresql", postgres_url)
    load(awkward_output, database)
    reader, analyst = (f'"{name}"' for name in roles)
    query_without_result(
        database,
        f"grant select on sessions, events to {reader};"
        f" grant select, update on sessions to {analyst} with grant option;"
        f" grant select (session_id, referrer) on events to {analyst};"
        " grant select on sessions to public;"
        f" alter table events owner to {reader};"
        " comment on table sessions is 'One row per visit; \"the\" customer''s, that is';"
        " comment on column events.\"timestamp\" is E'When it happened,\\nin UTC'",
    )
    before = query(database, ACCESS)

    load(awkward_output, database)

    assert query(database, ACCESS) == before


def test_a_table_under_row_level_security_is_not_replaced(
    postgres_url: str, awkward_output: Path
) -> None:
    database = Database("postgresql", postgres_url)
    load(awkward_output, database)
    query_without_result(database, "alter table sessions enable row level security")

    with pytest.raises(XccError, match=r"^sessions in .* has row-level security"):
        load(awkward_output, database)

    assert len(load_runs(database)) == 1


SCHEMA_SHAPE = """
select conrelid::regclass::text, conname, pg_get_constraintdef(oid)
from pg_constraint where connamespace = current_schema()::regnamespace
union all
select tablename, indexname, regexp_replace(indexdef, ' ON \\S+\\.', ' ON ')
from pg_indexes where schemaname = current_schema()
order by 1, 2, 3
"""


def test_a_load_leaves_the_schema_create_sql_describes(
    postgres_url: str, awkward_output: Path
) -> None:
    database = Database("postgresql", postgres_url)
    for name in SCHEMA_QUERIES:
        query_without_result(database, load_query(name))
    created = query(database, SCHEMA_SHAPE)

    load(awkward_output, database)

    assert query(database, SCHEMA_SHAPE) == created


def test_timestamps_are_stored_without_a_time_zone(
    database: Database, awkward_output: Path
) -> None:
    load(awkward_output, database)

    types = query(
        database,
        "select data_type from information_schema.columns "
        "where table_name = 'sessions' and column_name = 'started_at'",
    )
    assert types[0][0].lower() in ("timestamp without time zone", "timestamp")


# Errors a user can cause


def test_a_missing_directory_is_an_error(database: Database, tmp_path: Path) -> None:
    with pytest.raises(XccError, match="is not a directory"):
        load(tmp_path / "nowhere", database)


@pytest.mark.parametrize("name", ["sessions.parquet", "events.parquet", "summary.json"])
def test_a_missing_file_is_named(database: Database, awkward_output: Path, name: str) -> None:
    (awkward_output / name).unlink()

    with pytest.raises(XccError, match=f"{name} is missing"):
        load(awkward_output, database)


def test_a_summary_without_its_counts_is_an_error(database: Database, awkward_output: Path) -> None:
    (awkward_output / "summary.json").write_text('{"lines": 3}')

    with pytest.raises(XccError, match="lacks blank, rejected"):
        load(awkward_output, database)


def test_a_parquet_file_off_the_contract_names_the_columns(
    database: Database, awkward_output: Path
) -> None:
    sessions = pl.read_parquet(awkward_output / "sessions.parquet")
    sessions.drop("ip").with_columns(pl.col("session_index").cast(pl.Int64)).write_parquet(
        awkward_output / "sessions.parquet"
    )

    with pytest.raises(XccError, match=r"session_index \(Int64, expected Int32\), ip \(missing"):
        load(awkward_output, database)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_an_unreachable_server_is_an_error_without_the_password(awkward_output: Path) -> None:
    database = Database("postgresql", f"postgresql://xcc:s3cret@127.0.0.1:{free_port()}/xcc")

    with pytest.raises(XccError) as raised:
        load(awkward_output, database)

    message = str(raised.value)
    assert ("s3cret" in message, "Connection refused" in message) == (False, True)


def test_an_unknown_database_is_an_error_without_the_password(
    postgres_url: str, awkward_output: Path
) -> None:
    url = postgres_url.replace("://", "://postgres:s3cret@", 1).replace("@postgres@", "@")
    database = Database("postgresql", url.replace("/test", "/no_such_database", 1))

    with pytest.raises(XccError) as raised:
        load(awkward_output, database)

    message = str(raised.value)
    assert ("s3cret" in message, "no_such_database" in message) == (False, True)


runner = CliRunner()


def test_cli_reports_the_load_on_stderr(tmp_path: Path, awkward_output: Path) -> None:
    database = tmp_path / "cli.duckdb"

    result = runner.invoke(app, ["load", str(awkward_output), "--database", str(database)])

    assert result.stderr.startswith(f"Loaded run 1: 3 sessions and 5 events into {database} in ")


def test_cli_json_prints_the_result_on_stdout(tmp_path: Path, awkward_output: Path) -> None:
    database = tmp_path / "cli.duckdb"

    result = runner.invoke(app, ["load", str(awkward_output), "-d", str(database), "--json", "-q"])

    assert json.loads(result.stdout)["events_loaded"] == 5


def test_cli_reads_database_url_from_the_environment(
    tmp_path: Path, awkward_output: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "from-env.duckdb"
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{database}")

    result = runner.invoke(app, ["load", str(awkward_output), "-q", "--json"])

    assert (result.exit_code, json.loads(result.stdout)["location"]) == (0, str(database))


def test_cli_verbose_times_each_step_on_stderr(tmp_path: Path, awkward_output: Path) -> None:
    database = tmp_path / "cli.duckdb"

    result = runner.invoke(app, ["load", str(awkward_output), "-d", str(database), "-v"])

    assert result.stderr.splitlines()[1].startswith("  prepare: ")


def test_cli_missing_directory_is_one_line_exit_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["load", str(tmp_path / "nowhere"), "-d", str(tmp_path / "x.db")])

    assert (result.exit_code, result.stderr.count("\n"), result.stderr[:6]) == (1, 1, "Error:")


def test_a_file_where_the_duckdb_folder_should_be_is_named(
    tmp_path: Path, awkward_output: Path
) -> None:
    (tmp_path / "data").write_text("")
    database = tmp_path / "data" / "duckdb" / "x.db"

    result = runner.invoke(app, ["load", str(awkward_output), "-d", str(database)])

    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: cannot create the folder {database.parent}: {tmp_path / 'data'} is a file\n",
    )


def test_a_file_that_is_no_duckdb_database_is_an_error_and_left_as_it_was(
    tmp_path: Path, awkward_output: Path
) -> None:
    events = tmp_path / "events.json"
    events.write_text('{"id": 1, "type": "page_view", "event": {}}\n', encoding="utf-8")
    before = events.read_bytes()

    result = runner.invoke(app, ["load", str(awkward_output), "-d", str(events)])

    assert (result.exit_code, result.stderr, events.read_bytes()) == (
        1,
        f"Error: {events} is not a DuckDB database file: give a DuckDB file, or a path where "
        "one may be created\n",
        before,
    )


def test_cli_unreachable_server_is_one_line_exit_1_without_password(
    awkward_output: Path,
) -> None:
    url = f"postgresql://xcc:s3cret@127.0.0.1:{free_port()}/xcc"

    result = runner.invoke(app, ["load", str(awkward_output), "-d", url])

    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: cannot connect to {url.replace('s3cret', '***')}: Connection refused "
        "Is the server running on that host and accepting TCP/IP connections?\n",
    )


HOLD_DUCKDB = """
import sys, time, duckdb
connection = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
"""


@contextmanager
def duckdb_held(database: Path, seconds: float) -> Iterator[subprocess.Popen[str]]:
    """Another process that holds `database` open for `seconds`, from entry on."""
    command = [sys.executable, "-c", HOLD_DUCKDB, str(database), str(seconds)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as holder:
        assert holder.stdout is not None
        holder.stdout.readline()  # the holder has opened the file
        yield holder
        holder.kill()


def test_a_duckdb_file_held_for_a_moment_is_waited_for(
    tmp_path: Path, awkward_output: Path
) -> None:
    database = tmp_path / "held.duckdb"
    with duckdb_held(database, 1):
        result = load(awkward_output, Database("duckdb", str(database)))

    assert result.events_loaded == 5


def test_cli_duckdb_file_held_by_another_process_is_one_line_exit_1(
    tmp_path: Path, awkward_output: Path
) -> None:
    database = tmp_path / "held.duckdb"
    with duckdb_held(database, 60) as holder:
        result = runner.invoke(app, ["load", str(awkward_output), "-d", str(database)])

    held = f"PID {holder.pid}); stop it" in result.stderr
    assert (result.exit_code, result.stderr.count("\n"), held) == (1, 1, True)
