"""The sessionizer against hand-computed cases for each rule, and against a plain-Python reference.

Rule numbers refer to the module docstring of xcc_sessions.sessionize (the issue's contract).
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import lzma
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from xcc_sessions.cli import app
from xcc_sessions.errors import XccError
from xcc_sessions.schema import EVENTS, SESSIONS
from xcc_sessions.sessionize import (
    OUTPUT_FILES,
    RejectedLinesError,
    Summary,
    sessionize,
    sessionize_in_memory,
)

BASE = datetime(2022, 4, 28, 2, 44, 46, 290271)
GAP = timedelta(minutes=30)


def line(
    id: int,
    customer: int | None,
    at: datetime | str,
    type: str = "page_view",
    **payload: Any,
) -> str:
    event = {
        "user-agent": payload.pop("user_agent", "UA"),
        "ip": payload.pop("ip", "10.0.0.1"),
        "customer-id": customer,
        "timestamp": at if isinstance(at, str) else at.isoformat(),
        **payload,
    }
    return json.dumps({"id": id, "type": type, "event": event})


def write(directory: Path, lines: list[str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "events.json"
    path.write_text("".join(f"{text}\n" for text in lines))
    return path


@dataclass
class Run:
    summary: Summary
    sessions: pl.DataFrame
    events: pl.DataFrame
    rejected: list[dict[str, Any]]
    summary_json: dict[str, Any]


def run(directory: Path, lines: list[str], gap: timedelta = GAP) -> Run:
    output = directory / "out"
    summary = sessionize(write(directory, lines), output, gap=gap)
    return Run(
        summary=summary,
        sessions=pl.read_parquet(output / "sessions.parquet"),
        events=pl.read_parquet(output / "events.parquet"),
        rejected=[
            json.loads(text) for text in (output / "rejected.ndjson").read_text().splitlines()
        ],
        summary_json=json.loads((output / "summary.json").read_text()),
    )


def session_sizes(result: Run) -> list[int]:
    return result.sessions["event_count"].to_list()


# Rule 5: the gap and the order of events.


def test_a_gap_exactly_equal_to_the_timeout_stays_in_the_session(tmp_path: Path) -> None:
    result = run(tmp_path, [line(1, 7, BASE), line(2, 7, BASE + GAP)])

    assert session_sizes(result) == [2]


def test_a_gap_one_microsecond_longer_than_the_timeout_starts_a_session(tmp_path: Path) -> None:
    later = BASE + GAP + timedelta(microseconds=1)

    result = run(tmp_path, [line(1, 7, BASE), line(2, 7, later)])

    assert session_sizes(result) == [1, 1]


def test_the_gap_option_changes_the_timeout(tmp_path: Path) -> None:
    lines = [line(1, 7, BASE), line(2, 7, BASE + timedelta(minutes=40))]

    result = run(tmp_path, lines, gap=timedelta(minutes=45))

    assert session_sizes(result) == [2]


def test_lines_out_of_time_order_are_sessionized_in_time_order(tmp_path: Path) -> None:
    lines = [
        line(3, 7, BASE + timedelta(hours=2)),
        line(1, 7, BASE),
        line(4, 7, BASE + timedelta(hours=2, minutes=10)),
        line(2, 7, BASE + timedelta(minutes=20)),
    ]

    result = run(tmp_path, lines)

    assert result.events.select("id", "session_id").rows() == [
        (1, "7-20220428T024446290271Z"),
        (2, "7-20220428T024446290271Z"),
        (3, "7-20220428T044446290271Z"),
        (4, "7-20220428T044446290271Z"),
    ]


def test_equal_timestamps_are_ordered_by_id(tmp_path: Path) -> None:
    lines = [
        line(9, 7, BASE, "search", user_agent="second"),
        line(5, 7, BASE, "page_view", user_agent="first"),
    ]

    result = run(tmp_path, lines)

    assert (result.events["id"].to_list(), result.sessions["user_agent"].item()) == (
        [5, 9],
        "first",
    )


def test_sessions_are_per_customer(tmp_path: Path) -> None:
    lines = [line(1, 7, BASE), line(2, 8, BASE + timedelta(minutes=1)), line(3, 7, BASE)]

    result = run(tmp_path, lines)

    assert result.sessions.select("customer_id", "session_index", "event_count").rows() == [
        (7, 1, 2),
        (8, 1, 1),
    ]


def test_session_index_counts_each_customers_sessions_in_time_order(tmp_path: Path) -> None:
    hours = [5, 0, 3]
    lines = [line(index, 7, BASE + timedelta(hours=hour)) for index, hour in enumerate(hours)]

    result = run(tmp_path, lines)

    assert result.sessions.select("session_index", "started_at").rows() == [
        (1, BASE),
        (2, BASE + timedelta(hours=3)),
        (3, BASE + timedelta(hours=5)),
    ]


# Rule 6: what a session holds.


def test_a_single_event_session_lasts_zero_seconds(tmp_path: Path) -> None:
    result = run(tmp_path, [line(1, 7, BASE)])

    assert result.sessions.select("started_at", "ended_at", "duration_seconds").row(0) == (
        BASE,
        BASE,
        0.0,
    )


def test_duration_keeps_microseconds(tmp_path: Path) -> None:
    lines = [line(1, 7, BASE), line(2, 7, BASE + timedelta(minutes=5, microseconds=7))]

    result = run(tmp_path, lines)

    assert result.sessions["duration_seconds"].item() == 300.000007


def test_durations_are_seconds_rounded_like_python(tmp_path: Path) -> None:
    lengths = [timedelta(minutes=29, seconds=59, microseconds=customer) for customer in range(40)]
    lines = [
        text
        for customer, length in enumerate(lengths)
        for text in (
            line(2 * customer, customer, BASE),
            line(2 * customer + 1, customer, BASE + length),
        )
    ]

    result = run(tmp_path, lines)

    assert result.sessions["duration_seconds"].to_list() == [
        length / timedelta(seconds=1) for length in lengths
    ]


def test_session_columns_follow_the_rules(tmp_path: Path) -> None:
    lines = [
        line(1, 7, BASE, "search", query="shears", user_agent="first-ua", ip="1.1.1.1"),
        line(2, 7, BASE + timedelta(minutes=1), "page_view", page="/home"),
        line(3, 7, BASE + timedelta(minutes=2), "page_view", page="/p/1", referrer="https://r1"),
        line(
            4, 7, BASE + timedelta(minutes=3), "page_view", page="/checkout", referrer="https://r2"
        ),
        line(5, 7, BASE + timedelta(minutes=3), "placed_order"),
        line(6, 7, BASE + timedelta(minutes=9), "placed_order"),
    ]

    result = run(tmp_path, lines)

    assert result.sessions.row(0, named=True) == {
        "session_id": "7-20220428T024446290271Z",
        "customer_id": 7,
        "session_index": 1,
        "started_at": BASE,
        "ended_at": BASE + timedelta(minutes=9),
        "duration_seconds": 540.0,
        "event_count": 6,
        "page_view_count": 3,
        "order_count": 2,
        "first_order_at": BASE + timedelta(minutes=3),
        "referrer": "https://r1",
        "landing_page": "/home",
        "user_agent": "first-ua",
        "ip": "1.1.1.1",
    }


def test_a_session_without_order_or_page_view_has_nulls_there(tmp_path: Path) -> None:
    result = run(tmp_path, [line(1, 7, BASE, "search")])

    assert result.sessions.select("first_order_at", "referrer", "landing_page").row(0) == (
        None,
        None,
        None,
    )


def test_landing_page_is_the_page_of_the_first_page_view_even_if_null(tmp_path: Path) -> None:
    lines = [line(1, 7, BASE, "page_view"), line(2, 7, BASE, "page_view", page="/later")]

    result = run(tmp_path, lines)

    assert result.sessions["landing_page"].item() is None


# Rule 4: types.


def test_types_compare_case_insensitively(tmp_path: Path) -> None:
    lines = [
        line(1, 7, BASE, "PAGE_VIEW", page="/checkout"),
        line(2, 7, BASE, "Placed_Order"),
        line(3, 7, BASE, "SOMETHING_NEW"),
    ]

    result = run(tmp_path, lines)

    assert (
        result.sessions.select("page_view_count", "order_count", "event_count").row(0),
        result.events["type"].to_list(),
    ) == ((1, 1, 3), ["page_view", "placed_order", "something_new"])


# Rule 3: timestamps.


def test_offsets_are_converted_to_utc_before_sessionizing(tmp_path: Path) -> None:
    lines = [
        line(1, 7, "2022-04-28T10:00:00+02:00"),
        line(2, 7, "2022-04-28T08:30:00Z"),
        line(3, 7, "2022-04-28T08:15:00"),
    ]

    result = run(tmp_path, lines)

    assert result.events.select("id", "timestamp").rows() == [
        (1, datetime(2022, 4, 28, 8, 0)),
        (3, datetime(2022, 4, 28, 8, 15)),
        (2, datetime(2022, 4, 28, 8, 30)),
    ]


# Rule 1: every line accounted for.


def test_a_redelivered_line_is_a_duplicate_and_the_first_copy_wins(tmp_path: Path) -> None:
    lines = [
        line(1, 7, BASE, page="/first"),
        line(2, 7, BASE + timedelta(minutes=1)),
        line(1, 7, BASE + timedelta(hours=5), page="/second"),
    ]

    result = run(tmp_path, lines)

    assert (result.summary.duplicates, result.events.select("id", "page").rows()) == (
        1,
        [(1, "/first"), (2, None)],
    )


def test_lines_judged_after_the_stream_take_part_in_every_rule(tmp_path: Path) -> None:
    # A nested array sends a line to Python's json, which judges it after the streaming pass.
    judged_later = line(1, 7, BASE, page="/first")[:-1] + ', "tags": [[1]]}'
    lines = [
        judged_later,
        line(1, 7, BASE + timedelta(minutes=1), page="/second"),
        line(2, 7, BASE + timedelta(minutes=2)),
        '{"id": [1], "type": "x", "event": {}}',
    ]

    result = run(tmp_path, lines)

    assert (
        result.summary.duplicates,
        result.summary.rejected_by_reason,
        result.events.select("id", "page", "session_id").rows(),
    ) == (
        1,
        {"invalid_id": 1},
        [(1, "/first", f"7-{BASE:%Y%m%dT%H%M%S%f}Z"), (2, None, f"7-{BASE:%Y%m%dT%H%M%S%f}Z")],
    )


def test_a_nul_in_a_string_is_sessionized_as_the_replacement_character(tmp_path: Path) -> None:
    # PostgreSQL's text cannot hold U+0000: the event is kept, with U+FFFD in its place.
    lines = [line(1, 7, BASE, type="search", query="shoes\x00"), line(2, 7, BASE)]

    result = run(tmp_path, lines)

    assert (result.summary.rejected, result.events.select("id", "query").rows()) == (
        0,
        [(1, "shoes\ufffd"), (2, None)],
    )


def test_an_id_first_seen_on_a_rejected_line_is_not_a_duplicate(tmp_path: Path) -> None:
    lines = [line(1, 7, "not a time"), line(1, 7, BASE)]

    result = run(tmp_path, lines)

    assert (result.summary.rejected, result.summary.duplicates, result.summary.events) == (1, 0, 1)


def test_anonymous_lines_are_counted_not_sessionized(tmp_path: Path) -> None:
    lines = [line(1, None, BASE), line(2, 7, BASE)]

    result = run(tmp_path, lines)

    assert (result.summary.anonymous, result.events["id"].to_list()) == (1, [2])


def test_anonymous_lines_spaced_otherwise_are_anonymous_too(tmp_path: Path) -> None:
    compact = json.dumps(json.loads(line(1, None, BASE)), separators=(",", ":"))
    spaced = line(2, None, BASE).replace('"customer-id": null', '"customer-id" :null')

    result = run(tmp_path, [compact, spaced, line(3, 7, BASE)])

    assert (result.summary.anonymous, result.events["id"].to_list()) == (2, [3])


def test_counts_add_up_and_match_summary_json(tmp_path: Path) -> None:
    lines = [
        line(1, 7, BASE),
        "",
        "{oops",
        line(2, None, BASE),
        line(1, 7, BASE),
        '{"id": "x"}',
        line(3, 8, BASE),
    ]

    result = run(tmp_path, lines)

    assert result.summary_json | {"seconds": 0, "input": None} == {
        "lines": 7,
        "blank": 1,
        "rejected": 2,
        "rejected_by_reason": {"invalid_id": 1, "invalid_json": 1},
        "anonymous": 1,
        "duplicates": 1,
        "events": 2,
        "customers": 2,
        "sessions": 2,
        "gap_seconds": 1800.0,
        "input": None,
        "seconds": 0,
    }


def test_summary_describes_the_input_file(tmp_path: Path) -> None:
    result = run(tmp_path, [line(1, 7, BASE)])
    path = tmp_path / "events.json"

    assert result.summary_json["input"] == {
        "path": str(path),
        "bytes": path.stat().st_size,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }


# Rule 2: rejected lines.


def test_rejected_lines_are_written_with_number_reason_and_text(tmp_path: Path) -> None:
    lines = [line(1, 7, BASE), "", "not json", '{"id": 2, "type": 3, "event": {}}']

    result = run(tmp_path, lines)

    assert result.rejected == [
        {"line": 3, "reason": "invalid_json", "text": "not json"},
        {"line": 4, "reason": "invalid_type", "text": '{"id": 2, "type": 3, "event": {}}'},
    ]


def test_lines_that_are_not_utf8_are_rejected_and_the_rest_sessionized(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_bytes(
        f"{line(1, 7, BASE)}\n".encode() + b"\xff\xfe caf\xe9\r\n\n" + line(2, 7, BASE).encode()
    )

    summary = sessionize(path, tmp_path / "out")
    rejected = (tmp_path / "out" / "rejected.ndjson").read_text()

    assert (summary.lines, summary.blank, summary.events, json.loads(rejected)) == (
        4,
        1,
        2,
        {"line": 2, "reason": "invalid_utf8", "text": "\\xff\\xfe caf\\xe9"},
    )


def test_strict_mode_raises_after_writing_everything(tmp_path: Path) -> None:
    path = write(tmp_path, [line(1, 7, BASE), "bad"])

    with pytest.raises(RejectedLinesError) as raised:
        sessionize(path, tmp_path / "out", strict=True)

    assert (raised.value.summary.rejected, (tmp_path / "out" / "sessions.parquet").exists()) == (
        1,
        True,
    )


# Rule 7: outputs.


def test_outputs_have_the_contract_schemas(tmp_path: Path) -> None:
    result = run(tmp_path, [line(1, 7, BASE, page="/p", product=3, position=2)])

    assert (result.sessions.schema, result.events.schema) == (SESSIONS, EVENTS)


def test_an_input_without_events_writes_empty_files_with_the_schemas(tmp_path: Path) -> None:
    result = run(tmp_path, ["", line(1, None, BASE)])

    assert (result.sessions.schema, result.events.schema, result.sessions.height) == (
        SESSIONS,
        EVENTS,
        0,
    )


def test_an_empty_file_is_zero_lines_not_an_error(tmp_path: Path) -> None:
    result = run(tmp_path, [])

    assert (result.summary.lines, result.sessions.schema) == (0, SESSIONS)


def test_keys_that_appear_only_in_late_lines_are_kept(tmp_path: Path) -> None:
    early = [line(index, 7, BASE + timedelta(hours=index)) for index in range(1, 3000)]
    late = line(5000, 9, BASE, "visit_product", product=42, position=3, referrer="https://late")

    result = run(tmp_path, [*early, late])

    assert result.events.filter(pl.col("id") == 5000).select("product", "position", "referrer").row(
        0
    ) == (42, 3, "https://late")


def test_the_same_input_gives_the_same_session_ids(tmp_path: Path) -> None:
    lines = [line(index, index % 3, BASE + timedelta(minutes=7 * index)) for index in range(50)]

    first, second = run(tmp_path / "a", lines), run(tmp_path / "b", lines)

    assert first.sessions["session_id"].to_list() == second.sessions["session_id"].to_list()


def test_a_missing_input_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(XccError, match="does not exist"):
        sessionize(tmp_path / "nope.json", tmp_path / "out")


def test_a_directory_as_input_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(XccError, match="is a directory"):
        sessionize(tmp_path, tmp_path / "out")


def test_a_gzip_file_with_a_line_that_is_not_utf8_is_read_line_by_line(tmp_path: Path) -> None:
    lines = [line(1, 7, BASE), line(2, 7, BASE + timedelta(minutes=1))]
    text = f"{lines[0]}\n".encode() + b"\xff\xfe not utf-8\n" + f"{lines[1]}\n".encode()
    compressed = tmp_path / "events.json.gz"
    compressed.write_bytes(gzip.compress(text))

    summary = sessionize(compressed, tmp_path / "out")

    assert (summary.lines, summary.rejected_by_reason, summary.events) == (
        3,
        {"invalid_utf8": 1},
        2,
    )


@pytest.mark.parametrize("compress", [bytes, gzip.compress], ids=["plain", "gzip"])
def test_a_byte_order_mark_before_the_first_line_is_ignored(
    tmp_path: Path, compress: Callable[[bytes], bytes]
) -> None:
    events = tmp_path / "events.json"
    events.write_bytes(compress(b"\xef\xbb\xbf" + f"{line(1, 7, BASE)}\n".encode()))

    summary = sessionize(events, tmp_path / "out")

    assert (summary.rejected, summary.events) == (0, 1)


def zstd_frame(content: bytes) -> bytes:
    """`content` (under 256 bytes) as a zstd frame of one raw block: no zstd library needed."""
    header = bytes([0x20, len(content)])  # one segment, its size in one byte
    block = (1 | len(content) << 3).to_bytes(3, "little")  # the last block, raw
    return b"\x28\xb5\x2f\xfd" + header + block + content


def test_a_zstd_file_that_needs_a_copy_is_one_clear_error(tmp_path: Path) -> None:
    events = tmp_path / "events.json.zst"
    events.write_bytes(zstd_frame(f"{line(1, 7, BASE)}\n".encode() + b"\xff\n"))

    with pytest.raises(XccError, match="is zstd-compressed and holds lines that are not UTF-8"):
        sessionize(events, tmp_path / "out")


def zip_archive(content: bytes) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as writer:
        writer.writestr("events.json", content)
    return archive.getvalue()


@pytest.mark.parametrize(
    ("compress", "kind"),
    [
        (bz2.compress, "bzip2-compressed"),
        (lzma.compress, "xz-compressed"),
        (zip_archive, "a zip archive"),
    ],
    ids=["bzip2", "xz", "zip"],
)
def test_a_compression_that_polars_cannot_read_is_one_clear_error(
    tmp_path: Path, compress: Callable[[bytes], bytes], kind: str
) -> None:
    events = tmp_path / "events.json.x"
    events.write_bytes(compress(f"{line(1, 7, BASE)}\n".encode()))

    with pytest.raises(XccError, match=f"^{re.escape(str(events))} is {kind}, which sessionize "):
        sessionize(events, tmp_path / "out")


def test_a_second_run_into_a_directory_in_use_is_refused(tmp_path: Path) -> None:
    events = write(tmp_path, [line(1, 7, BASE)])

    with (
        sessionize_in_memory(events, tmp_path / "out"),
        pytest.raises(XccError, match="out is in use by another sessionize, run or load"),
    ):
        sessionize(events, tmp_path / "out")


def test_a_directory_is_free_again_once_the_run_is_done(tmp_path: Path) -> None:
    events = write(tmp_path, [line(1, 7, BASE)])
    with sessionize_in_memory(events, tmp_path / "out") as first:
        first.write()

    summary = sessionize(events, tmp_path / "out")

    assert summary.events == 1


def test_a_failed_run_lets_its_directory_go(tmp_path: Path) -> None:
    events = write(tmp_path, [line(1, 7, BASE)])
    truncated = tmp_path / "events.json.gz"
    truncated.write_bytes(gzip.compress(events.read_bytes())[:-12])
    with pytest.raises(XccError, match="unexpected end of file") as failure:
        sessionize(truncated, tmp_path / "out")

    summary = sessionize(events, tmp_path / "out")  # the failure's traceback still kept

    assert (summary.events, failure.type) == (1, XccError)


def test_a_truncated_gzip_file_is_one_clear_error(tmp_path: Path) -> None:
    lines = [line(id, 7, BASE + timedelta(seconds=id), query="x" * 40) for id in range(2000)]
    compressed = gzip.compress(write(tmp_path, lines).read_bytes())
    truncated = tmp_path / "events.json.gz"
    truncated.write_bytes(compressed[: len(compressed) // 2])

    with pytest.raises(XccError, match=f"^cannot read {truncated}: unexpected end of file$"):
        sessionize(truncated, tmp_path / "out")


def test_a_full_disk_is_one_clear_error_and_leaves_no_file(tmp_path: Path) -> None:
    output = tmp_path / "out"
    output.mkdir()
    (output / ".sessions.parquet.partial").symlink_to("/dev/full")  # writes fail with ENOSPC

    with pytest.raises(XccError, match="No space left on device"):
        sessionize(write(tmp_path, [line(1, 7, BASE)]), output)

    assert list(output.iterdir()) == []


def test_a_copy_left_by_a_stopped_run_is_removed_by_the_next(tmp_path: Path) -> None:
    output = tmp_path / "out"
    output.mkdir()
    (output / ".events.utf8.partial").write_text("a copy cut short")

    sessionize(write(tmp_path, [line(1, 7, BASE)]), output)

    assert sorted(path.name for path in output.iterdir()) == sorted(OUTPUT_FILES)


def test_a_pipe_is_refused_in_one_clear_line(tmp_path: Path) -> None:
    events = write(tmp_path, [line(1, 7, BASE)])

    piped = subprocess.run(
        [sys.executable, "-m", "xcc_sessions", "sessionize", "/dev/stdin", "-o", str(tmp_path)],
        input=events.read_bytes(),
        capture_output=True,
        check=False,
    )

    assert (piped.returncode, piped.stderr.decode()) == (
        1,
        "Error: /dev/stdin is not a regular file (a pipe or a device can be read only once); "
        "save the events to a file\n",
    )


# The command line.

runner = CliRunner()


def test_cli_prints_the_output_directory_and_the_summary_table(tmp_path: Path) -> None:
    path = write(tmp_path, [line(1, 7, BASE)])

    result = runner.invoke(app, ["sessionize", str(path), "-o", str(tmp_path / "out")])

    assert (result.exit_code, result.stdout.strip(), "sessions" in result.stderr) == (
        0,
        str(tmp_path / "out"),
        True,
    )


def test_cli_quiet_prints_no_summary(tmp_path: Path) -> None:
    path = write(tmp_path, [line(1, 7, BASE)])

    result = runner.invoke(app, ["sessionize", str(path), "-o", str(tmp_path / "o"), "-q"])

    assert (result.exit_code, result.stderr, (tmp_path / "o" / "summary.json").is_file()) == (
        0,
        "",
        True,
    )


def test_cli_json_prints_the_summary_on_stdout(tmp_path: Path) -> None:
    path = write(tmp_path, [line(1, 7, BASE)])

    result = runner.invoke(app, ["sessionize", str(path), "-o", str(tmp_path / "o"), "--json"])

    assert json.loads(result.stdout)["sessions"] == 1


def test_cli_verbose_shows_where_and_why_lines_were_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, [line(1, 7, BASE), "not json"])

    result = runner.invoke(app, ["sessionize", str(path), "-o", str(tmp_path / "o"), "-v"])

    assert "  line 2: invalid_json: not json" in result.stderr.splitlines()


def test_cli_strict_exits_1_after_the_report(tmp_path: Path) -> None:
    path = write(tmp_path, ["bad"])

    result = runner.invoke(app, ["sessionize", str(path), "-o", str(tmp_path / "o"), "--strict"])

    assert (result.exit_code, result.stderr.splitlines()[-1]) == (
        1,
        f"Error: 1 rejected line(s) in strict mode; see {tmp_path / 'o' / 'rejected.ndjson'}",
    )


@pytest.mark.parametrize(
    ("arguments", "exit_code", "message"),
    [
        (["/no/such/file.json"], 1, "Error: /no/such/file.json does not exist"),
        (["-"], 1, "Error: reading the events from stdin is not supported"),
        (["--gap", "soon"], 2, "Error: invalid gap 'soon'"),
        (["--gap", "99999999999999"], 2, "Error: invalid gap '99999999999999': at most"),
    ],
)
def test_cli_errors_are_one_line(arguments: list[str], exit_code: int, message: str) -> None:
    result = runner.invoke(app, ["sessionize", *arguments])

    assert (
        result.exit_code,
        len(result.stderr.splitlines()),
        result.stderr.startswith(message),
    ) == (
        exit_code,
        1,
        True,
    )


# A plain-Python reference sessionizer, and a property test against it.

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?")


def _reference_timestamp(text: Any) -> datetime | None:
    if not isinstance(text, str) or not _ISO.fullmatch(text):
        return None
    fraction = re.search(r"\.(\d+)", text)
    if fraction:  # Python's parser takes at most 6 digits; the rule truncates to microseconds.
        text = text.replace(fraction.group(0), "." + fraction.group(1)[:6].ljust(6, "0"))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _is_int(value: Any) -> bool:
    return type(value) is int and -(2**63) <= value < 2**63


def reference(lines: list[str], gap: timedelta) -> tuple[dict[str, int], list[dict[str, Any]]]:
    counts = dict.fromkeys(["blank", "rejected", "anonymous", "duplicates", "events"], 0)
    seen: set[int] = set()
    events: list[dict[str, Any]] = []
    for text in lines:
        if text.strip(" \t") == "":
            counts["blank"] += 1
            continue
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        event = document.get("event") if isinstance(document, dict) else None
        customer = event.get("customer-id") if isinstance(event, dict) else None
        at = _reference_timestamp(event.get("timestamp")) if isinstance(event, dict) else None
        valid = (
            isinstance(document, dict)
            and _is_int(document.get("id"))
            and isinstance(document.get("type"), str)
            and isinstance(event, dict)
            and (customer is None or _is_int(customer))
            and at is not None
        )
        if not valid:
            counts["rejected"] += 1
            continue
        assert isinstance(document, dict)
        assert isinstance(event, dict)
        if document["id"] in seen:
            counts["duplicates"] += 1
            continue
        seen.add(document["id"])
        if customer is None:
            counts["anonymous"] += 1
            continue
        counts["events"] += 1
        events.append(
            {
                "id": document["id"],
                "type": document["type"].lower(),
                "customer": customer,
                "at": at,
                "page": event.get("page"),
                "referrer": event.get("referrer"),
                "ua": event.get("user-agent"),
                "ip": event.get("ip"),
            }
        )
    sessions: list[dict[str, Any]] = []
    for customer in sorted({event["customer"] for event in events}):
        mine = sorted(
            (event for event in events if event["customer"] == customer),
            key=lambda event: (event["at"], event["id"]),
        )
        groups: list[list[dict[str, Any]]] = []
        for event in mine:
            if groups and event["at"] - groups[-1][-1]["at"] <= gap:
                groups[-1].append(event)
            else:
                groups.append([event])
        for index, group in enumerate(groups, start=1):
            orders = [event["at"] for event in group if event["type"] == "placed_order"]
            page_views = [event for event in group if event["type"] == "page_view"]
            referrers = [event["referrer"] for event in group if event["referrer"] is not None]
            started, ended = group[0]["at"], group[-1]["at"]
            sessions.append(
                {
                    "session_id": f"{customer}-{started:%Y%m%dT%H%M%S%f}Z",
                    "customer_id": customer,
                    "session_index": index,
                    "started_at": started,
                    "ended_at": ended,
                    "duration_seconds": (ended - started) / timedelta(seconds=1),
                    "event_count": len(group),
                    "page_view_count": len(page_views),
                    "order_count": len(orders),
                    "first_order_at": orders[0] if orders else None,
                    "referrer": referrers[0] if referrers else None,
                    "landing_page": page_views[0]["page"] if page_views else None,
                    "user_agent": group[0]["ua"],
                    "ip": group[0]["ip"],
                }
            )
    return counts, sessions


# Quarter hours, a microsecond either side now and then: gaps of exactly 15, 30 or 45 minutes
# (and a microsecond more or less) are common, so the boundary rule is exercised.
_MINUTES = st.integers(min_value=0, max_value=8).map(lambda quarter: quarter * 15)
_MOMENTS = st.builds(
    lambda minutes, nudge: BASE + timedelta(minutes=minutes, microseconds=nudge),
    _MINUTES,
    st.sampled_from([0, 0, 0, 0, 1, -1]),
)
_SPELLINGS = st.sampled_from(["naive", "Z", "+02:00"])


def _spell(moment: datetime, spelling: str) -> str:
    if spelling == "naive":
        return moment.isoformat()
    if spelling == "Z":
        return moment.isoformat() + "Z"
    return (moment + timedelta(hours=2)).isoformat() + "+02:00"


def _reshape(text: str, form: str) -> str:
    """The same event written another way, so that each decode path is exercised."""
    document = json.loads(text)
    if form == "sorted keys":  # not the feed's key order: the general regex path
        return json.dumps(document, sort_keys=True)
    if form == "compact":  # the feed's order without spaces: the canonical path
        return json.dumps(document, separators=(",", ":"))
    if form == "nested":  # an array is beyond what the regexes prove: Python's json path
        return json.dumps({**document, "tags": [1, [2]]})
    return text


_EVENT_LINES = st.builds(
    lambda id, customer, moment, spelling, type, page, referrer, agent, form: _reshape(
        line(
            id,
            customer,
            _spell(moment, spelling),
            type,
            **{"page": page, "referrer": referrer, "user_agent": agent},
        ),
        form,
    ),
    st.integers(min_value=1, max_value=40),
    st.one_of(st.none(), st.integers(min_value=1, max_value=2)),
    _MOMENTS,
    _SPELLINGS,
    st.sampled_from(["page_view", "PAGE_VIEW", "placed_order", "Placed_Order", "search"]),
    st.sampled_from([None, "/home", "/checkout"]),
    st.sampled_from([None, None, "https://a.example", "https://b.example"]),
    st.sampled_from(["ua-1", "ua-2"]),
    st.sampled_from(["as written", "as written", "sorted keys", "compact", "nested"]),
)
_OTHER_LINES = st.sampled_from(
    ["", "  ", "not json", "[]", '{"id": "7", "type": "x", "event": {}}', '{"id": 3}']
)


@settings(max_examples=50, deadline=None)
@given(
    lines=st.lists(
        st.one_of(_EVENT_LINES, _EVENT_LINES, _EVENT_LINES, _OTHER_LINES), min_size=1, max_size=60
    ),
    gap_minutes=st.sampled_from([15, 30, 45]),
)
def test_matches_the_plain_python_reference(lines: list[str], gap_minutes: int) -> None:
    gap = timedelta(minutes=gap_minutes)
    with tempfile.TemporaryDirectory() as directory:
        result = run(Path(directory), lines, gap)
    counts, sessions = reference(lines, gap)

    summary = result.summary
    actual_counts = {
        "blank": summary.blank,
        "rejected": summary.rejected,
        "anonymous": summary.anonymous,
        "duplicates": summary.duplicates,
        "events": summary.events,
    }
    assert (actual_counts, result.sessions.to_dicts()) == (counts, sessions)
