"""Read-only access to the loaded tables for the API: run queries/ statements, cache the results.

A result stays cached until the next load lands: every request first reads the latest load_run
(cheaply: one indexed row on PostgreSQL; a stat() of the file on DuckDB) and a result computed
for an older run is computed again. The two engines differ in how they are reached:

- PostgreSQL: a connection pool whose connections are checked before use, so the server comes
  back by itself after the database restarts.
- DuckDB: a file only one process may write. A reader holding it open would block `load`, so a
  read-only connection is opened only when the file has changed, and closed at once. While a
  load holds the file, the results of the previous load keep being served.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, TypeVar, cast

import duckdb
import psycopg
import psycopg.errors
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout
from starlette.concurrency import run_in_threadpool

from xcc_sessions.connections import not_a_duckdb_file
from xcc_sessions.database import Database
from xcc_sessions.errors import XccError
from xcc_sessions.sql import load_query

Row = dict[str, Any]
Params = tuple[object, ...]
T = TypeVar("T")
#: Turns a query's rows into what is cached and served, e.g. a JSON body; a plain function.
Shape = Callable[[list[Row]], T]
Version = tuple[object, ...]

#: How many distinct (query, parameters) results are kept for the current load.
CACHE_ENTRIES = 256


class DatabaseUnavailableError(XccError):
    """The database cannot answer now: missing, never loaded, unreachable or busy (HTTP 503)."""


class Reader(ABC):
    """Runs the statements in queries/ and caches each result until the next load_run lands.

    `query` and `latest_load_run` serve scripts and tests. The server uses their `fresh_`
    counterparts, which share database looks among concurrent requests and keep the event loop
    free: a cached answer costs no thread and, under load, a fraction of one small query.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self._cache: dict[tuple[str, Params, Shape[Any]], tuple[Version, Any]] = {}
        self._compute = threading.Lock()
        self._freshness = SharedLook(self._look_up_latest_load_run)

    @abstractmethod
    def open(self) -> None:
        """Start connecting; the database need not be up yet."""

    @abstractmethod
    def close(self) -> None:
        """Release every connection."""

    def __enter__(self) -> Reader:
        self.open()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def latest_load_run(self) -> Row:
        """The latest load_runs row; `DatabaseUnavailableError` when there is none yet."""
        return self._look_up_latest_load_run()

    def query(self, name: str, params: Sequence[object] = ()) -> list[Row]:
        """The rows of queries/NAME.sql, computed once per load and parameter values."""
        version = load_version(self.latest_load_run())
        return self._result(version, name, tuple(params), rows_as_they_are)

    async def fresh_load_run(self) -> Row:
        """`latest_load_run`, as of a look begun after this call (shared with concurrent calls)."""
        return await self._freshness.get()

    async def fresh_result(self, name: str, params: Sequence[object], shape: Shape[T]) -> T:
        """`shape(rows)` of queries/NAME.sql, cached until the next load lands."""
        version = load_version(await self.fresh_load_run())
        key = (name, tuple(params), shape)
        cached = self._cache.get(key)
        if cached is not None and cached[0] == version:
            return cast(T, cached[1])
        return await run_in_threadpool(self._result, version, name, tuple(params), shape)

    def _result(self, version: Version, name: str, params: Params, shape: Shape[T]) -> T:
        key = (name, params, shape)
        # One computation at a time: concurrent misses for the same result wait for the first
        # instead of all running the same heavy query.
        with self._compute:
            cached = self._cache.get(key)
            if cached is not None and cached[0] == version:
                return cast(T, cached[1])
            with self._session() as session:
                value = shape(self._execute(session, name, params))
            stale = [old for old, (old_version, _) in self._cache.items() if old_version != version]
            for old in stale:
                del self._cache[old]
            if len(self._cache) >= CACHE_ENTRIES:
                del self._cache[next(iter(self._cache))]
            self._cache[key] = (version, value)
            return value

    def _not_loaded(self) -> DatabaseUnavailableError:
        return DatabaseUnavailableError(
            f"no load has finished in {self.database.display} yet: "
            "run `xcc-sessions run` or `xcc-sessions load` first"
        )

    @abstractmethod
    def _session(self) -> AbstractContextManager[Any]:
        """An engine-specific handle for the duration of one request."""

    @abstractmethod
    def _look_up_latest_load_run(self) -> Row:
        """Read the latest load_runs row now, or raise `DatabaseUnavailableError`."""

    @abstractmethod
    def _execute(self, session: Any, name: str, params: Params) -> list[Row]:
        """Run queries/NAME.sql uncached."""


#: How often the pool may say the same thing in the log (see `OncePerInterval`).
POOL_LOG_INTERVAL = 60.0


class OncePerInterval(logging.Filter):
    """Lets each distinct message through at most once per `interval` seconds.

    The pool retries an unreachable server every second or two and logs every failure; the API's
    503 answers already say what is wrong, so the log needs to hear of it once in a while only.
    """

    def __init__(self, interval: float) -> None:
        super().__init__()
        self.interval = interval
        self._passed: dict[str, float] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        message, now = record.getMessage(), time.monotonic()
        with self._lock:
            if now - self._passed.get(message, -math.inf) < self.interval:
                return False
            if len(self._passed) > 100:  # messages name hosts and ports: keep the memory bounded
                self._passed.clear()
            self._passed[message] = now
            return True


_POOL_LOGGER = logging.getLogger("psycopg.pool")
_POOL_LOGGER.addFilter(OncePerInterval(POOL_LOG_INTERVAL))


class PostgresReader(Reader):
    """A pool of checked connections: a restarted or briefly unreachable server heals itself."""

    def __init__(self, database: Database, *, timeout: float = 3.0, max_size: int = 8) -> None:
        super().__init__(database)
        self._pool = ConnectionPool(
            database.location,
            min_size=1,
            max_size=max_size,
            open=False,
            timeout=timeout,
            check=ConnectionPool.check_connection,
            # A short reconnect window: a failed attempt gives up soon and the next request
            # starts a fresh one, so recovery does not wait for a long exponential backoff.
            reconnect_timeout=10.0,
            kwargs={"autocommit": True, "connect_timeout": max(2, round(timeout))},
            name="xcc-sessions",
        )

    def open(self) -> None:
        self._pool.open(wait=False)

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def _session(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            with self._pool.connection() as connection:
                yield connection
        except (PoolTimeout, psycopg.OperationalError) as error:
            # Down, refusing these credentials, or without this database: the pool logs which
            # (once a minute); the answer must not guess.
            raise DatabaseUnavailableError(
                f"cannot connect to PostgreSQL at {self.database.display} (down, wrong "
                "credentials or no such database: the serve log says which); retrying"
            ) from error

    def _look_up_latest_load_run(self) -> Row:
        try:
            with self._session() as session:
                rows = self._execute(session, "latest_load_run", ())
        except psycopg.errors.UndefinedTable:
            rows = []
        if not rows:
            raise self._not_loaded()
        return rows[0]

    def _execute(self, session: psycopg.Connection[Any], name: str, params: Params) -> list[Row]:
        # RawCursor takes the $1-style placeholders the .sql files share with DuckDB.
        with psycopg.RawCursor(session, row_factory=dict_row) as cursor:
            cursor.execute(load_query(name), params)
            return cursor.fetchall()


class DuckDBReader(Reader):
    """Short read-only connections, opened only when the file has changed since the last look."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self._seen: tuple[tuple[int, ...], Row] | None = None

    def open(self) -> None:
        """Nothing to open ahead: a connection lives only as long as one request needs it."""

    def close(self) -> None:
        """Nothing to close: no connection outlives its request."""

    @contextmanager
    def _session(self) -> Iterator[_DuckDBSession]:
        session = _DuckDBSession(self.database.location)
        try:
            yield session
        finally:
            session.close()

    def _look_up_latest_load_run(self) -> Row:
        stamp = self._file_stamp()
        seen = self._seen
        if seen is not None and seen[0] == stamp:
            return seen[1]
        if not_a_duckdb_file(Path(self.database.location)):
            raise DatabaseUnavailableError(
                f"{self.database.display} is not a DuckDB database file: serve one that "
                "`xcc-sessions load` wrote"
            )
        try:
            with self._session() as session:
                rows = self._rows(session, "latest_load_run", ())
        except _FileBusyError:
            if seen is not None:
                return seen[1]
            raise self._busy() from None
        except duckdb.CatalogException:
            rows = []
        if not rows:
            raise self._not_loaded()
        self._seen = (stamp, rows[0])
        return rows[0]

    def _execute(self, session: _DuckDBSession, name: str, params: Params) -> list[Row]:
        try:
            return self._rows(session, name, params)
        except _FileBusyError:
            raise self._busy() from None

    def _busy(self) -> DatabaseUnavailableError:
        return DatabaseUnavailableError(
            f"{self.database.display} is being written by another process "
            "(a load in progress?); try again in a moment"
        )

    @staticmethod
    def _rows(session: _DuckDBSession, name: str, params: Params) -> list[Row]:
        cursor = session.connection().execute(load_query(name), params)
        columns = [column[0] for column in cursor.description or ()]
        return [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]

    def _file_stamp(self) -> tuple[int, ...]:
        """What changes whenever the file is written: inode, size and mtime, with its WAL's."""
        path = Path(self.database.location)
        try:
            main = path.stat()
        except FileNotFoundError:
            raise DatabaseUnavailableError(
                f"no database at {path}: run `xcc-sessions run` or `xcc-sessions load` first"
            ) from None
        try:
            wal = path.with_name(f"{path.name}.wal").stat()
            wal_stamp = (wal.st_size, wal.st_mtime_ns)
        except FileNotFoundError:
            wal_stamp = (-1, -1)
        return (main.st_ino, main.st_size, main.st_mtime_ns, *wal_stamp)


class SharedLook(Generic[T]):
    """Runs a blocking look-up in a thread for many callers; each gets a look begun after it asked.

    One look runs at a time. Callers arriving while it runs wait for the next one, which then
    answers all of them: under load the database sees one look per round trip instead of one
    per request, and still no caller gets an answer older than its own request (so a new load
    is seen by the very next request). Lives on one event loop; callers must not be threads.
    """

    def __init__(self, look: Callable[[], T]) -> None:
        self._look = look
        self._running: asyncio.Task[T] | None = None
        self._next: asyncio.Task[T] | None = None

    async def get(self) -> T:
        if self._next is None:
            if self._running is None or self._running.done():
                self._running = asyncio.ensure_future(self._run())
                return await asyncio.shield(self._running)
            self._next = asyncio.ensure_future(self._after(self._running))
        # The next look has not begun yet: it will begin after this call, as it must.
        return await asyncio.shield(self._next)

    async def _after(self, previous: asyncio.Task[T]) -> T:
        await asyncio.wait([previous])
        self._running, self._next = self._next, None
        return await self._run()

    async def _run(self) -> T:
        return await run_in_threadpool(self._look)


def load_version(load_run: Row) -> Version:
    """What identifies a load: its run_id, and its time, since a recreated database counts again."""
    return (load_run["run_id"], load_run["loaded_at"])


def rows_as_they_are(rows: list[Row]) -> list[Row]:
    """The identity shape: a query's rows as dictionaries."""
    return rows


class _FileBusyError(Exception):
    """Another process holds the DuckDB file for writing."""


class _DuckDBSession:
    """A read-only connection opened on first use and closed with the session."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._connection: duckdb.DuckDBPyConnection | None = None

    def connection(self) -> duckdb.DuckDBPyConnection:
        if self._connection is None:
            try:
                self._connection = duckdb.connect(self._path, read_only=True)
            except duckdb.IOException as error:
                if "lock" in str(error).lower():
                    raise _FileBusyError from error
                raise DatabaseUnavailableError(
                    f"cannot open the DuckDB database {self._path}: {error}"
                ) from error
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def open_reader(database: Database, *, timeout: float = 3.0) -> Reader:
    """A reader for `database`'s engine, not yet opened (use it as a context manager).

    `timeout` bounds how long a request waits for an unreachable PostgreSQL before a 503.
    """
    if database.engine == "postgresql":
        return PostgresReader(database, timeout=timeout)
    return DuckDBReader(database)
