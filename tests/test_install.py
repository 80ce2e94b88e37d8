"""The built wheel works on its own, installed outside the checkout as `uv tool install` would.

The wheel is built the way the Dockerfile's build stage builds it: from a copy of only the paths
that stage copies, with the dependencies pinned by uv.lock. So a path the wheel needs but the
image leaves out, or a stale lock, fails here rather than in a user's `docker build`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from dockerfile import build_stage_copies
from servers import free_port, json_from_server

from xcc_sessions import __version__
from xcc_sessions.database import Database

REPO = Path(__file__).resolve().parent.parent


def copy_from_checkout(paths: list[str], target: Path) -> None:
    for path in paths:
        if (REPO / path).is_dir():
            shutil.copytree(
                REPO / path,
                target / path,
                ignore=shutil.ignore_patterns("__pycache__"),
                dirs_exist_ok=True,
            )
        else:
            shutil.copy2(REPO / path, target / path)


def _uv(*args: str, cwd: Path, env: dict[str, str] | None = None) -> None:
    # `uv run` tells its children where it is; otherwise look on PATH.
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.fail("these tests build the wheel with uv, which is not installed")
    completed = subprocess.run(
        [uv, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, f"uv {' '.join(args)} failed:\n{completed.stderr}"


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment outside the checkout with the wheel and the locked deps."""
    source = tmp_path_factory.mktemp("source")
    environment = tmp_path_factory.mktemp("venv") / "venv"
    dist = tmp_path_factory.mktemp("dist")
    # The Dockerfile's steps in its order: uv reads wheels from its cache, so this works offline.
    copy_from_checkout(build_stage_copies(before="uv sync"), source)
    _uv(
        "sync",
        "--locked",
        "--no-dev",
        "--no-install-project",
        "--quiet",
        cwd=source,
        env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(environment)},
    )
    copy_from_checkout(build_stage_copies(), source)
    _uv("build", "--wheel", "--out-dir", str(dist), "--quiet", cwd=source)
    (wheel,) = dist.glob("*.whl")
    _uv(
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--python",
        str(environment / "bin" / "python"),
        str(wheel),
        cwd=source,
    )
    return environment


def run_installed(
    venv: Path, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a program from the installed environment, away from the checkout and its .venv."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "PYTHONPATH", "DATABASE_URL")
    }
    return subprocess.run(
        [str(venv / "bin" / args[0]), *args[1:]],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_installed_command_prints_the_version(venv: Path, tmp_path: Path) -> None:
    completed = run_installed(venv, "xcc-sessions", "--version", cwd=tmp_path)

    assert completed.stdout.strip() == f"xcc-sessions {__version__}"


def test_installed_package_reads_its_sql_from_inside_the_wheel(venv: Path, tmp_path: Path) -> None:
    script = (
        "from xcc_sessions.sql import load_query, queries_dir; "
        "load_query('create_sessions'); print(queries_dir())"
    )

    completed = run_installed(venv, "python", "-c", script, cwd=tmp_path)

    assert Path(completed.stdout.strip()).is_relative_to(venv), completed.stderr


@pytest.fixture(scope="module")
def sessionized(venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example events sessionized by the installed tool: its output directory."""
    work = tmp_path_factory.mktemp("work")
    events = REPO / "docs" / "examples" / "events.ndjson"
    completed = run_installed(
        venv, "xcc-sessions", "sessionize", str(events), "-o", "out", "--quiet", cwd=work
    )
    assert completed.returncode == 0, completed.stderr
    return work / "out"


def test_installed_tool_loads_and_serves_the_metrics(
    venv: Path, sessionized: Path, database: Database, tmp_path: Path
) -> None:
    completed = run_installed(
        venv,
        "xcc-sessions",
        "load",
        str(sessionized),
        "--database",
        database.location,
        "--quiet",
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr
    port = free_port()
    answer = json_from_server(
        [
            *(str(venv / "bin" / "xcc-sessions"), "serve", "--database", database.location),
            *("--port", str(port), "--quiet"),
        ],
        "/metrics/orders",
        port,
        cwd=tmp_path,
    )

    # docs/metrics.md computes these by hand for the example events.
    assert answer == {
        "median_visits_before_order": 1.0,
        "median_session_duration_minutes_before_order": 45.0,
    }
