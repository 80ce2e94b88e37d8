"""Ad-hoc SQL for analysts, on either engine, read-only: the library side of `xcc-sessions query`.

An analyst on the embedded DuckDB default has no database client installed; this runs their
query with the engines the tool already has. The connection is read-only on both engines, so a
query cannot change the loaded tables, and a DuckDB file is held only while the query runs (a
reader holding it would block the next load). The result is written as text by the standard
library, which prints any value either engine returns (an interval, a uuid, an array, NaN).
CSV and JSON are written as the rows are fetched, so that a result larger than memory can be
exported (on PostgreSQL from a cursor on the server); the table needs every row first, to align
its columns.
"""

from __future__ import annotations

import csv
import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import psycopg

from xcc_sessions.connections import (
    connect_duckdb,
    connect_postgres,
    duckdb_reason,
    postgres_reason,
)
from xcc_sessions.database import Database
from xcc_sessions.errors import XccError

if TYPE_CHECKING:
    # Imported where used, so that a PostgreSQL query does not pay for importing DuckDB.
    import duckdb

__all__ = ["QueryResult", "read_query", "run_query", "write_csv", "write_json"]

T = TypeVar("T")
Consume = Callable[[list[str], Iterator[tuple[Any, ...]]], T]
_EMPTY_QUERY = psycopg.pq.ExecStatus.EMPTY_QUERY  # text with no statement: only a comment, say
_BATCH = 10_000  # rows made Python objects at a time: what a streamed result holds of them


@dataclass(frozen=True)
class QueryResult:
    """A query's column names (made unique: count, count_2) and rows, as the engine typed them."""

    columns: list[str]
    rows: list[tuple[Any, ...]]

    def as_table(self) -> str:
        """Aligned columns as psql prints them, numbers to the right, then the row count."""
        cells = [[_cell(value) for value in row] for row in self.rows]
        widths = [
            max([_width(name), *(_width(row[index]) for row in cells)])
            for index, name in enumerate(self.columns)
        ]
        numeric = [
            bool(self.rows) and all(_is_number(row[index]) for row in self.rows)
            for index in range(len(self.columns))
        ]

        def line(values: list[str]) -> str:
            return " | ".join(
                _pad(value, width, right)
                for value, width, right in zip(values, widths, numeric, strict=True)
            ).rstrip()

        rule = "-+-".join("-" * width for width in widths)
        count = f"({len(self.rows)} row{'' if len(self.rows) == 1 else 's'})"
        return "\n".join([line(self.columns), rule, *map(line, cells), count])


def write_csv(columns: list[str], rows: Iterable[tuple[Any, ...]], out: TextIO) -> None:
    """A header and a line per row; NULL is an empty field."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_text(value) for value in row] for row in rows)


def write_json(columns: list[str], rows: Iterable[tuple[Any, ...]], out: TextIO) -> None:
    """An array of objects, one per row: times in ISO 8601, intervals in seconds, numbers as
    numbers (NaN and infinities as null, which JSON lacks). The text of one `json.dumps` of the
    whole array, written an object at a time."""
    separator, remaining = "[", iter(rows)
    # A batch to each json.dumps: one call per row took a tenth longer.
    while batch := list(islice(remaining, _BATCH)):
        records = [dict(zip(columns, map(_plain, row), strict=True)) for row in batch]
        out.write(separator + json.dumps(records, ensure_ascii=False)[1:-1])
        separator = ", "
    out.write("[]" if separator == "[" else "]")


def read_query(database: Database, sql: str) -> QueryResult:
    """The result of one SQL statement, run in a read-only connection to `database`.

    A missing DuckDB file, an unreachable server, a statement that fails, and text that holds
    no statement or several raise `XccError`.
    """
    return run_query(database, sql, lambda columns, rows: QueryResult(columns, list(rows)))


def run_query(database: Database, sql: str, consume: Consume[T]) -> T:
    """`consume(columns, rows)` for one SQL statement, run as `read_query` runs it, while its
    connection is open. `rows` fetches a batch at a time, so that `consume` can write a result
    larger than memory as it goes (`write_csv`, `write_json`). Raises as `read_query` does."""
    if database.engine == "duckdb":
        return _run_duckdb(database, sql, consume)
    return _run_postgres(database, sql, consume)


def _run_duckdb(database: Database, sql: str, consume: Consume[T]) -> T:
    import duckdb

    if not Path(database.location).is_file():
        raise XccError(
            f"no DuckDB database at {database.display}: load one first (xcc-sessions run, "
            "or sessionize then load), or name another with --database"
        )
    connection = connect_duckdb(database, read_only=True)

    def execute() -> list[str]:
        _check_one_statement(len(connection.extract_statements(sql)))
        connection.execute(sql)
        return [column[0] for column in connection.description or []]

    try:
        names = _interruptible(connection, execute)
        rows = _in_batches(lambda: _interruptible(connection, lambda: connection.fetchmany(_BATCH)))
        return consume(_unique(names), rows if names else iter([]))
    except duckdb.Error as error:
        raise XccError(f"the query failed: {_without_excerpt(duckdb_reason(error))}") from None
    finally:
        connection.close()


def _interruptible(connection: duckdb.DuckDBPyConnection, run: Callable[[], T]) -> T:
    """`run()`, DuckDB work, in a thread of its own while this one waits for it: DuckDB notices
    Ctrl+C only between chunks of a result, so a long aggregation ran on; a waiting thread
    takes the signal at once and interrupts DuckDB."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        done = worker.submit(run)
        try:
            return done.result()
        except BaseException:  # Ctrl+C, or SIGTERM as cli.main raises it
            while not done.done():  # a second signal (`uv run` passes one on) must not cut this
                try:
                    connection.interrupt()
                    done.exception()
                except BaseException:
                    continue
            raise


def _run_postgres(database: Database, sql: str, consume: Consume[T]) -> T:
    if not sql.strip():
        _check_one_statement(0)
    with connect_postgres(database) as connection:
        connection.read_only = True
        try:
            cursor = _declared_cursor(connection, sql)
            if cursor is None:
                return _consume_prepared(connection, sql, consume)
            with cursor:
                return _consume_server_cursor(cursor, consume)
        except psycopg.Error as error:
            if "cannot insert multiple commands" in str(error):
                _check_one_statement(2)
            reason = _without_excerpt(postgres_reason(error, database))
            raise XccError(f"the query failed: {reason}") from None


def _declared_cursor(
    connection: psycopg.Connection[Any], sql: str
) -> psycopg.ServerCursor[Any] | None:
    """A cursor on the server for `sql`, or None where it cannot be one.

    A cursor's text is one statement, as the extended protocol takes it ("select 1; delete ..."
    is refused), and a query only (select, values, with). Declaring it runs nothing, so where
    it cannot be a cursor (explain or show: a syntax error; a data-modifying with: not
    supported) the text is run once, as `_consume_prepared` runs it, which also reports a real
    syntax error in its own words. Any other error (a lock wait timed out, a lost connection)
    is the query's, not tried again.
    """
    # A cursor is planned for its first rows by default; plan it for all, as a plain query is.
    connection.execute("set local cursor_tuple_fraction = 1")
    cursor = connection.cursor(name="xcc_query")
    try:
        cursor.execute(sql)
    except psycopg.Error as error:
        cursor.close()
        if not isinstance(error, psycopg.errors.SyntaxError | psycopg.errors.FeatureNotSupported):
            raise
        connection.rollback()
        return None
    return cursor


def _consume_server_cursor(cursor: psycopg.ServerCursor[Any], consume: Consume[T]) -> T:
    """`consume` of a declared query's rows, fetched a batch at a time, so that neither side
    holds a large result whole (an error part-way is the query's: it is not run again)."""
    names = [column.name for column in cursor.description or []]
    return consume(_unique(names), _in_batches(lambda: cursor.fetchmany(_BATCH)))


def _consume_prepared(connection: psycopg.Connection[Any], sql: str, consume: Consume[T]) -> T:
    """`consume` of any statement's result, run as one prepared statement: unprepared, "commit;
    delete ..." would end the read-only transaction and run the rest."""
    cursor = connection.execute(sql, prepare=True)
    if cursor.pgresult is not None and cursor.pgresult.status == _EMPTY_QUERY:
        _check_one_statement(0)
    names = [column.name for column in cursor.description or []]
    # libpq holds the whole result, compactly; psycopg makes Python objects of a batch at a time.
    rows = _in_batches(lambda: cursor.fetchmany(_BATCH))
    return consume(_unique(names), rows if names else iter([]))


def _in_batches(fetch: Callable[[], list[tuple[Any, ...]]]) -> Iterator[tuple[Any, ...]]:
    """Every row of a result, `fetch`ed a batch at a time: one batch is Python objects at once."""
    while batch := fetch():
        yield from batch


def _check_one_statement(count: int) -> None:
    if count != 1:
        found = "none" if count == 0 else "several"
        raise XccError(f"give one SQL statement (found {found})")


def _without_excerpt(reason: str) -> str:
    """`reason` without the engines' "LINE 1: <the query> ^" excerpt: a caret that pointed at a
    column in a multi-line message points nowhere once it is one line."""
    return re.sub(r"\s*LINE \d+:.*$", "", reason)


def _unique(names: list[str]) -> list[str]:
    """`names` with each repeat suffixed by the first free count: count, count_2, count_3 (a
    name already taken, as a_2 in a_2, a, a, is skipped: a, a_3)."""
    taken = set(names)
    seen: Counter[str] = Counter()
    unique = []
    for name in names:
        seen[name] += 1
        if seen[name] == 1:
            unique.append(name)
            continue
        while f"{name}_{seen[name]}" in taken:
            seen[name] += 1
        unique.append(f"{name}_{seen[name]}")
        taken.add(unique[-1])
    return unique


def _is_number(value: Any) -> bool:
    return value is None or (
        isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    )


def _text(value: Any) -> str:
    """A value as a CSV field or table cell: NULL empty, as in JSON otherwise (times in ISO
    8601, intervals in seconds) but decimals exact and without exponents."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict | list | tuple):
        return json.dumps(_plain(value), ensure_ascii=False)
    plain = _plain(value)
    if isinstance(plain, bool):
        return "true" if plain else "false"
    return str(value) if plain is None else str(plain)  # NaN and infinities as Python writes them


def _cell(value: Any) -> str:
    """A value as a table cell: on one line, its control characters escaped as in Python."""
    text = _text(value)
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def _width(text: str) -> int:
    """Columns `text` takes on a terminal: wide (East Asian) characters two, combining none."""
    return sum(
        0 if unicodedata.combining(char) else 2 if unicodedata.east_asian_width(char) in "WF" else 1
        for char in text
    )


def _pad(text: str, width: int, right: bool) -> str:
    padding = " " * (width - _width(text))
    return padding + text if right else text + padding


def _plain(value: Any) -> Any:
    """A value as JSON can hold it."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float | Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return f"\\x{bytes(value).hex()}"
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return str(value)
