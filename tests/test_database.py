"""Choosing the database from a URL, DATABASE_URL or the default, and never showing a password."""

from __future__ import annotations

import pytest

from xcc_sessions.database import DEFAULT_DUCKDB_PATH, Database, resolve_database
from xcc_sessions.errors import UsageError


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@db:5432/shop", Database("postgresql", "postgresql://u:p@db:5432/shop")),
        ("postgres://db/shop", Database("postgresql", "postgres://db/shop")),
        ("duckdb:///data/shop.duckdb", Database("duckdb", "data/shop.duckdb")),
        ("duckdb:////srv/shop.duckdb", Database("duckdb", "/srv/shop.duckdb")),
        ("shop.duckdb", Database("duckdb", "shop.duckdb")),
        (r"C:\data\shop.duckdb", Database("duckdb", r"C:\data\shop.duckdb")),
    ],
)
def test_url_selects_engine_and_location(url: str, expected: Database) -> None:
    assert resolve_database(url) == expected


def test_environment_variable_is_used_when_no_url_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/shop")

    assert resolve_database(None).engine == "postgresql"


def test_embedded_duckdb_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)

    assert resolve_database(None) == Database("duckdb", str(DEFAULT_DUCKDB_PATH))


def test_display_masks_the_password() -> None:
    database = resolve_database("postgresql://analyst:s3cret@db:5432/shop")

    assert database.display == "postgresql://analyst:***@db:5432/shop"


def test_display_masks_a_password_given_as_a_parameter() -> None:
    database = resolve_database("postgresql:///shop?host=db&password=s3cret&sslpassword=k3y")

    assert database.display == "postgresql:///shop?host=db&password=***&sslpassword=***"


@pytest.mark.parametrize(
    "url", ["mysql://analyst:s3cret@db/shop", "postgresq://analyst:s3cret@db/shop"]
)
def test_a_url_of_another_scheme_is_a_usage_error_without_the_password(url: str) -> None:
    with pytest.raises(UsageError) as raised:
        resolve_database(url)

    assert str(raised.value).startswith(
        f"unsupported database URL {url.split(':')[0]}://analyst:***@db/shop: give postgresql://"
    )


@pytest.mark.parametrize("url", ["localhost:5432/shop", "md:shop", "duckdb:shop.duckdb"])
def test_a_url_without_its_slashes_is_a_usage_error(url: str) -> None:
    with pytest.raises(UsageError, match=f"^unsupported database URL {url}: give postgresql://"):
        resolve_database(url)
