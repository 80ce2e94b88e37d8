"""The main job in one command: `xcc-sessions run` from raw events (file or URL) to the API."""

from __future__ import annotations

import http.server
import json
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from servers import free_port, wait_for_json
from typer.testing import CliRunner

from xcc_sessions.cli import app
from xcc_sessions.database import Database
from xcc_sessions.errors import XccError
from xcc_sessions.outputs import DirectoryClaim
from xcc_sessions.pipeline import prepare
from xcc_sessions.readers import open_reader

WORKED_EXAMPLE_METRICS = {
    "median_visits_before_order": 1.5,
    "median_session_duration_minutes_before_order": 47.5,
}
START = datetime(2022, 4, 28, 2, 0)

runner = CliRunner()


def worked_example_events() -> str:
    """The brief's images/metrics.png as raw events: (customer, hours in, minutes, type)."""
    timeline = [
        # user-1: 30 minutes, 20 minutes ending in an order, 12 minutes.
        *[(1, 0, minute, "page_view") for minute in (0, 15, 30)],
        *[(1, 3, minute, "page_view") for minute in (0, 10)],
        (1, 3, 20, "placed_order"),
        *[(1, 6, minute, "search") for minute in (0, 12)],
        # user-2: 45 minutes ending in an order, 20 minutes, 10.5 minutes ending in an order.
        *[(2, 0, minute, "page_view") for minute in (0, 20)],
        (2, 0, 45, "placed_order"),
        *[(2, 3, minute, "page_view") for minute in (0, 5, 10, 20)],
        (2, 6, 0, "page_view"),
        (2, 6, 10.5, "placed_order"),
        # An anonymous visitor, who is no customer.
        (None, 1, 0, "page_view"),
    ]
    lines = []
    for number, (customer, hours, minutes, kind) in enumerate(timeline, start=1):
        at = START + timedelta(hours=hours, minutes=minutes)
        event = {"user-agent": "Mozilla/5.0", "ip": "10.0.0.1", "customer-id": customer}
        lines.append(
            json.dumps(
                {"id": number, "type": kind, "event": {**event, "timestamp": at.isoformat()}}
            )
        )
    return "\n".join(lines) + "\n"


@pytest.fixture
def events(tmp_path: Path) -> Path:
    path = tmp_path / "events.json"
    path.write_text(worked_example_events(), encoding="utf-8")
    return path


def order_metrics(database: Database) -> dict[str, object]:
    with open_reader(database) as reader:
        return reader.query("metrics_orders")[0]


def test_prepare_takes_a_local_file_into_the_database(events: Path, database: Database) -> None:
    prepare(str(events), database, data_dir=events.parent / "out")

    assert order_metrics(database) == WORKED_EXAMPLE_METRICS


def test_prepare_takes_a_file_url_as_the_local_file(events: Path, database: Database) -> None:
    prepare(events.as_uri(), database, data_dir=events.parent / "out")

    assert order_metrics(database) == WORKED_EXAMPLE_METRICS


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("ftp://example.com/events.json", "cannot read ftp:// URLs"),
        ("file://example.com/events.json", "is a file on another host"),
    ],
)
def test_run_of_a_source_it_cannot_read_is_a_usage_error(
    tmp_path: Path, source: str, why: str
) -> None:
    result = runner.invoke(app, ["run", source, "-d", str(tmp_path / "x.duckdb"), "--no-serve"])

    assert (result.exit_code, why in result.stderr) == (2, True)


def test_run_on_a_busy_port_says_it_can_load_without_serving(events: Path, tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = runner.invoke(
            app, ["run", str(events), "-p", str(port), "--data-dir", str(tmp_path)]
        )

    assert (result.exit_code, result.stderr.rstrip().endswith("(--no-serve)")) == (1, True)


@pytest.fixture
def served_directory(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving tmp_path/site; yields its base URL."""
    site = tmp_path / "site"
    site.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            thread.join()


def test_prepare_downloads_a_url_into_the_data_dir(served_directory: str, tmp_path: Path) -> None:
    (tmp_path / "site" / "events.json").write_text(worked_example_events(), encoding="utf-8")
    database = Database("duckdb", str(tmp_path / "from-url.duckdb"))

    prepare(f"{served_directory}/events.json", database, data_dir=tmp_path / "data")

    assert ((tmp_path / "data" / "events.json").is_file(), order_metrics(database)) == (
        True,
        WORKED_EXAMPLE_METRICS,
    )


def test_prepare_takes_its_data_dir_before_it_downloads(
    served_directory: str, tmp_path: Path
) -> None:
    (tmp_path / "site" / "events.json").write_text(worked_example_events(), encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    database = Database("duckdb", str(tmp_path / "x.duckdb"))

    with DirectoryClaim(data), pytest.raises(XccError, match="in use by another sessionize"):
        prepare(f"{served_directory}/events.json", database, data_dir=data)

    assert list(data.iterdir()) == []


def test_prepare_reports_a_download_when_it_begins(served_directory: str, tmp_path: Path) -> None:
    (tmp_path / "site" / "events.json").write_text(worked_example_events(), encoding="utf-8")
    reported: list[str] = []
    url = f"{served_directory}/events.json"

    prepare(
        url,
        Database("duckdb", str(tmp_path / "x.duckdb")),
        data_dir=tmp_path,
        report=reported.append,
    )

    assert reported[0] == f"Fetching {url} into {tmp_path / 'events.json'}"


def test_run_with_force_downloads_a_current_copy_again(
    served_directory: str, tmp_path: Path
) -> None:
    (tmp_path / "site" / "events.json").write_text(worked_example_events(), encoding="utf-8")
    command = ["run", f"{served_directory}/events.json", "--no-serve", "--data-dir", str(tmp_path)]
    command += ["-d", str(tmp_path / "x.duckdb")]
    first = runner.invoke(app, command)  # the copy is current from now on
    assert first.exit_code == 0, first.output

    again = runner.invoke(app, [*command, "--force"])

    steps = {line.split()[0] for line in again.stderr.splitlines()}  # the server logs there too
    assert ("Downloaded" in steps, "Up" in steps) == (True, False)


def test_run_without_serving_loads_and_reports_each_step(events: Path, tmp_path: Path) -> None:
    database = tmp_path / "run.duckdb"

    result = runner.invoke(
        app,
        [
            "run",
            str(events),
            "-d",
            str(database),
            "--data-dir",
            str(tmp_path / "out"),
            "--no-serve",
        ],
    )

    assert (result.exit_code, [line.split()[0] for line in result.stderr.splitlines()]) == (
        0,
        ["Sessionized", "Loaded"],
    )


def test_a_local_run_into_postgresql_imports_neither_duckdb_nor_the_web_stack(
    events: Path, tmp_path: Path, postgres_url: str
) -> None:
    # Each import is CPU time taken from the hashing and reading that start-up overlaps.
    unused = ("duckdb", "httpx", "starlette", "uvicorn")
    script = (
        "import sys\n"
        "from xcc_sessions.cli import app\n"
        "app(sys.argv[1:], standalone_mode=False)\n"
        f"print(*[name for name in {unused!r} if name in sys.modules])\n"
    )
    arguments = ["run", str(events), "--no-serve", "-q", "-d", postgres_url]

    completed = subprocess.run(
        [sys.executable, "-c", script, *arguments, "--data-dir", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=True,
    )

    assert completed.stdout.split() == []


def test_prepare_reports_what_it_sessionized(events: Path, tmp_path: Path) -> None:
    said: list[str] = []
    database = Database("duckdb", str(tmp_path / "x.duckdb"))

    prepare(str(events), database, data_dir=tmp_path / "out", report=said.append)

    # The brief's example: 18 lines, 6 sessions of the 2 customers, one anonymous line.
    assert said[0].startswith("Sessionized 18 lines into 6 sessions of 2 customers (0 rejected")


def test_run_into_an_unreachable_server_fails_before_sessionizing(
    events: Path, tmp_path: Path
) -> None:
    unreachable = f"postgresql://postgres:s3cret@127.0.0.1:{free_port()}/test"

    result = runner.invoke(
        app, ["run", str(events), "-d", unreachable, "--data-dir", str(tmp_path / "out")]
    )

    assert (result.exit_code, result.stderr.count("\n"), (tmp_path / "out").exists()) == (
        1,
        1,
        False,
    )


def test_run_of_a_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"

    result = runner.invoke(
        app, ["run", str(missing), "-d", str(tmp_path / "x.duckdb"), "--no-serve"]
    )

    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: no event file at {missing}: give an event file, or a URL to download it from\n",
    )


@pytest.mark.parametrize(
    ("text", "exit_code"),
    [(worked_example_events(), 0), ("", 1)],
    ids=["with events", "without any"],
)
def test_run_verbose_shows_the_first_rejected_lines(
    tmp_path: Path, text: str, exit_code: int
) -> None:
    events = tmp_path / "events.json"
    events.write_text(text + "<html>\n", encoding="utf-8")
    command = ["run", str(events), "-v", "--no-serve", "--data-dir", str(tmp_path / "out")]

    result = runner.invoke(app, [*command, "-d", str(tmp_path / "x.duckdb")])

    rejected_line = f"  line {text.count(chr(10)) + 1}: invalid_json: <html>"
    assert (result.exit_code, rejected_line in result.stderr.splitlines()) == (exit_code, True)


def test_run_with_a_bad_gap_is_a_usage_error(events: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", str(events), "--gap", "soon", "--no-serve"])

    assert (result.exit_code, "invalid gap 'soon'" in result.stderr) == (2, True)


def test_run_serves_the_api_once_loaded(events: Path, tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "xcc_sessions", "run", str(events), "-p", str(port)]
    command += ["-d", str(tmp_path / "served.duckdb"), "--data-dir", str(tmp_path / "out")]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        body = wait_for_json(f"http://127.0.0.1:{port}/metrics/orders", server)
    finally:
        server.send_signal(signal.SIGINT)
        _, log = server.communicate(timeout=30)

    assert (body, f"at http://127.0.0.1:{port}" in log) == (WORKED_EXAMPLE_METRICS, True), log
