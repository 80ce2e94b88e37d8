"""Opening a connection to either engine, with failures turned into one clear line.

Errors from psycopg and DuckDB can span lines and, for a malformed URL, may echo parts of it;
the messages built here are single lines that name the database by `Database.display` and never
contain the password.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg.conninfo import conninfo_to_dict

from xcc_sessions.database import Database
from xcc_sessions.errors import XccError

if TYPE_CHECKING:
    # Imported where used, so that PostgreSQL loads do not pay for importing DuckDB.
    import duckdb

#: Seconds to wait for a PostgreSQL server before saying it is unreachable.
CONNECT_TIMEOUT = 10

#: Seconds to wait for another process to let go of a DuckDB file.
LOCK_WAIT = 5.0

#: What every DuckDB database file holds at bytes 8-11, after its header's checksum.
DUCKDB_MAGIC = b"DUCK"

PostgresConnection = psycopg.Connection[tuple[object, ...]]


def connect_postgres(database: Database) -> PostgresConnection:
    """A connection in a transaction (not autocommit) whose cursors take `$1` placeholders."""
    try:
        return psycopg.connect(
            database.location,
            connect_timeout=CONNECT_TIMEOUT,
            cursor_factory=psycopg.RawCursor,
            fallback_application_name="xcc-sessions",
        )
    except psycopg.Error as error:
        raise XccError(
            f"cannot connect to {database.display}: {postgres_reason(error, database)}"
        ) from None


def postgres_reason(error: BaseException, database: Database) -> str:
    """The gist of a psycopg error on one line, without the URL's password."""
    text = " ".join(str(error).split())
    text = text.removeprefix("connection failed: ").removeprefix("connection is bad: ")
    text = re.sub(r'^connection to server at "[^"]*", port \d+ failed: ', "", text)
    text = text.replace("FATAL: ", "").strip()
    return redact(text or type(error).__name__, database)


def connect_duckdb(
    database: Database, *, wait: float = LOCK_WAIT, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """A read-write connection to the DuckDB file, creating it and its folder if need be; or,
    `read_only`, a connection to the existing file that cannot change it.

    Only one process at a time may open the file for writing, and readers (the API server)
    hold it for a moment at a time, so a file in use is tried again for up to `wait` seconds.
    """
    import duckdb

    path = Path(database.location)
    if not_a_duckdb_file(path):
        raise XccError(
            f"{database.display} is not a DuckDB database file: give a DuckDB file, or a path "
            "where one may be created"
        )
    deadline = time.monotonic() + wait
    while True:
        try:
            if not read_only:
                path.parent.mkdir(parents=True, exist_ok=True)
            connection = duckdb.connect(path, read_only=read_only)
            break
        except (FileExistsError, NotADirectoryError) as error:
            in_the_way = [folder for folder in reversed(path.parents) if folder.is_file()]
            reason = f"{in_the_way[0]} is a file" if in_the_way else error.strerror
            raise XccError(f"cannot create the folder {path.parent}: {reason}") from None
        except OSError as error:
            raise XccError(f"cannot create {path.parent}: {error.strerror or error}") from None
        except duckdb.Error as error:
            if "Conflicting lock" in str(error) and time.monotonic() < deadline:
                time.sleep(0.1)
                continue
            raise XccError(f"cannot open {database.display}: {duckdb_reason(error)}") from None
    # DuckDB draws a progress bar on stdout for long statements; stdout is for results.
    connection.execute("set enable_progress_bar = false")
    return connection


@contextmanager
def ctrl_c_as_keyboard_interrupt() -> Iterator[None]:
    """DuckDB answers Ctrl+C (and SIGTERM) in a statement with RuntimeError("Query
    interrupted"): raise the KeyboardInterrupt that the command line ends on, with exit 130."""
    try:
        yield
    except RuntimeError as error:
        if "interrupted" not in str(error):
            raise
        raise KeyboardInterrupt from None


def not_a_duckdb_file(path: Path) -> bool:
    """Whether `path` is a file with content that is no DuckDB database (an events file given
    by mistake, say): DuckDB may still open some such files, and fail later in a baffling way."""
    try:
        with path.open("rb") as file:
            header = file.read(len(DUCKDB_MAGIC) + 8)
    except OSError:  # missing, a directory, unreadable: DuckDB says what is wrong
        return False
    return bool(header) and header[8:] != DUCKDB_MAGIC


def duckdb_reason(error: duckdb.Error) -> str:
    """The gist of a DuckDB error on one line; a lock held elsewhere names the process."""
    text = " ".join(str(error).split())
    holder = re.search(r"Conflicting lock is held in (.*?) \(PID (\d+)\)", text)
    if holder:
        program, pid = holder.groups()
        return (
            f"the file is in use by another process ({Path(program).name}, PID {pid}); "
            "stop it (an API server started with this database, say) and try again"
        )
    return re.sub(r"^[A-Za-z ]*Error: ", "", text)


def redact(text: str, database: Database) -> str:
    """`text` with the database password, raw or URL-encoded, replaced by ***."""
    if database.engine != "postgresql":
        return text
    try:
        password = conninfo_to_dict(database.location).get("password")
    except psycopg.Error:
        password = None
    raw = re.search(r"://[^/@:]*:([^@/]*)@", database.location)
    for secret in {str(password or ""), raw.group(1) if raw else ""} - {""}:
        text = text.replace(secret, "***")
    return text
