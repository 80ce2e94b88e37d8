"""Load a sessionize output directory into PostgreSQL or DuckDB, atomically and idempotently.

A load replaces the whole of `sessions` and `events` and appends one `load_runs` row, all in
one transaction, so a reader sees the previous load or this one, never a mix, and a load that
fails or is killed part-way leaves the previous data as it was.

- PostgreSQL: the rows are COPYed (binary) into staging tables created in the load's own
  transaction, which then get their keys, indexes and statistics. Only then are the live tables
  locked, dropped and replaced by renaming the staging ones, so readers wait for the swap (well
  under a second), not for the load; the new tables get the old ones' owner, grants and
  comments (a table under row-level security is refused: its policies would not carry over).
  Staging tables made inside the transaction vanish with it if the load fails, so nothing is
  left behind to trip up the next one. A view over sessions or events (in any schema) would stop
  the drop: the load then fails with PostgreSQL's reason and changes nothing, so such views have
  to be dropped before a load and created again after it.
- DuckDB: the live tables are dropped, created again from queries/create_*.sql and filled
  straight from the Parquet files with read_parquet, inside one transaction. DuckDB versions its
  catalog like its rows, so the new tables are this load's staging area until the commit.

`load` reads a sessionize output directory; `load_sessionized` takes a sessionize run still in
memory (`xcc-sessions run`), whose files it writes while PostgreSQL builds the indexes.
"""

from __future__ import annotations

import json
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import psycopg
import psycopg.errors
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from xcc_sessions.connections import (
    PostgresConnection,
    connect_duckdb,
    connect_postgres,
    ctrl_c_as_keyboard_interrupt,
    duckdb_reason,
    postgres_reason,
)
from xcc_sessions.database import Database, Engine
from xcc_sessions.errors import XccError
from xcc_sessions.outputs import DirectoryClaim
from xcc_sessions.schema import EVENTS, SESSIONS
from xcc_sessions.sql import load_query

if TYPE_CHECKING:
    # DuckDB is imported where used, so that PostgreSQL loads do not pay for importing it.
    import duckdb

    from xcc_sessions.sessionize import Sessionized, Summary

#: The statements that create the tables and indexes; each is a no-op where its object exists.
SCHEMA_QUERIES = (
    "create_sessions",
    "create_events",
    "postgres_create_events_session_id_index",
    "postgres_create_sessions_durations_index",
    "postgres_create_order_sessions_index",
    "create_load_runs",
)

#: The tables alone, for DuckDB, whose only indexes are those of the keys: an index on
#: events.session_id made each load commit a second longer (5M lines) and sped no query up, as
#: DuckDB's min-max zonemaps find a session's events in rows stored in session order.
DUCKDB_TABLES = ("create_sessions", "create_events", "create_load_runs")

#: Rows read from Parquet per COPY batch: bounds memory whatever the file's size.
COPY_BATCH_ROWS = 100_000

#: Memory for each key and index build over the staging tables (see
#: postgres_set_maintenance_work_mem.sql).
INDEX_MEMORY = "512MB"

#: The swap waits this long for readers to release the live tables, then retries.
SWAP_LOCK_TIMEOUT = "2s"
SWAP_ATTEMPTS = 15

#: The binary COPY format of each column's type. A timestamp travels as what PostgreSQL's binary
#: timestamp is, an int8 of microseconds since POSTGRES_EPOCH: Python ints are far cheaper to
#: make from Parquet than datetimes (a second less per 1.5M events, see benchmarks/load.py).
POSTGRES_TYPES: dict[type[pl.DataType], str] = {
    pl.String: "text",
    pl.Int64: "int8",
    pl.Int32: "int4",
    pl.Float64: "float8",
    pl.Datetime: "int8",
}

POSTGRES_EPOCH = datetime(2000, 1, 1)

SUMMARY_COUNTS = (
    "lines",
    "blank",
    "rejected",
    "anonymous",
    "duplicates",
    "events",
    "customers",
    "sessions",
)


OnStep = Callable[[str, float], None]


class NoValidLineError(XccError):
    """The input held no valid line, only rejected or blank ones (an error page, an empty
    download): no event file, and loading its empty result would replace the data with nothing.
    """

    def __init__(self, source: str, rejected: int, directory: Path) -> None:
        why = (
            f"every line of {source} was rejected (see {directory / 'rejected.ndjson'})"
            if rejected
            else f"{source} holds no event (it is empty, or blank)"
        )
        super().__init__(
            f"{why}, so nothing was loaded and the database keeps its data: is it the events file?"
        )


def _no_valid_line(lines: int, blank: int, rejected: int) -> bool:
    return lines - blank == rejected


class _Steps:
    """Times the steps of a load for an `OnStep` listener: `with step("copy events"): ...`."""

    def __init__(self, on_step: OnStep | None) -> None:
        self.on_step = on_step

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        if self.on_step is not None:
            self.on_step(name, time.perf_counter() - started)


@dataclass(frozen=True)
class LoadResult:
    """What a load did. `location` is `Database.display`: safe to print."""

    engine: Engine
    location: str
    run_id: int
    sessions_loaded: int
    events_loaded: int
    seconds: float


@dataclass(frozen=True)
class SessionizeOutput:
    """A sessionize output directory whose files have been checked against the contract."""

    sessions: Path
    events: Path
    summary: dict[str, Any]


@dataclass(frozen=True)
class _Rows:
    """What a PostgreSQL load COPYs: Parquet files or frames still in memory, and `summary()`,
    the content of summary.json, needed only for the load_runs row at the end."""

    sessions: Path | pl.DataFrame
    events: Path | pl.DataFrame
    summary: Callable[[], dict[str, Any]]


@dataclass(frozen=True)
class LoadRun:
    """One load_runs row but its run_id, in the parameter order of insert_load_run.sql."""

    loaded_at: datetime
    source_path: str
    source_bytes: int
    source_sha256: str
    gap_seconds: float
    lines: int
    blank: int
    rejected: int
    anonymous: int
    duplicates: int
    events: int
    customers: int
    sessions: int
    sessions_loaded: int
    events_loaded: int
    seconds: float


def load(directory: Path, database: Database, *, on_step: OnStep | None = None) -> LoadResult:
    """Replace the sessions and events in `database` by those sessionize wrote to `directory`.

    Reads directory/sessions.parquet, events.parquet and summary.json; creates the tables where
    they are missing; records the load in load_runs. Raises `XccError` for anything the user can
    fix (a missing or damaged file, an unreachable database), leaving the database unchanged.
    `on_step(name, seconds)` hears of each step as it finishes ("copy events", "swap", ...).
    """
    _check_directory(directory)
    with DirectoryClaim(directory, shared=True):  # no run rewrites it while it is read
        return _load_output(directory, database, on_step)


def _load_output(directory: Path, database: Database, on_step: OnStep | None) -> LoadResult:
    started = time.perf_counter()
    step = _Steps(on_step)
    output = read_output(directory)
    if database.engine == "postgresql":
        rows = _Rows(output.sessions, output.events, summary=lambda: output.summary)
        loaded = _load_postgres(rows, database, started, step)
    else:
        loaded = _load_duckdb(output, database, started, step)
    return _result(database, started, *loaded)


def load_sessionized(
    sessionized: Sessionized, database: Database, *, on_step: OnStep | None = None
) -> tuple[Summary, LoadResult]:
    """Write the files of a sessionize run still in memory and load it, as `xcc-sessions run`
    does: the same result as `sessionized.write()` and then `load(sessionized.output_dir,
    database)` after the run's `with` block, only sooner, and with the directory held by the run
    throughout. Returns the summary that the write returned and the load's result.

    PostgreSQL gets the frames COPYed from memory, and the files are written in a thread while
    the server builds the keys and indexes, which leave a core idle for much of their time. The
    load commits only once the files are written, so a failed write fails the load too; a load
    that fails before the files' turn still writes them. DuckDB loads the written files, as
    `load` does: it reads Polars frames only through pyarrow, which is no dependency of ours.
    """
    if _no_valid_line(sessionized.lines, sessionized.blank, sessionized.rejected):
        sessionized.write()  # rejected.ndjson says why
        raise NoValidLineError(
            str(sessionized.source), sessionized.rejected, sessionized.output_dir
        )
    if database.engine != "postgresql":
        # Read back from the files while `sessionized` still holds their directory.
        return sessionized.write(), _load_output(sessionized.output_dir, database, on_step)
    summary: Summary | None = None
    write_attempted = False

    def write() -> dict[str, Any]:
        nonlocal summary, write_attempted
        write_attempted = True
        summary = sessionized.write()
        return summary.to_json()

    started = time.perf_counter()
    rows = _Rows(sessionized.sessions, sessionized.events, summary=write)
    try:
        loaded = _load_postgres(rows, database, started, _Steps(on_step))
    except XccError:
        if not write_attempted:
            write()
        raise
    assert summary is not None  # the load succeeded, so the write did
    return summary, _result(database, started, *loaded)


def _result(
    database: Database, started: float, run_id: int, sessions_loaded: int, events_loaded: int
) -> LoadResult:
    return LoadResult(
        engine=database.engine,
        location=database.display,
        run_id=run_id,
        sessions_loaded=sessions_loaded,
        events_loaded=events_loaded,
        seconds=time.perf_counter() - started,
    )


def read_output(directory: Path) -> SessionizeOutput:
    """The files in a sessionize output directory, or `XccError` saying what is wrong."""
    _check_directory(directory)
    summary = _read_summary(directory / "summary.json")
    if _no_valid_line(summary["lines"], summary["blank"], summary["rejected"]):
        raise NoValidLineError(summary["input"]["path"], summary["rejected"], directory)
    sessions, events = directory / "sessions.parquet", directory / "events.parquet"
    _check_parquet(sessions, SESSIONS)
    _check_parquet(events, EVENTS)
    return SessionizeOutput(sessions=sessions, events=events, summary=summary)


def _check_directory(directory: Path) -> None:
    if not directory.is_dir():
        raise XccError(f"{directory} is not a directory: run `xcc-sessions sessionize` first")


def _read_summary(path: Path) -> dict[str, Any]:
    try:
        summary: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise XccError(f"{path} is missing: is {path.parent} a sessionize output?") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise XccError(f"cannot read {path}: {error}") from None
    source = summary.get("input") if isinstance(summary, dict) else None
    missing = [key for key in (*SUMMARY_COUNTS, "gap_seconds") if key not in summary]
    if not isinstance(source, dict):
        missing.append("input")
    else:
        missing += [f"input.{key}" for key in ("path", "bytes", "sha256") if key not in source]
    if missing:
        raise XccError(f"{path} lacks {', '.join(missing)}: is it a sessionize summary?")
    return summary


def _check_parquet(path: Path, contract: pl.Schema) -> None:
    if not path.is_file():
        raise XccError(f"{path} is missing: is {path.parent} a sessionize output?")
    try:
        found = pl.read_parquet_schema(path)
    except (pl.exceptions.PolarsError, OSError) as error:
        raise XccError(f"{path} is not a readable Parquet file: {_one_line(error)}") from None
    wrong = [
        f"{name} ({found.get(name, 'missing')}, expected {dtype})"
        for name, dtype in contract.items()
        if found.get(name) != dtype
    ]
    if wrong:
        raise XccError(f"{path} does not match the sessionize contract: {', '.join(wrong)}")


def _load_run(summary: dict[str, Any], sessions: int, events: int, started: float) -> LoadRun:
    source = summary["input"]
    return LoadRun(
        loaded_at=datetime.now(UTC).replace(tzinfo=None),
        source_path=str(source["path"]),
        source_bytes=int(source["bytes"]),
        source_sha256=str(source["sha256"]),
        gap_seconds=float(summary["gap_seconds"]),
        **{key: int(summary[key]) for key in SUMMARY_COUNTS},
        sessions_loaded=sessions,
        events_loaded=events,
        seconds=time.perf_counter() - started,
    )


def _run_id(inserted: tuple[Any, ...] | None) -> int:
    """The run_id that insert_load_run.sql returned."""
    run_id = inserted[0] if inserted else None
    assert isinstance(run_id, int)
    return run_id


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


# PostgreSQL


def _load_postgres(
    output: _Rows, database: Database, started: float, step: _Steps
) -> tuple[int, int, int]:
    with step("connect"):
        connection = connect_postgres(database)
    try:
        cursor = connection.cursor()
        with step("prepare"):
            _run(cursor, "postgres_lock_load")
            for name in SCHEMA_QUERIES:
                _run(cursor, name)
            _run(cursor, "postgres_drop_staging")
            _run(cursor, "postgres_create_sessions_staging")
            _run(cursor, "postgres_create_events_staging")
        with step("copy sessions"):
            sessions = _copy(cursor, "sessions_staging", output.sessions, SESSIONS)
        with step("copy events"):
            events = _copy(cursor, "events_staging", output.events, EVENTS)
        # The summary's work (`load_sessionized` writes the output files) takes the core that
        # the index builds leave idle, which they do for a good part of their time.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="summary") as beside:
            summary = beside.submit(output.summary)
            cursor.execute(load_query("postgres_set_maintenance_work_mem"), (INDEX_MEMORY,))
            with step("index sessions"):
                _run(cursor, "postgres_constrain_sessions_staging")
                _run(cursor, "postgres_index_sessions_durations_staging")
                _run(cursor, "postgres_index_order_sessions_staging")
            with step("index events"):
                _run(cursor, "postgres_index_events_staging")
                _run(cursor, "postgres_constrain_events_staging")
            with step("analyze"):
                _run(cursor, "postgres_analyze_staging")
            finished = summary.result()
        with step("swap"):
            _swap(connection, database)
            run = _load_run(finished, sessions, events, started)
            cursor.execute(load_query("insert_load_run"), astuple(run))
            inserted = cursor.fetchone()
        with step("commit"):
            connection.commit()
    except psycopg.Error as error:
        # The staging tables are this load's own business: name the tables a user knows.
        reason = postgres_reason(error, database).replace("_staging", "")
        raise XccError(
            f"loading into {database.display} failed, its data is unchanged: {reason}"
        ) from None
    finally:
        connection.close()  # without a commit, closing rolls the transaction back
    return _run_id(inserted), sessions, events


def _run(cursor: psycopg.Cursor[Any], name: str) -> None:
    cursor.execute(load_query(name))


def _copy(
    cursor: psycopg.Cursor[Any], table: str, source: Path | pl.DataFrame, contract: pl.Schema
) -> int:
    """COPY the Parquet file or frame into `table` (created in this transaction); returns the rows.

    Binary COPY, fed row by row from Parquet batches, measured faster than CSV written by
    polars: PostgreSQL parses binary fields far more cheaply, and on a shared machine the
    server's parsing is the bottleneck (benchmarks/load.py compares the two). FREEZE writes the
    rows already frozen, sparing the vacuum that would otherwise rewrite every page, and makes
    them visible to every snapshot: a repeatable-read reader whose snapshot predates the swap
    sees the new rows, not new tables that look empty to it.
    """
    columns = contract.names()
    statement = sql.SQL("copy {} ({}) from stdin (format binary, freeze)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    rows = 0
    rows_of = pl.scan_parquet(source) if isinstance(source, Path) else source.lazy()
    batches = rows_of.select(
        _copy_value(name, dtype) for name, dtype in contract.items()
    ).collect_batches(chunk_size=COPY_BATCH_ROWS)
    # The queued writer sends to the server from a thread while this one formats the next rows.
    with cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:
        copy.set_types([POSTGRES_TYPES[type(dtype)] for dtype in contract.dtypes()])
        try:
            for batch in batches:
                for row in zip(*(column.to_list() for column in batch.iter_columns()), strict=True):
                    copy.write_row(row)
                rows += batch.height
        except pl.exceptions.PolarsError as error:
            raise XccError(
                f"{source} is damaged, the database is unchanged: {_one_line(error)}"
            ) from None
    return rows


def _copy_value(name: str, dtype: pl.DataType) -> pl.Expr:
    """The column as binary COPY sends it (see POSTGRES_TYPES)."""
    if isinstance(dtype, pl.Datetime):
        return (pl.col(name) - pl.lit(POSTGRES_EPOCH)).dt.total_microseconds().alias(name)
    return pl.col(name)


def _swap(connection: PostgresConnection, database: Database) -> None:
    """Replace the live tables by the staging ones, waiting for readers in short rounds.

    A waiting ACCESS EXCLUSIVE request makes every new reader queue behind it, so the swap waits
    at most SWAP_LOCK_TIMEOUT per round, steps back (to a savepoint) to let the queue drain, and
    tries again.
    """
    cursor = connection.cursor()
    for _attempt in range(SWAP_ATTEMPTS):
        try:
            with connection.transaction():
                cursor.execute(load_query("postgres_set_lock_timeout"), (SWAP_LOCK_TIMEOUT,))
                _run(cursor, "postgres_lock_live")
            break
        except psycopg.errors.LockNotAvailable:
            time.sleep(0.1)
    else:
        raise XccError(
            f"the sessions and events tables in {database.display} stayed in use by other "
            "sessions; their data is unchanged, try again when they finish"
        )
    _carry_over(cursor, database)
    _run(cursor, "postgres_drop_live")
    _run(cursor, "postgres_rename_sessions_staging")
    _run(cursor, "postgres_rename_events_staging")
    for kind, table, name in cursor.execute(load_query("postgres_staging_names")).fetchall():
        staging_name = sql.Identifier(str(name))
        live_name = sql.Identifier(str(name).replace("_staging", "", 1))
        if kind == "index":
            statement = sql.SQL("alter index {} rename to {}").format(staging_name, live_name)
        else:
            statement = sql.SQL("alter table {} rename constraint {} to {}").format(
                sql.Identifier(str(table)), staging_name, live_name
            )
        cursor.execute(statement)


_PRIVILEGE = re.compile(r"[a-z]+(?: [a-z]+)*")  # select, maintain, ...: keywords, not text


def _carry_over(cursor: psycopg.Cursor[Any], database: Database) -> None:
    """Give the staging tables the live ones' owner, grants and comments, table and column: a
    dropped table takes them along, and every load took the analysts' roles' SELECT away. A
    live table under row-level security is refused (the data kept): its policies are not
    carried over, and the new table would show every row to every role granted it."""
    tables = cursor.execute(load_query("postgres_live_tables")).fetchall()
    for table, owner, row_security in tables:
        if row_security:
            raise XccError(
                f"{table} in {database.display} has row-level security, which a load would "
                "drop with the table (its policies are not carried over): nothing was loaded"
            )
        cursor.execute(
            sql.SQL("alter table {} owner to {}").format(
                sql.Identifier(f"{table}_staging"), sql.Identifier(owner)
            )
        )
    for table, column, grantee, privilege, grantable in cursor.execute(
        load_query("postgres_live_grants")
    ).fetchall():
        if not _PRIVILEGE.fullmatch(privilege):
            raise XccError(f"cannot grant {privilege!r} on {table} again: unknown privilege")
        statement = sql.SQL("grant {}{} on table {} to {}{}").format(
            sql.SQL(privilege),
            sql.SQL("") if column is None else sql.SQL(" ({})").format(sql.Identifier(column)),
            sql.Identifier(f"{table}_staging"),
            sql.SQL("public") if grantee is None else sql.Identifier(grantee),
            sql.SQL(" with grant option" if grantable else ""),
        )
        cursor.execute(statement)
    for table, column, description in cursor.execute(
        load_query("postgres_live_comments")
    ).fetchall():
        target: sql.Composable = sql.Identifier(f"{table}_staging")
        if column is not None:
            target = sql.SQL("{}.{}").format(target, sql.Identifier(column))
        kind = sql.SQL("table" if column is None else "column")
        cursor.execute(
            sql.SQL("comment on {} {} is {}").format(kind, target, sql.Literal(description))
        )


# DuckDB


def _load_duckdb(
    output: SessionizeOutput, database: Database, started: float, step: _Steps
) -> tuple[int, int, int]:
    import duckdb

    with step("connect"):
        connection = connect_duckdb(database)
    try:
        with ctrl_c_as_keyboard_interrupt():
            with step("prepare"):
                connection.begin()
                for name in ("duckdb_drop_events", "duckdb_drop_sessions", *DUCKDB_TABLES):
                    connection.execute(load_query(name))
            with step("insert sessions"):
                sessions = _inserted(connection, "duckdb_insert_sessions", output.sessions)
            with step("insert events"):
                events = _inserted(connection, "duckdb_insert_events", output.events)
            run = _load_run(output.summary, sessions, events, started)
            inserted = connection.execute(load_query("insert_load_run"), astuple(run)).fetchone()
            with step("commit"), _signals_deferred():
                connection.commit()
    except duckdb.Error as error:
        raise XccError(
            f"loading into {database.display} failed, its data is unchanged: {duckdb_reason(error)}"
        ) from None
    finally:
        connection.close()  # without a commit, closing rolls the transaction back
    return _run_id(inserted), sessions, events


#: What stops the command line: Ctrl+C, and SIGTERM (`cli.main` makes it an exception).
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Ctrl+C and SIGTERM wait for the block to end, then take effect as usual. DuckDB's
    commit, interrupted, could still land and then report a failure; deferred, it lands and
    the program stops after it."""
    if threading.current_thread() is not threading.main_thread():  # no signals there
        yield
        return
    received: list[int] = []
    previous = {
        stop: signal.signal(stop, lambda number, _frame: received.append(number))
        for stop in _STOP_SIGNALS
    }
    try:
        yield
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)
    for number in dict.fromkeys(received):
        signal.raise_signal(number)


def _inserted(connection: duckdb.DuckDBPyConnection, name: str, path: Path) -> int:
    row = connection.execute(load_query(name), [str(path)]).fetchone()
    assert row is not None
    return int(row[0])
