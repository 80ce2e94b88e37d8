"""The Dockerfile agrees with the package it builds and the server it runs.

Docker does not run on the project's machines, so these tests read the files: what the build
stage copies, the user, port and command of the image. tests/test_install.py runs the build
stage's steps for real.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from cli_lines import command_line_problems
from dockerfile import build_stage_copies, instructions

REPO = Path(__file__).resolve().parent.parent


def runtime(keyword: str) -> list[str]:
    """The arguments of every `keyword` instruction in the final (runtime) stage."""
    return [arguments for found, arguments in instructions(-1) if found == keyword]


def served_port() -> str:
    command = json.loads(runtime("CMD")[-1])
    return str(command[command.index("--port") + 1])


def test_image_runs_as_a_non_root_user() -> None:
    (user,) = runtime("USER")

    assert user.split(":")[0] not in ("root", "0")


def test_image_serves_the_api_on_every_interface() -> None:
    command = json.loads(runtime("CMD")[-1])

    # The port itself is the one EXPOSE and HEALTHCHECK must name (tests below).
    assert (command[:-1], command[-1].isdigit()) == (
        ["xcc-sessions", "serve", "--host", "0.0.0.0", "--port"],
        True,
    )


def test_image_exposes_the_port_it_serves_on() -> None:
    assert runtime("EXPOSE") == [served_port()]


def test_healthcheck_asks_the_served_port_for_health() -> None:
    (healthcheck,) = runtime("HEALTHCHECK")

    assert f"http://127.0.0.1:{served_port()}/health" in healthcheck


def test_build_stage_copies_everything_the_wheel_packs() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]
    needed = {project["project"]["readme"], "pyproject.toml", "uv.lock"}
    needed |= set(wheel["packages"]) | set(wheel.get("force-include", {}))

    assert needed <= set(build_stage_copies())


def test_dockerignore_keeps_what_the_build_copies() -> None:
    patterns = [
        line.strip().rstrip("/")
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]

    ignored = [
        path
        for path in build_stage_copies()
        for pattern in patterns
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern.removeprefix("**/"))
    ]

    assert ignored == []


def test_dockerfile_pins_the_uv_it_copies() -> None:
    (uv_copy,) = [
        arguments for keyword, arguments in instructions(0) if "astral-sh/uv" in arguments
    ]

    image = shlex.split(uv_copy)[0].removeprefix("--from=")
    assert image.rsplit(":", 1)[1][0].isdigit()


def compose_services() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    services: dict[str, Any] = compose["services"]
    return services


def env_example() -> dict[str, str]:
    lines = (REPO / ".env.example").read_text(encoding="utf-8").splitlines()
    pairs = (line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def interpolate(value: str) -> str:
    """A compose value as docker compose expands it with .env.example as the .env file."""
    env = env_example()
    return re.sub(
        r"\$\{(\w+)(?::-([^}]*))?\}", lambda match: env.get(match[1], match[2] or ""), value
    )


def test_app_service_is_built_from_this_dockerfile() -> None:
    assert compose_services()["app"]["build"] == "."


def test_app_starts_once_postgres_is_healthy() -> None:
    services = compose_services()

    assert services["app"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert "healthcheck" in services["postgres"]


def test_app_command_is_the_main_job_served_on_the_image_port() -> None:
    command = compose_services()["app"]["command"]

    assert command[:2] == ["xcc-sessions", "run"]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert command[command.index("--port") + 1] == served_port()
    assert command_line_problems(shlex.join(command)) == []


def test_app_publishes_the_port_it_serves_on() -> None:
    (mapping,) = compose_services()["app"]["ports"]

    assert mapping.rsplit(":", 1)[1] == served_port()


def test_app_database_url_reaches_the_postgres_service() -> None:
    services = compose_services()
    url = urlsplit(interpolate(services["app"]["environment"]["DATABASE_URL"]))
    server = {
        name: interpolate(value) for name, value in services["postgres"]["environment"].items()
    }

    assert (url.scheme, url.hostname, url.port, url.username, url.password, url.path) == (
        "postgresql",
        "postgres",
        5432,
        server["POSTGRES_USER"],
        server["POSTGRES_PASSWORD"],
        "/" + server["POSTGRES_DB"],
    )


def test_app_keeps_its_data_in_the_image_data_volume() -> None:
    (volume,) = compose_services()["app"]["volumes"]
    (declared,) = json.loads(runtime("VOLUME")[0])

    assert volume.split(":")[1] == declared


def test_readme_starts_the_containers_and_names_the_published_api_address() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    (mapping,) = compose_services()["app"]["ports"]
    host_port = mapping.split(":")[-2]

    assert "docker compose up --build" in readme
    assert f"http://localhost:{host_port}" in readme
