"""compose.yaml's PostgreSQL service agrees with .env.example and the README.

Docker does not run on the project's machines, so these tests read the files: the service must
use the official image pinned to a major version, check its health with pg_isready, keep its data
in a named volume, take its credentials from variables that .env.example sets (with the same
defaults), and the DATABASE_URL in .env.example and the README must reach it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CREDENTIALS = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}

#: `${NAME}`, `${NAME:-default}` or `${NAME:?message}` in a compose value.
VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?::(?P<kind>[-?])(?P<default>[^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def postgres(compose: dict[str, Any]) -> dict[str, Any]:
    service: dict[str, Any] = compose["services"]["postgres"]
    return service


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    pairs = (line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def interpolate(value: str, env: dict[str, str]) -> str:
    """A compose value as docker compose would expand it with `env` as the .env file."""
    return VARIABLE.sub(lambda match: env.get(match["name"], match["default"] or ""), value)


def test_uses_the_official_image_pinned_to_a_major_version(postgres: dict[str, Any]) -> None:
    assert re.fullmatch(r"postgres:\d+(-alpine|-bookworm|-trixie)?", postgres["image"])


def test_healthcheck_asks_pg_isready(postgres: dict[str, Any]) -> None:
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_data_lives_in_a_declared_named_volume(
    compose: dict[str, Any], postgres: dict[str, Any]
) -> None:
    sources = {mount.split(":", 1)[0] for mount in postgres["volumes"]}

    assert sources & set(compose["volumes"])


def test_credentials_come_from_variables_of_the_same_name(postgres: dict[str, Any]) -> None:
    variables = {
        name: VARIABLE.fullmatch(str(postgres["environment"][name])) for name in CREDENTIALS
    }

    assert {name: match["name"] if match else None for name, match in variables.items()} == {
        name: name for name in CREDENTIALS
    }


def test_env_example_sets_every_credential(env_example: dict[str, str]) -> None:
    assert set(env_example) >= CREDENTIALS


def test_defaults_are_the_values_of_env_example(
    postgres: dict[str, Any], env_example: dict[str, str]
) -> None:
    values = [*postgres["environment"].values(), *postgres["ports"]]

    assert [interpolate(str(value), {}) for value in values] == [
        interpolate(str(value), env_example) for value in values
    ]


def test_env_example_database_url_reaches_the_service(
    postgres: dict[str, Any], env_example: dict[str, str]
) -> None:
    url = urlsplit(env_example["DATABASE_URL"])
    environment = {
        name: interpolate(str(value), env_example)
        for name, value in postgres["environment"].items()
    }
    host_port = interpolate(postgres["ports"][0], env_example).rsplit(":", 2)

    assert (url.scheme, url.username, url.password, url.path, url.port, url.hostname) == (
        "postgresql",
        environment["POSTGRES_USER"],
        environment["POSTGRES_PASSWORD"],
        f"/{environment['POSTGRES_DB']}",
        int(host_port[1]),
        "localhost" if host_port[0] == "127.0.0.1" else host_port[0],
    )


def test_port_is_published_on_the_loopback_interface_only(postgres: dict[str, Any]) -> None:
    assert [port.split(":")[0] for port in postgres["ports"]] == ["127.0.0.1"]


def test_readme_documents_the_database_url(env_example: dict[str, str]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")

    assert f"DATABASE_URL={env_example['DATABASE_URL']}" in readme
