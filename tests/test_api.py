"""The metrics API through Starlette's TestClient, on DuckDB and PostgreSQL."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import duckdb
import psycopg
import pytest
from servers import free_port, wait_for_json
from sessions_data import START, customer, session, worked_example, write_sessions
from starlette.routing import Route
from starlette.testclient import TestClient

from xcc_sessions.api import create_app
from xcc_sessions.database import Database

WORKED_EXAMPLE_METRICS = {
    "median_visits_before_order": 1.5,
    "median_session_duration_minutes_before_order": 47.5,
}


def client_for(database: Database, *, timeout: float = 3.0) -> TestClient:
    return TestClient(create_app(database, timeout=timeout), raise_server_exceptions=False)


@pytest.fixture
def loaded(database: Database) -> Database:
    """`database` holding the brief's worked example as load run 1."""
    write_sessions(database, worked_example())
    return database


@pytest.fixture
def client(loaded: Database) -> Iterator[TestClient]:
    with client_for(loaded) as client:
        yield client


def test_orders_answers_the_brief_worked_example(client: TestClient) -> None:
    response = client.get("/metrics/orders")

    assert (response.status_code, response.json()) == (200, WORKED_EXAMPLE_METRICS)


def test_orders_are_null_when_no_customer_has_ordered(database: Database) -> None:
    write_sessions(database, customer(5, [10, 20]))

    with client_for(database) as client:
        body = client.get("/metrics/orders").json()

    assert body == {
        "median_visits_before_order": None,
        "median_session_duration_minutes_before_order": None,
    }


def test_referrers_lists_direct_sessions_and_honours_min_sessions(database: Database) -> None:
    write_sessions(
        database,
        [
            session(1, 1, 10),
            session(1, 2, 20, order_after=5),
            session(2, 1, 30, referrer="https://news.example"),
        ],
    )

    with client_for(database) as client:
        body = client.get("/metrics/referrers", params={"min_sessions": 2}).json()

    assert body == {
        "min_sessions": 2,
        "referrers": [
            {
                "referrer": "(direct)",
                "sessions": 2,
                "order_share": 0.5,
                "median_duration_minutes": 15.0,
                "p25_duration_minutes": 12.5,
                "p75_duration_minutes": 17.5,
                "mean_duration_minutes": 15.0,
            }
        ],
    }


def test_referrers_default_to_every_referrer(client: TestClient) -> None:
    body = client.get("/metrics/referrers").json()

    assert (body["min_sessions"], [row["referrer"] for row in body["referrers"]]) == (
        1,
        ["(direct)"],
    )


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "abc", "", "٣", str(2**63)])
def test_bad_min_sessions_is_a_400_naming_the_value(client: TestClient, value: str) -> None:
    response = client.get("/metrics/referrers", params={"min_sessions": value})

    assert (response.status_code, response.json()) == (
        400,
        {
            "error": f"min_sessions must be one whole number from 1 to {2**63 - 1}, got {value!r}",
            "status": 400,
        },
    )


def test_min_sessions_of_thousands_of_digits_is_a_400_quoting_its_start(
    client: TestClient,
) -> None:
    response = client.get("/metrics/referrers", params={"min_sessions": "9" * 5000})

    assert (response.status_code, response.json()["error"].endswith(f", got '{'9' * 40}...'")) == (
        400,
        True,
    )


def test_largest_min_sessions_lists_no_referrer(client: TestClient) -> None:
    response = client.get("/metrics/referrers", params={"min_sessions": str(2**63 - 1)})

    assert response.json() == {"min_sessions": 2**63 - 1, "referrers": []}


def test_a_trailing_slash_is_a_404_not_a_redirect(client: TestClient) -> None:
    response = client.get("/health/", follow_redirects=False)

    assert (response.status_code, response.json()["error"]) == (
        404,
        "no such endpoint: /health/ (see /openapi.json)",
    )


def test_repeated_min_sessions_is_a_400(client: TestClient) -> None:
    response = client.get("/metrics/referrers?min_sessions=1&min_sessions=2")

    assert response.status_code == 400


def test_health_reports_engine_and_latest_load_run(client: TestClient, loaded: Database) -> None:
    body = client.get("/health").json()

    assert (body["status"], body["engine"], body["latest_load_run"]["run_id"]) == (
        "ok",
        loaded.engine,
        1,
    )


def test_health_gives_load_times_in_utc_iso_8601(client: TestClient) -> None:
    loaded_at = client.get("/health").json()["latest_load_run"]["loaded_at"]

    assert loaded_at == "2022-04-29T02:44:46.290271Z"


def test_health_never_shows_the_password(tmp_path: Path) -> None:
    database = Database("postgresql", "postgresql://analyst:s3cret@127.0.0.1:1/shop")

    with client_for(database, timeout=0.5) as client:
        response = client.get("/health")

    assert "s3cret" not in response.text


def test_health_of_a_loaded_database_masks_the_password(postgres_url: str) -> None:
    parts = urlsplit(postgres_url)
    secret = parts.password or "s3cret"  # the server's trust authentication ignores it
    netloc = f"{parts.username}:{secret}@{parts.hostname}:{parts.port or 5432}"
    database = Database("postgresql", urlunsplit(parts._replace(netloc=netloc)))
    write_sessions(database, worked_example())

    with client_for(database) as client:
        response = client.get("/health")

    assert (response.status_code, response.json()["database"], secret in response.text) == (
        200,
        database.display,
        False,
    )


def test_new_load_is_visible_on_the_next_request(client: TestClient, loaded: Database) -> None:
    client.get("/metrics/orders")
    write_sessions(loaded, customer(3, [5, 5, 5], s3=5) + customer(4, [60], s1=10), run_id=2)

    body = client.get("/metrics/orders").json()

    # Visits [2, 1, 3, 1] and minutes [50, 45, 15, 10].
    assert body == {
        "median_visits_before_order": 1.5,
        "median_session_duration_minutes_before_order": 30.0,
    }


def test_recreated_database_is_not_answered_from_the_old_cache(
    client: TestClient, loaded: Database
) -> None:
    client.get("/metrics/orders")
    _drop_tables(loaded)
    write_sessions(loaded, customer(3, [5, 5], s2=5), run_id=1, loaded_at=START + timedelta(days=9))

    body = client.get("/metrics/orders").json()

    assert body == {
        "median_visits_before_order": 2.0,
        "median_session_duration_minutes_before_order": 10.0,
    }


def _drop_tables(database: Database) -> None:
    if database.engine == "duckdb":
        Path(database.location).unlink()
    else:
        with psycopg.connect(database.location, autocommit=True) as connection:
            connection.execute("drop table events, sessions, load_runs")


def test_result_is_cached_until_the_next_load_run(client: TestClient, loaded: Database) -> None:
    first = client.get("/metrics/orders").json()
    _insert_without_load_run(loaded, session(9, 1, 1, order_after=1))

    assert client.get("/metrics/orders").json() == first


def _insert_without_load_run(database: Database, row: dict[str, object]) -> None:
    statement = "insert into sessions (session_id, customer_id, session_index, started_at, "
    statement += "ended_at, duration_seconds, event_count, page_view_count, order_count, "
    statement += "first_order_at) values ($1, $2, $3, $4, $5, $6, 1, 1, 1, $7)"
    values = [
        row[key]
        for key in [
            "session_id",
            "customer_id",
            "session_index",
            "started_at",
            "ended_at",
            "duration_seconds",
            "first_order_at",
        ]
    ]
    if database.engine == "duckdb":
        with duckdb.connect(database.location) as connection:
            connection.execute(statement, values)
    else:
        with psycopg.connect(database.location, autocommit=True) as connection:
            psycopg.RawCursor(connection).execute(statement, values)


def test_unknown_route_is_a_json_404(client: TestClient) -> None:
    response = client.get("/metrics/order")

    assert (response.status_code, response.json()) == (
        404,
        {"error": "no such endpoint: /metrics/order (see /openapi.json)", "status": 404},
    )


def test_wrong_method_is_a_json_405_with_allow(client: TestClient) -> None:
    response = client.post("/metrics/orders")

    allowed = {method.strip() for method in response.headers["allow"].split(",")}

    assert (response.status_code, response.json()["status"], allowed) == (405, 405, {"GET", "HEAD"})


def test_failing_query_is_a_json_500_without_details(loaded: Database) -> None:
    _drop_sessions(loaded)

    with client_for(loaded) as client:
        response = client.get("/metrics/orders")

    assert (response.status_code, response.json()) == (
        500,
        {"error": "internal server error: the request failed; see the server log", "status": 500},
    )


def _drop_sessions(database: Database) -> None:
    statement = "drop table sessions cascade"
    if database.engine == "duckdb":
        with duckdb.connect(database.location) as connection:
            connection.execute("drop table events")
            connection.execute("drop table sessions")
    else:
        with psycopg.connect(database.location, autocommit=True) as connection:
            connection.execute(statement)


def test_never_loaded_database_is_a_503_saying_what_to_do(database: Database) -> None:
    if database.engine == "duckdb":
        duckdb.connect(database.location).close()

    with client_for(database) as client:
        response = client.get("/metrics/orders")

    assert (response.status_code, response.json()["error"], response.headers["retry-after"]) == (
        503,
        f"no load has finished in {database.display} yet: "
        "run `xcc-sessions run` or `xcc-sessions load` first",
        "5",
    )


def test_missing_duckdb_file_is_a_503_and_is_served_once_loaded(tmp_path: Path) -> None:
    database = Database("duckdb", str(tmp_path / "later.duckdb"))
    with client_for(database) as client:
        before = client.get("/health").status_code
        write_sessions(database, worked_example())
        after = client.get("/metrics/orders").json()

    assert (before, after) == (503, WORKED_EXAMPLE_METRICS)


def test_a_file_that_is_no_duckdb_database_is_a_503_naming_it(tmp_path: Path) -> None:
    events = tmp_path / "events.json"
    events.write_text('{"id": 1, "type": "page_view", "event": {}}\n', encoding="utf-8")

    with client_for(Database("duckdb", str(events))) as client:
        response = client.get("/metrics/orders")

    assert (response.status_code, response.json()["error"]) == (
        503,
        f"{events} is not a DuckDB database file: serve one that `xcc-sessions load` wrote",
    )


def test_missing_duckdb_file_is_not_created_by_the_api(tmp_path: Path) -> None:
    path = tmp_path / "absent.duckdb"

    with client_for(Database("duckdb", str(path))) as client:
        client.get("/metrics/orders")

    assert not path.exists()


def test_duckdb_reader_does_not_block_a_writing_process(tmp_path: Path) -> None:
    database = Database("duckdb", str(tmp_path / "shared.duckdb"))
    write_sessions(database, worked_example())
    with client_for(database) as client:
        client.get("/metrics/orders")
        writer = subprocess.run(
            [sys.executable, "-c", f"import duckdb; duckdb.connect({database.location!r}).close()"],
            capture_output=True,
            timeout=60,
        )

    assert writer.returncode == 0


@pytest.fixture
def held_duckdb(tmp_path: Path) -> Database:
    """A loaded DuckDB file that another process then holds open for writing, with a new run."""
    database = Database("duckdb", str(tmp_path / "busy.duckdb"))
    write_sessions(database, worked_example())
    return database


def _hold_for_writing(database: Database) -> subprocess.Popen[str]:
    writer = _python(
        "import duckdb, sys, time\n"
        f"connection = duckdb.connect({database.location!r})\n"
        "connection.execute('delete from events')\n"
        "connection.execute('delete from sessions')\n"
        "connection.execute('checkpoint')\n"
        "print('holding', flush=True)\n"
        "sys.stdin.read()\n"
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "holding"
    return writer


def test_duckdb_busy_with_a_load_keeps_serving_the_previous_results(
    held_duckdb: Database,
) -> None:
    with client_for(held_duckdb) as client:
        client.get("/metrics/orders")
        writer = _hold_for_writing(held_duckdb)
        try:
            response = client.get("/metrics/orders")
        finally:
            writer.communicate("")

    assert (response.status_code, response.json()) == (200, WORKED_EXAMPLE_METRICS)


def test_duckdb_busy_with_nothing_cached_is_a_503(held_duckdb: Database) -> None:
    writer = _hold_for_writing(held_duckdb)
    try:
        with client_for(held_duckdb) as client:
            response = client.get("/metrics/orders")
    finally:
        writer.communicate("")

    assert (
        response.status_code,
        "being written by another process" in response.json()["error"],
    ) == (
        503,
        True,
    )


def _python(code: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


class TcpProxy:
    """A TCP forwarder on 127.0.0.1 that can be cut and restored: PostgreSQL going away."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._spawn(self._accept, self._listener)

    def stop(self) -> None:
        """Refuse new connections and cut the open ones, as a server going down would."""
        sockets = [self._listener, *self._connections] if self._listener else self._connections
        for open_socket in sockets:
            with contextlib.suppress(OSError):
                open_socket.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)
        for open_socket in sockets:
            open_socket.close()
        self._listener, self._connections, self._threads = None, [], []

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._connections += [client, upstream]
            self._spawn(self._pipe, client, upstream)
            self._spawn(self._pipe, upstream, client)

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def test_postgres_outage_is_a_503_and_the_api_recovers_by_itself(postgres_url: str) -> None:
    write_sessions(Database("postgresql", postgres_url), worked_example())
    parts = urlsplit(postgres_url)
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    user = f"{parts.username}@" if parts.username else ""
    proxied = urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{proxy.port}"))
    proxy.start()
    statuses = []
    try:
        with client_for(Database("postgresql", proxied), timeout=1.0) as client:
            statuses.append(client.get("/metrics/orders").status_code)
            proxy.stop()
            statuses.append(client.get("/metrics/orders").status_code)
            proxy.start()
            statuses.append(_poll_until_ok(client, "/metrics/orders", seconds=30))
    finally:
        proxy.stop()

    assert statuses == [200, 503, 200]


def test_a_postgres_database_that_does_not_exist_is_a_503_naming_what_to_check(
    postgres_url: str,
) -> None:
    missing = Database("postgresql", urlunsplit(urlsplit(postgres_url)._replace(path="/xcc_none")))

    with client_for(missing, timeout=1.0) as client:
        response = client.get("/metrics/orders")

    assert (response.status_code, "no such database" in response.json()["error"]) == (503, True)


def _poll_until_ok(client: TestClient, path: str, *, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while True:
        status = client.get(path).status_code
        if status == 200 or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def test_openapi_describes_every_route_and_its_responses(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    routes = [route for route in client.app.routes if isinstance(route, Route)]  # type: ignore[attr-defined]

    described = {
        route.path: sorted(spec["paths"][route.path]["get"]["responses"]) for route in routes
    }

    assert described == {
        "/": ["200", "500"],
        "/health": ["200", "500", "503"],
        "/metrics/orders": ["200", "500", "503"],
        "/metrics/referrers": ["200", "400", "500", "503"],
        "/openapi.json": ["200"],
    }


def test_openapi_schema_names_exactly_the_order_metric_keys(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schema = spec["components"]["schemas"]["OrderMetrics"]

    assert sorted(schema["properties"]) == sorted(client.get("/metrics/orders").json())


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_serve_command_answers_over_http_under_uvicorn_until_stopped(
    tmp_path: Path, stop: signal.Signals
) -> None:
    database = Database("duckdb", str(tmp_path / "served.duckdb"))
    write_sessions(database, worked_example())
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "xcc_sessions", "serve", "-d", database.location, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        body = wait_for_json(f"http://127.0.0.1:{port}/metrics/orders", server)
    finally:
        server.send_signal(stop)
        _, log = server.communicate(timeout=30)

    assert (body, server.returncode) == (WORKED_EXAMPLE_METRICS, 0), log


def test_serve_command_on_a_busy_port_is_one_clear_error(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "xcc_sessions", "serve", "-p", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert (result.returncode, result.stderr) == (
        1,
        f"Error: cannot listen on 127.0.0.1:{port}: Address already in use; "
        "check --host, or choose another --port\n",
    )
