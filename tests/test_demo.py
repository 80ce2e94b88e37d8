"""`xcc-sessions demo`: synthetic events through the main job, for machines without internet."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import duckdb
import psycopg
import pytest
from servers import free_port, json_from_server
from typer.testing import CliRunner

from xcc_sessions.cli import app
from xcc_sessions.outputs import DirectoryClaim

runner = CliRunner()


def loaded_lines(database: str) -> int:
    """The `lines` of the latest load_run in a DuckDB file."""
    with duckdb.connect(database, read_only=True) as connection:
        row = connection.execute(
            "select lines from load_runs order by run_id desc limit 1"
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_demo_loads_the_lines_it_generates_into_its_own_duckdb(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["demo", "--lines", "2000", "--data-dir", str(tmp_path), "--no-serve", "--quiet"]
    )

    assert result.exit_code == 0, result.output
    assert loaded_lines(str(tmp_path / "xcc-sessions.duckdb")) == 2000


def test_demo_leaves_the_database_of_database_url_alone(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", postgres_url)

    result = runner.invoke(
        app, ["demo", "--lines", "500", "--data-dir", str(tmp_path), "--no-serve", "--quiet"]
    )

    assert result.exit_code == 0, result.output
    with psycopg.connect(postgres_url) as connection:
        tables = connection.execute(
            "select count(*) from information_schema.tables where table_schema = current_schema()"
        ).fetchone()
    assert tables == (0,)


def test_demo_loads_into_the_database_it_is_given(tmp_path: Path, postgres_url: str) -> None:
    arguments = ["demo", "-n", "500", "--data-dir", str(tmp_path), "--database", postgres_url]

    result = runner.invoke(app, [*arguments, "--no-serve", "--quiet"])

    assert result.exit_code == 0, result.output
    with psycopg.connect(postgres_url) as connection:
        row = connection.execute("select lines from load_runs").fetchone()
    assert row == (500,)


def test_demo_refuses_a_busy_port_before_generating_anything(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        result = runner.invoke(
            app, ["demo", "-n", "500", "--data-dir", str(tmp_path), "--port", str(port)]
        )

    assert (result.exit_code, list(tmp_path.iterdir())) == (1, [])


def test_demo_takes_its_data_dir_before_generating(tmp_path: Path) -> None:
    with DirectoryClaim(tmp_path):  # another run's
        result = runner.invoke(
            app, ["demo", "-n", "500", "--data-dir", str(tmp_path), "--no-serve"]
        )

    assert (result.exit_code, list(tmp_path.iterdir())) == (1, [])


def test_demo_serves_the_metrics_of_its_events(tmp_path: Path) -> None:
    port = free_port()
    answer = json_from_server(
        [sys.executable, "-m", "xcc_sessions", "demo", "-n", "3000", "--port", str(port), "-q"],
        "/metrics/orders",
        port,
        cwd=tmp_path,
        env={key: value for key, value in os.environ.items() if key != "DATABASE_URL"},
    )

    assert all(isinstance(value, float) and value > 0 for value in answer.values()), answer
