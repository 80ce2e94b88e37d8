"""Which database a command talks to: PostgreSQL by URL, or an embedded DuckDB file.

`resolve_database(None)` reads DATABASE_URL and falls back to the DuckDB default, so every
command picks its database the same way. Use `Database.display` in anything a user reads: it
never shows the password.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from xcc_sessions.errors import UsageError

DEFAULT_DUCKDB_PATH = Path("data/xcc-sessions.duckdb")

Engine = Literal["duckdb", "postgresql"]

#: A URL's scheme as RFC 3986 spells it, then ":". Two characters at least: "C:" is a drive.
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+):")


@dataclass(frozen=True)
class Database:
    """A database target. `location` is the full URL for PostgreSQL, a file path for DuckDB."""

    engine: Engine
    location: str

    @property
    def display(self) -> str:
        """The location fit to print: a PostgreSQL URL with its password masked."""
        if self.engine == "duckdb":
            return self.location
        return redact_url(self.location)


def resolve_database(url: str | None = None) -> Database:
    """The database named by `url`, else by DATABASE_URL, else the DuckDB default.

    A postgresql:// or postgres:// URL selects PostgreSQL. Anything else is a DuckDB file:
    `duckdb:///relative/path`, `duckdb:////absolute/path` (the SQLAlchemy convention) or a plain
    path. Anything else that starts like a URL (mysql://, a misspelt postgresql://, a host:port
    without its scheme) raises `UsageError`: taken as a path, it would become folders named after
    it, and DuckDB would look for an extension of that name to download.
    """
    chosen = url or os.environ.get("DATABASE_URL") or str(DEFAULT_DUCKDB_PATH)
    match = _SCHEME.match(chosen)
    scheme = match.group(1).lower() if match and chosen.startswith("//", match.end()) else ""
    if scheme in ("postgresql", "postgres"):
        return Database("postgresql", chosen)
    if scheme == "duckdb":
        return Database("duckdb", chosen.split("://", 1)[1].removeprefix("/"))
    if match:
        raise UsageError(
            f"unsupported database URL {redact_url(chosen)}: give postgresql://user:password@"
            "host:port/name, or a DuckDB file (a path, duckdb:///relative/path or "
            "duckdb:////absolute/path)"
        )
    return Database("duckdb", chosen)


def redact_url(url: str) -> str:
    """`url` with any password replaced by ***, in its user part or as a `password=` parameter
    (libpq takes both)."""
    url = _PASSWORD_PARAMETER.sub(r"\1***", url)
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


_PASSWORD_PARAMETER = re.compile(r"(?i)([?&](?:ssl)?password=)[^&#]*")
