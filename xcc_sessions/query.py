"""Ad-hoc SQL for analysts, on either engine, read-only: the library side of `xcc-sessions query`.

An analyst on the embedded DuckDB default has no database client installed; this runs their
query with the engines the tool already has. The connection is read-only on both engines, so a
query can never change the loaded data, and a DuckDB file is held only while the query runs
(a reader holding it would block the next load).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import duckdb
import polars as pl
import psycopg

from xcc_sessions.connections import (
    connect_duckdb,
    connect_postgres,
    duckdb_reason,
    postgres_reason,
)
from xcc_sessions.database import Database
from xcc_sessions.errors import XccError

__all__ = ["read_query"]


def read_query(database: Database, sql: str) -> pl.DataFrame:
    """The result of one SQL statement, run in a read-only connection to `database`.

    Values keep the engine's types (PostgreSQL's `avg` is numeric, DuckDB's a double). Columns
    that share a name (PostgreSQL calls both of `count(*), count(x)` "count") get `_2`, `_3`.
    A missing DuckDB file, an unreachable server or a failing statement raise `XccError`.
    """
    if not sql.strip():
        raise XccError("the query is empty: give a SQL statement, or - to read one from stdin")
    if database.engine == "duckdb":
        return _read_duckdb(database, sql)
    return _read_postgres(database, sql)


def _read_duckdb(database: Database, sql: str) -> pl.DataFrame:
    if not Path(database.location).is_file():
        raise XccError(
            f"no DuckDB database at {database.display}: load one first (xcc-sessions run, "
            "or sessionize then load), or name another with --database"
        )
    connection = connect_duckdb(database, read_only=True)
    try:
        result = connection.execute(sql)
        if result.description is None:
            return pl.DataFrame()
        names = _unique([column[0] for column in result.description])
        return pl.DataFrame(result.fetchall(), schema=names, orient="row", infer_schema_length=None)
    except duckdb.Error as error:
        raise XccError(f"the query failed: {_without_excerpt(duckdb_reason(error))}") from None
    finally:
        connection.close()


def _read_postgres(database: Database, sql: str) -> pl.DataFrame:
    with connect_postgres(database) as connection:
        connection.read_only = True
        try:
            # As bytes: psycopg types a str query as a literal of the program's own.
            cursor = connection.execute(sql.encode())
        except psycopg.Error as error:
            reason = _without_excerpt(postgres_reason(error, database))
            raise XccError(f"the query failed: {reason}") from None
        if cursor.description is None:
            return pl.DataFrame()
        names = _unique([column.name for column in cursor.description])
        return pl.DataFrame(cursor.fetchall(), schema=names, orient="row", infer_schema_length=None)


def _without_excerpt(reason: str) -> str:
    """`reason` without the engines' "LINE 1: <the query> ^" excerpt: a caret that pointed at a
    column in a multi-line message points nowhere once it is one line."""
    return re.sub(r"\s*LINE \d+:.*$", "", reason)


def _unique(names: list[str]) -> list[str]:
    """`names` with each repeat suffixed by its count: count, count_2, count_3."""
    seen: Counter[str] = Counter()
    unique = []
    for name in names:
        seen[name] += 1
        unique.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return unique
