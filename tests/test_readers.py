"""Sharing one database look among concurrent requests without ever answering from the past."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from xcc_sessions.readers import SharedLook


def run_together(callers: int, call: Callable[[], object]) -> None:
    start = threading.Barrier(callers)

    def caller() -> None:
        start.wait()
        call()

    threads = [threading.Thread(target=caller) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_concurrent_callers_share_looks() -> None:
    looks: list[float] = []

    def look() -> int:
        looks.append(time.monotonic())
        time.sleep(0.2)
        return len(looks)

    shared = SharedLook(look)
    run_together(16, shared.get)

    # The first caller's look, then one more for everyone who arrived while it ran.
    assert len(looks) <= 3


def test_no_caller_gets_a_look_that_began_before_its_call() -> None:
    def look() -> float:
        began = time.monotonic()
        time.sleep(0.01)
        return began

    shared = SharedLook(look)
    late: list[float] = []

    def call_repeatedly() -> None:
        for _ in range(20):
            asked = time.monotonic()
            began = shared.get()
            if began < asked:
                late.append(asked - began)

    run_together(8, call_repeatedly)

    assert late == []


def test_a_failed_look_fails_every_caller_who_waited_for_it() -> None:
    def look() -> int:
        time.sleep(0.1)
        raise LookupError("database gone")

    shared = SharedLook(look)
    failures: list[str] = []

    def call() -> None:
        with pytest.raises(LookupError) as error:
            shared.get()
        failures.append(str(error.value))

    run_together(4, call)

    assert failures == ["database gone"] * 4
