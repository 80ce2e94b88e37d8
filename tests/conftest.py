"""Shared fixtures: a real PostgreSQL schema per test, and both engines side by side.

PostgreSQL comes from DATABASE_URL (default: the local server on 127.0.0.1:5432, database test).
Each test gets a schema of its own, named in the URL's search_path, and dropped afterwards, so
tests never see each other's tables. Where no server answers, PostgreSQL cases skip with the
reason, unless XCC_REQUIRE_POSTGRES=1 (set by .ci/run), where they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from xcc_sessions.database import Database

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _server_url() -> str:
    url = os.environ.get("DATABASE_URL", DEFAULT_POSTGRES_URL)
    return url if url.startswith(("postgresql://", "postgres://")) else DEFAULT_POSTGRES_URL


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh, empty schema of this test's own."""
    server_url = _server_url()
    try:
        admin = psycopg.connect(server_url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        reason = f"PostgreSQL at {server_url} is not reachable: {error}".strip()
        if os.environ.get("XCC_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"XCC_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    schema = f"xcc_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f"create schema {schema}")
        separator = "&" if "?" in server_url else "?"
        yield f"{server_url}{separator}options={quote(f'-csearch_path={schema}')}"
        admin.execute(f"drop schema {schema} cascade")


@pytest.fixture(params=["duckdb", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """Each engine in turn: a DuckDB file in tmp_path, then a fresh PostgreSQL schema."""
    if request.param == "duckdb":
        return Database("duckdb", str(tmp_path / "xcc-sessions.duckdb"))
    url: str = request.getfixturevalue("postgres_url")
    return Database("postgresql", url)
