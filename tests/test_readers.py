"""The readers: one database look shared among concurrent requests without ever answering from
the past, and the log of a pool whose PostgreSQL is unreachable."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator

import pytest

from xcc_sessions.database import Database
from xcc_sessions.readers import PostgresReader, SharedLook


def together(callers: int, call: Callable[[], Awaitable[object]]) -> list[object]:
    async def main() -> list[object]:
        return list(await asyncio.gather(*(call() for _ in range(callers)), return_exceptions=True))

    return asyncio.run(main())


def test_concurrent_callers_share_looks() -> None:
    looks: list[float] = []

    def look() -> int:
        looks.append(time.monotonic())
        time.sleep(0.05)
        return len(looks)

    shared = SharedLook(look)
    together(16, shared.get)

    # The first caller's look, then one more for everyone who arrived while it ran.
    assert len(looks) == 2


def test_no_caller_gets_a_look_that_began_before_its_call() -> None:
    def look() -> float:
        began = time.monotonic()
        time.sleep(0.005)
        return began

    shared = SharedLook(look)
    late: list[float] = []

    async def call_repeatedly(pause: float) -> None:
        for _ in range(20):
            # Callers pausing differently arrive at every point of a look that is running.
            await asyncio.sleep(pause)
            asked = time.monotonic()
            began = await shared.get()
            if began < asked:
                late.append(asked - began)

    async def main() -> None:
        await asyncio.gather(*(call_repeatedly(caller * 0.001) for caller in range(8)))

    asyncio.run(main())

    assert late == []


def test_a_failed_look_fails_every_caller_who_waited_for_it() -> None:
    def look() -> int:
        time.sleep(0.05)
        raise LookupError("database gone")

    outcomes = together(4, SharedLook(look).get)

    assert [str(outcome) for outcome in outcomes] == ["database gone"] * 4


def test_a_look_after_a_failure_is_tried_again() -> None:
    answers: Iterator[Exception | int] = iter([LookupError("down"), 7])

    def look() -> int:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    shared = SharedLook(look)

    async def twice() -> tuple[object, int]:
        with pytest.raises(LookupError):
            await shared.get()
        return ("failed then", await shared.get())

    assert asyncio.run(twice()) == ("failed then", 7)


def test_an_unreachable_server_is_logged_once_not_at_every_retry(
    caplog: pytest.LogCaptureFixture,
) -> None:
    attempts = 0
    stop = threading.Event()

    def hang_up(listener: socket.socket) -> None:
        """A server that is no PostgreSQL: it counts each connection and closes it at once."""
        nonlocal attempts
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                listener.accept()[0].close()
                attempts += 1

    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(0.1)
        server = threading.Thread(target=hang_up, args=(listener,))
        server.start()
        port = listener.getsockname()[1]
        reader = PostgresReader(Database("postgresql", f"postgresql://postgres@127.0.0.1:{port}/x"))
        with caplog.at_level(logging.WARNING, logger="psycopg.pool"):
            reader.open()
            time.sleep(2.5)  # the pool tries at once, then again after about one second and two
            reader.close()
        stop.set()
        server.join()

    failures = [record for record in caplog.records if "error connecting" in record.getMessage()]
    assert (len(failures), attempts >= 2) == (1, True)
