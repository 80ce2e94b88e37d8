"""fetch against a real HTTP server on 127.0.0.1, with handlers the tests control."""

from __future__ import annotations

import gzip
import json
import os
import socket
import stat
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from servers import free_port
from typer.testing import CliRunner

from xcc_sessions.cli import app
from xcc_sessions.errors import UsageError, XccError
from xcc_sessions.fetch import fetch

BODY = b"".join(b'{"id": %d, "type": "page_view", "event": {}}\n' % i for i in range(5_000))
ETAG = '"v1"'
LAST_MODIFIED = "Thu, 28 Apr 2022 12:00:00 GMT"

Route = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Server:
    """A real HTTP server: `routes` map a path to a handler; `requests` records what came in."""

    base: str
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def headers_of(self, path: str) -> list[dict[str, str]]:
        return [headers for requested, headers in self.requests if requested == path]


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server(base="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            route = state.routes.get(self.path)
            if route is None:
                self.send_error(404, "Not Found")
            else:
                route(self)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output clean."""

    class QuietServer(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            """A client that hangs up on purpose is not an error here."""

    httpd = QuietServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def serve(
    body: bytes,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    headers: dict[str, str] | None = None,
) -> Route:
    """Answer with `body`, or 304 when the request's validators match, like a static server."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        if (etag is not None and request.headers.get("If-None-Match") == etag) or (
            last_modified is not None and request.headers.get("If-Modified-Since") == last_modified
        ):
            request.send_response(304)
            request.end_headers()
            return
        request.send_response(200)
        request.send_header("Content-Length", str(len(body)))
        if etag is not None:
            request.send_header("ETag", etag)
        if last_modified is not None:
            request.send_header("Last-Modified", last_modified)
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(body)

    return handle


def drop_mid_body(request: BaseHTTPRequestHandler) -> None:
    """Promise the whole body, send a third of it, then hang up."""
    request.send_response(200)
    request.send_header("Content-Length", str(len(BODY)))
    request.end_headers()
    request.wfile.write(BODY[: len(BODY) // 3])
    request.wfile.flush()
    request.connection.shutdown(socket.SHUT_RDWR)
    request.close_connection = True


def stall(request: BaseHTTPRequestHandler) -> None:
    """Send the headers and a little of the body, then nothing for longer than the test waits."""
    request.send_response(200)
    request.send_header("Content-Length", str(len(BODY)))
    request.end_headers()
    request.wfile.write(BODY[:100])
    request.wfile.flush()
    time.sleep(1.5)


def redirect_to(location: str) -> Route:
    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(302)
        request.send_header("Location", location)
        request.send_header("Content-Length", "0")
        request.end_headers()

    return handle


def _files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def test_downloads_the_body_to_the_output(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = serve(BODY)
    output = tmp_path / "data" / "events.json"

    fetch(server.url("/events.json"), output)

    assert output.read_bytes() == BODY


def test_reports_what_it_downloaded(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = serve(BODY)
    output = tmp_path / "events.json"

    result = fetch(server.url("/events.json"), output)

    assert (result.path, result.bytes, result.downloaded) == (output, len(BODY), True)


def test_leaves_only_the_file_and_its_validators(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = serve(BODY, etag=ETAG)

    fetch(server.url("/events.json"), tmp_path / "events.json")

    assert _files(tmp_path) == ["events.json", "events.json.meta.json"]


@pytest.mark.parametrize(("status", "reason"), [(404, "Not Found"), (500, "Internal Server Error")])
def test_an_error_status_names_the_url_and_the_status(
    server: Server, tmp_path: Path, status: int, reason: str
) -> None:
    def fail(request: BaseHTTPRequestHandler) -> None:
        request.send_error(status)

    server.routes["/events.json"] = fail
    url = server.url("/events.json")

    with pytest.raises(XccError) as raised:
        fetch(url, tmp_path / "events.json")

    assert str(raised.value) == f"cannot fetch {url}: the server answered {status} {reason}"


def test_an_error_status_leaves_no_file(server: Server, tmp_path: Path) -> None:
    with pytest.raises(XccError):
        fetch(server.url("/missing.json"), tmp_path / "events.json")

    assert _files(tmp_path) == []


def test_a_connection_dropped_mid_body_is_an_error(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = drop_mid_body

    with pytest.raises(XccError, match="the connection dropped"):
        fetch(server.url("/events.json"), tmp_path / "events.json")


def test_a_connection_dropped_mid_body_leaves_no_file(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = drop_mid_body

    with pytest.raises(XccError):
        fetch(server.url("/events.json"), tmp_path / "events.json")

    assert _files(tmp_path) == []


def test_a_dropped_connection_keeps_the_previous_copy(server: Server, tmp_path: Path) -> None:
    output = tmp_path / "events.json"
    output.write_bytes(b"previous copy\n")
    server.routes["/events.json"] = drop_mid_body

    with pytest.raises(XccError):
        fetch(server.url("/events.json"), output, force=True)

    assert output.read_bytes() == b"previous copy\n"


def test_decodes_a_gzip_content_encoding(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = serve(gzip.compress(BODY), headers={"Content-Encoding": "gzip"})
    output = tmp_path / "events.json"

    fetch(server.url("/events.json"), output)

    assert output.read_bytes() == BODY


def test_asks_for_gzip_only(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = serve(BODY)

    fetch(server.url("/events.json"), tmp_path / "events.json")

    assert server.headers_of("/events.json")[-1]["accept-encoding"] == "gzip"


def test_decodes_another_content_encoding_a_server_sends_anyway(
    server: Server, tmp_path: Path
) -> None:
    server.routes["/events.json"] = serve(
        zlib.compress(BODY), headers={"Content-Encoding": "deflate"}
    )
    output = tmp_path / "events.json"

    fetch(server.url("/events.json"), output)

    assert output.read_bytes() == BODY


def test_decodes_a_gzip_content_encoding_of_several_members(server: Server, tmp_path: Path) -> None:
    half = len(BODY) // 2
    encoded = gzip.compress(BODY[:half]) + gzip.compress(BODY[half:])
    server.routes["/events.json"] = serve(encoded, headers={"Content-Encoding": "gzip"})
    output = tmp_path / "events.json"

    fetch(server.url("/events.json"), output)

    assert output.read_bytes() == BODY


def test_decodes_a_gzip_file_sent_with_a_gzip_content_encoding(
    server: Server, tmp_path: Path
) -> None:
    encoded = gzip.compress(gzip.compress(BODY))
    server.routes["/events.json.gz"] = serve(encoded, headers={"Content-Encoding": "gzip"})
    output = tmp_path / "events.json"

    fetch(server.url("/events.json.gz"), output)

    assert output.read_bytes() == BODY


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip"])
def test_a_truncated_gzip_content_encoding_is_an_error(
    server: Server, tmp_path: Path, encoding: str
) -> None:
    # The HTTP framing is whole (Content-Length matches): only the gzip stream is cut short.
    encoded = gzip.compress(BODY)
    server.routes["/events.json"] = serve(
        encoded[: len(encoded) // 2], headers={"Content-Encoding": encoding}
    )

    with pytest.raises(
        XccError, match="the gzip-encoded body ends early: the download is truncated"
    ):
        fetch(server.url("/events.json"), tmp_path / "events.json")


def test_a_truncated_gzip_content_encoding_keeps_the_previous_copy_and_no_temporary_file(
    server: Server, tmp_path: Path
) -> None:
    encoded = gzip.compress(BODY)
    server.routes["/events.json"] = serve(
        encoded[: len(encoded) // 2], headers={"Content-Encoding": "gzip"}
    )
    output = tmp_path / "events.json"
    output.write_bytes(b"previous copy\n")

    with pytest.raises(XccError):
        fetch(server.url("/events.json"), output, force=True)

    assert (output.read_bytes(), _files(tmp_path)) == (b"previous copy\n", ["events.json"])


def test_decompresses_a_gzip_file_saved_under_a_plain_name(server: Server, tmp_path: Path) -> None:
    # Two members, as `cat a.gz b.gz` makes: both must come out.
    half = len(BODY) // 2
    server.routes["/events.json.gz"] = serve(
        gzip.compress(BODY[:half]) + gzip.compress(BODY[half:])
    )
    output = tmp_path / "events.json"

    fetch(server.url("/events.json.gz"), output)

    assert output.read_bytes() == BODY


def test_keeps_a_gzip_file_saved_under_a_gz_name(server: Server, tmp_path: Path) -> None:
    compressed = gzip.compress(BODY)
    server.routes["/events.json.gz"] = serve(compressed)
    output = tmp_path / "events.json.gz"

    fetch(server.url("/events.json.gz"), output)

    assert output.read_bytes() == compressed


def test_keeps_a_gzip_content_encoding_as_it_came_under_a_gz_name(
    server: Server, tmp_path: Path
) -> None:
    encoded = gzip.compress(BODY)
    server.routes["/events.json"] = serve(encoded, headers={"Content-Encoding": "gzip"})
    output = tmp_path / "events.json.gz"

    fetch(server.url("/events.json"), output)

    assert output.read_bytes() == encoded


def test_a_truncated_gzip_content_encoding_under_a_gz_name_is_an_error(
    server: Server, tmp_path: Path
) -> None:
    encoded = gzip.compress(BODY)
    server.routes["/events.json"] = serve(
        encoded[: len(encoded) // 2], headers={"Content-Encoding": "gzip"}
    )

    with pytest.raises(XccError, match="the gzip-encoded body ends early"):
        fetch(server.url("/events.json"), tmp_path / "events.json.gz")


def test_a_truncated_gzip_file_under_a_gz_name_is_an_error(server: Server, tmp_path: Path) -> None:
    compressed = gzip.compress(BODY)
    server.routes["/events.json.gz"] = serve(compressed[: len(compressed) // 2])

    with pytest.raises(XccError, match="the gzip file ends early"):
        fetch(server.url("/events.json.gz"), tmp_path / "events.json.gz")


def test_a_gzip_file_gzip_encoded_again_is_saved_compressed_once_under_a_gz_name(
    server: Server, tmp_path: Path
) -> None:
    encoded = gzip.compress(gzip.compress(BODY))
    server.routes["/events.json.gz"] = serve(encoded, headers={"Content-Encoding": "gzip"})
    output = tmp_path / "events.json.gz"

    fetch(server.url("/events.json.gz"), output)

    assert gzip.decompress(output.read_bytes()) == BODY


def test_an_empty_gzip_encoded_body_under_a_gz_name_is_an_empty_gzip_file(
    server: Server, tmp_path: Path
) -> None:
    server.routes["/events.json"] = serve(b"", headers={"Content-Encoding": "gzip"})
    output = tmp_path / "events.json.gz"

    fetch(server.url("/events.json"), output)

    saved = output.read_bytes()  # gzip -t refuses an empty file; Python's gzip takes it
    assert (saved[:2], gzip.decompress(saved)) == (b"\x1f\x8b", b"")


def test_a_plain_body_under_a_gz_name_is_saved_compressed(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = serve(BODY)
    output = tmp_path / "events.json.gz"

    fetch(server.url("/events.json"), output)

    assert gzip.decompress(output.read_bytes()) == BODY


def test_a_corrupt_gzip_file_is_an_error_and_leaves_no_file(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json.gz"] = serve(gzip.compress(BODY)[:20] + b"not deflate data" * 50)

    with pytest.raises(XccError, match="gzip"):
        fetch(server.url("/events.json.gz"), tmp_path / "events.json")

    assert _files(tmp_path) == []


@pytest.mark.parametrize("cut", [len(gzip.compress(BODY)) // 2, -4], ids=["mid-data", "trailer"])
def test_a_truncated_gzip_file_is_an_error(server: Server, tmp_path: Path, cut: int) -> None:
    server.routes["/events.json.gz"] = serve(gzip.compress(BODY)[:cut])

    with pytest.raises(XccError, match="the gzip file ends early: the download is truncated"):
        fetch(server.url("/events.json.gz"), tmp_path / "events.json")


def test_a_truncated_gzip_file_keeps_the_previous_copy_and_no_temporary_file(
    server: Server, tmp_path: Path
) -> None:
    compressed = gzip.compress(BODY)
    server.routes["/events.json.gz"] = serve(compressed[: len(compressed) // 2])
    output = tmp_path / "events.json"
    output.write_bytes(b"previous copy\n")

    with pytest.raises(XccError):
        fetch(server.url("/events.json.gz"), output, force=True)

    assert (output.read_bytes(), _files(tmp_path)) == (b"previous copy\n", ["events.json"])


def test_a_second_fetch_answered_304_keeps_the_file(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = serve(BODY, etag=ETAG)
    output = tmp_path / "events.json"
    fetch(server.url("/events.json"), output)
    modified = output.stat().st_mtime_ns

    result = fetch(server.url("/events.json"), output)

    assert (result.downloaded, result.bytes, output.stat().st_mtime_ns) == (
        False,
        len(BODY),
        modified,
    )


def test_a_second_fetch_sends_the_etag(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = serve(BODY, etag=ETAG)
    output = tmp_path / "events.json"
    fetch(server.url("/events.json"), output)

    fetch(server.url("/events.json"), output)

    assert server.headers_of("/events.json")[-1].get("if-none-match") == ETAG


def test_a_second_fetch_sends_last_modified(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = serve(BODY, last_modified=LAST_MODIFIED)
    output = tmp_path / "events.json"
    fetch(server.url("/events.json"), output)

    result = fetch(server.url("/events.json"), output)

    assert result.downloaded is False


def test_force_downloads_without_asking(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = serve(BODY, etag=ETAG)
    output = tmp_path / "events.json"
    fetch(server.url("/events.json"), output)

    result = fetch(server.url("/events.json"), output, force=True)

    assert (result.downloaded, "if-none-match" in server.headers_of("/events.json")[-1]) == (
        True,
        False,
    )


def test_a_changed_file_on_the_server_is_downloaded_again(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = serve(b"old\n", etag='"old"')
    output = tmp_path / "events.json"
    fetch(server.url("/events.json"), output)
    server.routes["/events.json"] = serve(BODY, etag='"new"')

    fetch(server.url("/events.json"), output)

    assert output.read_bytes() == BODY


def test_a_local_copy_changed_since_is_downloaded_again(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = serve(BODY, etag=ETAG)
    output = tmp_path / "events.json"
    fetch(server.url("/events.json"), output)
    output.write_bytes(b"truncated")

    fetch(server.url("/events.json"), output)

    assert output.read_bytes() == BODY


def test_another_url_to_the_same_output_is_downloaded(server: Server, tmp_path: Path) -> None:
    server.routes["/a.json"] = serve(b"a\n", etag=ETAG)
    server.routes["/b.json"] = serve(b"b\n", etag=ETAG)
    output = tmp_path / "events.json"
    fetch(server.url("/a.json"), output)

    fetch(server.url("/b.json"), output)

    assert output.read_bytes() == b"b\n"


def test_follows_redirects(server: Server, tmp_path: Path) -> None:
    server.routes["/old.json"] = redirect_to("/events.json")
    server.routes["/events.json"] = serve(BODY)
    output = tmp_path / "events.json"

    fetch(server.url("/old.json"), output)

    assert output.read_bytes() == BODY


def test_a_refused_connection_is_an_error_naming_the_url(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/events.json"

    with pytest.raises(XccError, match=rf"^cannot fetch {url}: cannot connect"):
        fetch(url, tmp_path / "events.json")


def fail_first(times: int, failure: Route, then: Route) -> Route:
    """Answer with `failure` the first `times` requests, then with `then`."""
    requests = 0

    def handle(request: BaseHTTPRequestHandler) -> None:
        nonlocal requests
        requests += 1
        (failure if requests <= times else then)(request)

    return handle


def answer(status: int, headers: dict[str, str] | None = None) -> Route:
    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(status)
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.send_header("Content-Length", "0")
        request.end_headers()

    return handle


@pytest.mark.parametrize(
    "failure", [answer(503), answer(429), drop_mid_body], ids=["503", "429", "dropped"]
)
def test_a_failure_that_may_pass_is_tried_again(
    server: Server, tmp_path: Path, failure: Route
) -> None:
    server.routes["/events.json"] = fail_first(2, failure, serve(BODY))
    output = tmp_path / "events.json"

    fetch(server.url("/events.json"), output, retries=2, retry_delay=0)

    assert (output.read_bytes(), len(server.requests)) == (BODY, 3)


def test_a_failure_that_lasts_is_an_error_after_the_last_try(
    server: Server, tmp_path: Path
) -> None:
    server.routes["/events.json"] = answer(500)

    with pytest.raises(XccError, match="the server answered 500"):
        fetch(server.url("/events.json"), tmp_path / "events.json", retries=2, retry_delay=0)

    assert len(server.requests) == 3


def test_a_failure_that_will_not_pass_is_not_tried_again(server: Server, tmp_path: Path) -> None:
    with pytest.raises(XccError, match="404"):
        fetch(server.url("/missing.json"), tmp_path / "events.json", retries=2, retry_delay=0)

    assert len(server.requests) == 1


def test_a_retry_waits_as_the_server_asks_and_says_so(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = fail_first(1, answer(503, {"Retry-After": "0"}), serve(BODY))
    heard: list[str] = []

    fetch(
        server.url("/events.json"),
        tmp_path / "events.json",
        retries=1,
        retry_delay=30,  # the server's 0 s wins, or this test would take 30 s
        on_retry=heard.append,
    )

    assert heard == [
        f"cannot fetch {server.url('/events.json')}: the server answered 503 Service Unavailable;"
        " trying again in 0 s (1 of 1)"
    ]


def test_the_wait_doubles_at_each_try(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = fail_first(2, answer(503), serve(BODY))
    heard: list[str] = []

    fetch(
        server.url("/events.json"),
        tmp_path / "events.json",
        retries=2,
        retry_delay=0.001,
        on_retry=heard.append,
    )

    assert [line.split("trying again in ")[1] for line in heard] == [
        "0.001 s (1 of 2)",
        "0.002 s (2 of 2)",
    ]


@pytest.mark.parametrize(
    ("retry_after", "retry_delay"),
    [("Thu, 01 Jan 2015 00:00:00 GMT", 30), ("\xb2", 0)],
    ids=["a date, past: no wait, not 30 s", "no number: the usual wait"],
)
def test_a_retry_after_that_is_no_number_of_seconds_is_understood_or_ignored(
    server: Server, tmp_path: Path, retry_after: str, retry_delay: float
) -> None:
    failure = answer(503, {"Retry-After": retry_after})
    server.routes["/events.json"] = fail_first(1, failure, serve(BODY))
    heard: list[str] = []
    output = tmp_path / "events.json"

    fetch(
        server.url("/events.json"),
        output,
        retries=1,
        retry_delay=retry_delay,
        on_retry=heard.append,
    )

    assert heard[0].endswith("trying again in 0 s (1 of 1)")


def test_a_refused_connection_is_tried_again(tmp_path: Path) -> None:
    heard: list[str] = []

    with pytest.raises(XccError, match="cannot connect"):
        fetch(
            f"http://127.0.0.1:{free_port()}/events.json",
            tmp_path / "events.json",
            retries=2,
            retry_delay=0,
            on_retry=heard.append,
        )

    assert len(heard) == 2


def test_a_host_that_does_not_exist_is_not_tried_again(tmp_path: Path) -> None:
    heard: list[str] = []

    with pytest.raises(XccError, match="cannot connect"):
        fetch(
            "http://no-such-host.invalid/events.json",
            tmp_path / "events.json",
            retries=2,
            retry_delay=0,
            on_retry=heard.append,
        )

    assert heard == []


def cut_gzip_without_length(request: BaseHTTPRequestHandler) -> None:
    """Half a gzip file, its end marked only by closing the connection."""
    compressed = gzip.compress(BODY)
    request.send_response(200)
    request.end_headers()
    request.wfile.write(compressed[: len(compressed) // 2])
    request.close_connection = True


def test_a_gzip_file_cut_short_without_a_length_is_tried_again(
    server: Server, tmp_path: Path
) -> None:
    server.routes["/events.json.gz"] = fail_first(
        1, cut_gzip_without_length, serve(gzip.compress(BODY))
    )
    output = tmp_path / "events.json"

    fetch(server.url("/events.json.gz"), output, retries=1, retry_delay=0)

    assert output.read_bytes() == BODY


def test_cli_quiet_says_nothing_of_a_retry(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = fail_first(1, answer(503, {"Retry-After": "0"}), serve(BODY))
    output = tmp_path / "events.json"

    result = CliRunner().invoke(app, ["fetch", server.url("/events.json"), "-o", str(output), "-q"])

    assert (result.exit_code, result.stderr) == (0, "")


def test_cli_says_when_it_tries_again(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = fail_first(1, answer(503, {"Retry-After": "0"}), serve(BODY))
    output = tmp_path / "events.json"

    result = CliRunner().invoke(app, ["fetch", server.url("/events.json"), "-o", str(output)])

    assert (result.exit_code, "trying again in 0 s (1 of 2)" in result.stderr) == (0, True)


def test_cli_with_no_retries_fails_at_once(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = fail_first(1, answer(503), serve(BODY))
    output = tmp_path / "events.json"

    result = CliRunner().invoke(
        app, ["fetch", server.url("/events.json"), "-o", str(output), "--retries", "0"]
    )

    assert (result.exit_code, len(server.requests)) == (1, 1)


def test_run_tries_a_download_again(server: Server, tmp_path: Path) -> None:
    event = {"customer-id": 1, "timestamp": "2022-04-28T02:00:00"}
    line = json.dumps({"id": 1, "type": "page_view", "event": event}).encode() + b"\n"
    server.routes["/events.json"] = fail_first(1, answer(503, {"Retry-After": "0"}), serve(line))
    command = ["run", server.url("/events.json"), "--no-serve", "--data-dir", str(tmp_path)]

    result = CliRunner().invoke(app, [*command, "-d", str(tmp_path / "x.duckdb")])

    assert (result.exit_code, len(server.requests)) == (0, 2)


def test_a_stalled_server_times_out_and_leaves_no_file(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = stall

    with pytest.raises(XccError, match="read timeout"):
        fetch(server.url("/events.json"), tmp_path / "events.json", timeout=httpx.Timeout(0.3))

    assert _files(tmp_path) == []


def test_an_unwritable_output_is_an_error_before_downloading(
    server: Server, tmp_path: Path
) -> None:
    server.routes["/events.json"] = serve(BODY)
    blocker = tmp_path / "file"
    blocker.write_text("")

    with pytest.raises(XccError, match=r"^cannot write .*file/events.json"):
        fetch(server.url("/events.json"), blocker / "events.json")

    assert server.requests == []


def test_an_output_that_is_a_directory_is_an_error(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = serve(BODY)

    with pytest.raises(XccError, match="Is a directory"):
        fetch(server.url("/events.json"), tmp_path)


def test_an_output_that_is_a_symlink_is_written_through(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = serve(BODY)
    target = tmp_path / "store" / "events-2022.json"
    target.parent.mkdir()
    target.write_bytes(b"previous copy\n")
    output = tmp_path / "events.json"
    output.symlink_to(target)

    fetch(server.url("/events.json"), output)

    assert (output.is_symlink(), target.read_bytes()) == (True, BODY)


def test_a_dangling_symlink_output_creates_its_target(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = serve(BODY)
    target = tmp_path / "events-2022.json"
    output = tmp_path / "events.json"
    output.symlink_to(target)

    fetch(server.url("/events.json"), output)

    assert (output.is_symlink(), target.read_bytes()) == (True, BODY)


def test_a_symlink_outputs_validators_go_beside_its_target(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = serve(BODY, etag=ETAG)
    store = tmp_path / "store"
    store.mkdir()
    (tmp_path / "events.json").symlink_to(store / "events-2022.json")

    fetch(server.url("/events.json"), tmp_path / "events.json")

    assert (_files(tmp_path), _files(store)) == (
        ["events.json", "store"],
        ["events-2022.json", "events-2022.json.meta.json"],
    )


def test_a_second_fetch_through_a_symlink_is_up_to_date(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = serve(BODY, etag=ETAG)
    output = tmp_path / "events.json"
    output.symlink_to(tmp_path / "events-2022.json")
    fetch(server.url("/events.json"), output)

    result = fetch(server.url("/events.json"), output)

    assert result.downloaded is False


def test_an_output_that_is_not_a_regular_file_is_refused_before_downloading(
    server: Server, tmp_path: Path
) -> None:
    server.routes["/events.json"] = serve(BODY)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    with pytest.raises(XccError, match="it is a FIFO, not a regular file"):
        fetch(server.url("/events.json"), fifo)

    assert server.requests == []


def test_an_output_that_is_not_a_regular_file_is_left_as_it_is(
    server: Server, tmp_path: Path
) -> None:
    server.routes["/events.json"] = serve(BODY)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    with pytest.raises(XccError):
        fetch(server.url("/events.json"), fifo)

    assert (_files(tmp_path), stat.S_ISFIFO(fifo.lstat().st_mode)) == (["fifo"], True)


def test_cli_refuses_an_output_that_is_not_a_regular_file_in_one_line(
    server: Server, tmp_path: Path
) -> None:
    server.routes["/events.json"] = serve(BODY)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    result = CliRunner().invoke(app, ["fetch", server.url("/events.json"), "-o", str(fifo)])

    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: cannot write {fifo}: it is a FIFO, not a regular file (left as it is)\n",
    )


@pytest.mark.parametrize("url", ["ftp://example.com/events.json", "events.json", "http://"])
def test_a_url_that_is_not_http_is_a_usage_error(tmp_path: Path, url: str) -> None:
    with pytest.raises(UsageError):
        fetch(url, tmp_path / "events.json")


def test_a_password_in_the_url_is_not_shown(server: Server, tmp_path: Path) -> None:
    url = server.url("/missing.json").replace("http://", "http://user:s3cret@")

    with pytest.raises(XccError) as raised:
        fetch(url, tmp_path / "events.json")

    assert "s3cret" not in str(raised.value)


def test_a_password_in_the_url_is_shown_masked_with_its_user(
    server: Server, tmp_path: Path
) -> None:
    url = server.url("/missing.json").replace("http://", "http://alice:s3cret@")

    with pytest.raises(XccError) as raised:
        fetch(url, tmp_path / "events.json")

    assert str(raised.value).startswith(f"cannot fetch {url.replace('s3cret', '***')}: ")


def test_a_password_in_the_url_is_masked_in_the_sidecar(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = serve(BODY, etag=ETAG)
    url = server.url("/events.json").replace("http://", "http://alice:s3cret@")

    fetch(url, tmp_path / "events.json")

    assert json.loads((tmp_path / "events.json.meta.json").read_text())["url"] == url.replace(
        "s3cret", "***"
    )


def test_a_second_fetch_of_a_url_with_a_password_sends_the_etag(
    server: Server, tmp_path: Path
) -> None:
    server.routes["/events.json"] = serve(BODY, etag=ETAG)
    url = server.url("/events.json").replace("http://", "http://alice:s3cret@")
    output = tmp_path / "events.json"
    fetch(url, output)

    result = fetch(url, output)

    assert result.downloaded is False


def test_a_progress_bar_does_not_change_the_download(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = serve(BODY)
    output = tmp_path / "events.json"

    fetch(server.url("/events.json"), output, progress=True)

    assert output.read_bytes() == BODY


def test_cli_prints_the_path_on_stdout(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = serve(BODY)
    output = tmp_path / "events.json"

    result = CliRunner().invoke(app, ["fetch", server.url("/events.json"), "-o", str(output)])

    assert (result.exit_code, result.stdout) == (0, f"{output}\n")


def test_cli_reports_a_304_on_stderr(server: Server, tmp_path: Path) -> None:
    server.routes["/events.json"] = serve(BODY, etag=ETAG)
    arguments = ["fetch", server.url("/events.json"), "-o", str(tmp_path / "events.json")]
    CliRunner().invoke(app, arguments)

    result = CliRunner().invoke(app, arguments)

    assert "up to date" in result.stderr


def test_cli_verbose_shows_the_validator_sent_and_the_answer(
    server: Server, tmp_path: Path
) -> None:
    server.routes["/events.json"] = serve(BODY, etag=ETAG)
    arguments = ["fetch", server.url("/events.json"), "-o", str(tmp_path / "events.json")]
    CliRunner().invoke(app, arguments)

    result = CliRunner().invoke(app, [*arguments, "--verbose"])

    assert f"(If-None-Match: {ETAG}) answered 304" in result.stderr


def test_cli_error_is_one_line_with_exit_code_1(server: Server, tmp_path: Path) -> None:
    url = server.url("/missing.json")

    result = CliRunner().invoke(app, ["fetch", url, "-o", str(tmp_path / "events.json")])

    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: cannot fetch {url}: the server answered 404 Not Found\n",
    )


def test_cli_bad_url_exits_with_code_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["fetch", "ftp://x/y", "-o", str(tmp_path / "e.json")])

    assert (result.exit_code, result.stderr) == (
        2,
        "Error: not an http:// or https:// URL: ftp://x/y\n",
    )


def test_cli_file_url_says_to_give_the_path_to_sessionize_or_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["fetch", "file:///tmp/x/events.json", "-o", str(tmp_path / "e.json")]
    )

    assert (result.exit_code, result.stderr) == (
        2,
        "Error: fetch downloads only http:// and https:// URLs, and /tmp/x/events.json is a "
        "local file: sessionize and run take its path as it is "
        "(xcc-sessions run /tmp/x/events.json)\n",
    )
