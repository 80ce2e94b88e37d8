"""The synthetic event generator: deterministic, in the brief's shape, with realistic structure."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from xcc_sessions import generate
from xcc_sessions.cli import app
from xcc_sessions.errors import UsageError, XccError
from xcc_sessions.generate import TYPES, generate_events

COMMON_KEYS = ["user-agent", "ip", "customer-id", "timestamp"]
# The type's own keys after the common ones; referrer is optional on page_views.
TYPE_KEYS = {
    "page_view": ["page"],
    "search": ["query"],
    "add_product_to_cart": ["product"],
    "remove_product_from_cart": ["product"],
    "visit_related_product": ["product", "position"],
    "visit_recently_visited_product": ["product", "position"],
    "visit_personal_recommendation": ["product", "position"],
    "sign_up_success": [],
    "placed_order": [],
}
SAMPLE_LINES = 20_000


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("generated") / "events.json"
    generate_events(path, SAMPLE_LINES, seed=7)
    return path


@pytest.fixture(scope="module")
def sample(sample_file: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in sample_file.read_text().splitlines()]


def _timestamp(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["event"]["timestamp"])


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"

    generate_events(first, 3_000, seed=42)
    generate_events(second, 3_000, seed=42)

    assert first.read_bytes() == second.read_bytes()


def test_another_seed_writes_other_events(tmp_path: Path) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"

    generate_events(first, 3_000, seed=1)
    generate_events(second, 3_000, seed=2)

    assert first.read_bytes() != second.read_bytes()


@pytest.mark.parametrize("lines", [0, 1, 2, 99, 1_001])
def test_writes_exactly_the_requested_number_of_lines(tmp_path: Path, lines: int) -> None:
    path = tmp_path / "events.json"

    generate_events(path, lines)

    assert len(path.read_bytes().splitlines()) == lines


def test_chunks_join_into_one_consistent_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A few customers per chunk makes a small file span many chunks.
    monkeypatch.setattr(generate, "MAX_CUSTOMERS_PER_CHUNK", 3)
    path = tmp_path / "events.json"
    chunks: list[int] = []

    generate_events(path, 2_000, on_progress=chunks.append)

    ids = {json.loads(line)["id"] for line in path.read_text().splitlines()}
    assert len(chunks) > 10, "the file should span many chunks"
    assert ids == set(range(2_000))


def test_every_line_ends_with_a_newline(sample_file: Path) -> None:
    assert sample_file.read_bytes().endswith(b"}}\n")


def test_every_line_has_the_briefs_keys_in_order(sample: list[dict[str, Any]]) -> None:
    unexpected = [
        event
        for event in sample
        if list(event) != ["id", "type", "event"]
        or [key for key in event["event"] if key != "referrer"]
        != COMMON_KEYS + TYPE_KEYS[event["type"]]
    ]

    assert unexpected == []


def test_every_field_has_the_briefs_type(sample: list[dict[str, Any]]) -> None:
    def well_typed(event: dict[str, Any]) -> bool:
        fields = event["event"]
        return (
            isinstance(event["id"], int)
            and event["type"] in TYPES
            and isinstance(fields["user-agent"], str)
            and len(fields["ip"].split(".")) == 4
            and (fields["customer-id"] is None or isinstance(fields["customer-id"], int))
            and _timestamp(event).tzinfo is None
            and all(
                isinstance(fields[key], int) for key in ("product", "position") if key in fields
            )
            and all(
                fields[key].startswith("https://") for key in ("page", "referrer") if key in fields
            )
        )

    assert all(well_typed(event) for event in sample)


def test_every_brief_event_type_occurs_in_lower_case(sample: list[dict[str, Any]]) -> None:
    assert {event["type"] for event in sample} == set(TYPE_KEYS)


def test_ids_are_unique(sample: list[dict[str, Any]]) -> None:
    assert len({event["id"] for event in sample}) == len(sample)


def test_about_30_percent_of_lines_are_logged_in(sample: list[dict[str, Any]]) -> None:
    logged_in = sum(event["event"]["customer-id"] is not None for event in sample)

    assert 0.27 <= logged_in / len(sample) <= 0.33


def test_lines_average_about_300_bytes(sample_file: Path) -> None:
    assert 250 <= sample_file.stat().st_size / SAMPLE_LINES <= 350


def test_lines_are_not_in_time_order(sample: list[dict[str, Any]]) -> None:
    timestamps = [_timestamp(event) for event in sample]

    assert timestamps != sorted(timestamps)


def test_every_order_comes_with_a_checkout_page_view_at_the_same_instant(
    sample: list[dict[str, Any]],
) -> None:
    checkouts = {
        (event["event"]["customer-id"], event["event"]["timestamp"])
        for event in sample
        if event["type"] == "page_view" and event["event"]["page"].endswith("/checkout")
    }
    orders = [
        (event["event"]["customer-id"], event["event"]["timestamp"])
        for event in sample
        if event["type"] == "placed_order"
    ]

    assert [order for order in orders if order not in checkouts] == []


def test_about_one_line_in_a_hundred_is_an_order(sample: list[dict[str, Any]]) -> None:
    orders = sum(event["type"] == "placed_order" for event in sample)

    assert 0.002 <= orders / len(sample) <= 0.02


def test_orders_are_placed_by_logged_in_customers(sample: list[dict[str, Any]]) -> None:
    assert all(
        event["event"]["customer-id"] is not None
        for event in sample
        if event["type"] == "placed_order"
    )


def _customer_gaps(sample: list[dict[str, Any]]) -> list[timedelta]:
    """The time between each logged-in event and the same customer's previous event."""
    by_customer: defaultdict[int, list[datetime]] = defaultdict(list)
    for event in sample:
        if event["event"]["customer-id"] is not None:
            by_customer[event["event"]["customer-id"]].append(_timestamp(event))
    return [
        later - earlier
        for timestamps in map(sorted, by_customer.values())
        for earlier, later in pairwise(timestamps)
    ]


def test_a_customers_events_are_minutes_or_hours_apart(sample: list[dict[str, Any]]) -> None:
    gaps = _customer_gaps(sample)

    assert [gap for gap in gaps if timedelta(minutes=10) < gap < timedelta(hours=1)] == []


def test_customers_come_back_in_several_bursts(sample: list[dict[str, Any]]) -> None:
    returns = [gap for gap in _customer_gaps(sample) if gap >= timedelta(hours=1)]

    assert len(returns) >= 100


def test_some_landing_page_views_have_a_referrer(sample: list[dict[str, Any]]) -> None:
    page_views = [event for event in sample if event["type"] == "page_view"]
    with_referrer = [event for event in page_views if "referrer" in event["event"]]

    assert 0.05 <= len(with_referrer) / len(page_views) <= 0.5


def test_a_negative_number_of_lines_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="number of lines"):
        generate_events(tmp_path / "events.json", -1)


def test_an_unwritable_output_is_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")

    with pytest.raises(XccError, match="cannot write"):
        generate_events(blocker / "events.json", 10)


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    output = tmp_path / "events.json"
    output.mkdir()

    with pytest.raises(XccError):
        generate_events(output, 10)

    assert [path.name for path in tmp_path.iterdir()] == ["events.json"]


def test_an_output_that_is_a_symlink_is_written_through(tmp_path: Path) -> None:
    target = tmp_path / "store" / "events-2022.json"
    target.parent.mkdir()
    target.write_bytes(b"previous copy\n")
    output = tmp_path / "events.json"
    output.symlink_to(target)

    generate_events(output, 10)

    assert (output.is_symlink(), len(target.read_bytes().splitlines())) == (True, 10)


def test_a_dangling_symlink_output_creates_its_target(tmp_path: Path) -> None:
    target = tmp_path / "events-2022.json"
    output = tmp_path / "events.json"
    output.symlink_to(target)

    generate_events(output, 10)

    assert (output.is_symlink(), len(target.read_bytes().splitlines())) == (True, 10)


def test_an_output_that_is_not_a_regular_file_is_left_as_it_is(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    with pytest.raises(XccError):
        generate_events(fifo, 10)

    assert ([path.name for path in tmp_path.iterdir()], stat.S_ISFIFO(fifo.lstat().st_mode)) == (
        ["fifo"],
        True,
    )


def test_cli_refuses_an_output_that_is_not_a_regular_file_in_one_line(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    result = CliRunner().invoke(app, ["generate", "-n", "10", "-o", str(fifo), "-q"])

    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: cannot write {fifo}: it is a FIFO, not a regular file (left as it is)\n",
    )


@pytest.mark.parametrize(
    ("stop", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"]
)
def test_a_stopped_run_exits_with_the_signals_code_and_removes_its_temporary_file(
    tmp_path: Path, stop: signal.Signals, exit_code: int
) -> None:
    command = ["generate", "-n", "5000000", "-o", str(tmp_path / "events.json"), "-q"]
    with subprocess.Popen([sys.executable, "-m", "xcc_sessions", *command]) as child:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".events.json.*.part")) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # into the writing of chunks, where Polars meets the signal
        child.send_signal(stop)

    assert (child.returncode, list(tmp_path.iterdir())) == (exit_code, [])


def test_progress_reports_reach_the_number_of_lines(tmp_path: Path) -> None:
    reports: list[int] = []

    generate_events(tmp_path / "events.json", 500, on_progress=reports.append)

    assert reports[-1] == 500


def test_cli_writes_the_requested_lines(tmp_path: Path) -> None:
    output = tmp_path / "events.json"

    result = CliRunner().invoke(app, ["generate", "-n", "250", "-o", str(output), "--seed", "3"])

    assert (result.exit_code, len(output.read_text().splitlines())) == (0, 250)


def test_cli_prints_the_written_path_on_stdout(tmp_path: Path) -> None:
    output = tmp_path / "events.json"

    result = CliRunner().invoke(app, ["generate", "-n", "10", "-o", str(output), "-q"])

    assert result.stdout == f"{output}\n"


def test_cli_rejects_a_negative_line_count_with_exit_code_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", "-n", "-5", "-o", str(tmp_path / "x.json")])

    assert (result.exit_code, "Invalid value for '--lines'" in result.stderr) == (2, True)
