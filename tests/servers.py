"""Real servers in child processes, for the tests that start one: a free port, and waiting."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_json(url: str, server: subprocess.Popen[str], timeout: float = 60) -> Any:
    """The JSON at `url`, once the server (still running) answers it successfully."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, f"the server exited: {server.communicate()[1]}"
        try:
            return httpx.get(url, timeout=2).raise_for_status().json()
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"no answer from {url} within {timeout} s")


def json_from_server(
    command: Sequence[str], path: str, port: int, cwd: Path, env: dict[str, str] | None = None
) -> Any:
    """Start the server `command` (listening on `port`), return the JSON at `path` once it
    answers, and stop the server."""
    server = subprocess.Popen(command, cwd=cwd, env=env, stderr=subprocess.PIPE, text=True)
    try:
        return wait_for_json(f"http://127.0.0.1:{port}{path}", server)
    finally:
        server.terminate()
        server.communicate(timeout=10)
