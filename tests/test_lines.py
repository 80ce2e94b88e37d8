"""Line classification: every rejection reason, blank lines, timestamps, and the paths a line takes.

The feed's own lines are proven by one regex (the plain path); other lines reach Polars' decode
only when regexes prove them safe; everything else is judged by Python's json. The tests below
pin each rule and check that the paths agree.
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xcc_sessions.lines import REASONS, classify_lines, split_lines

TIMESTAMP = "2022-04-28T07:38:46.290271"


def valid(**overrides: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "id": 1,
        "type": "page_view",
        "event": {"user-agent": "UA", "ip": "1.2.3.4", "customer-id": 7, "timestamp": TIMESTAMP},
    }
    line.update(overrides)
    return line


def classify(tmp_path: Path, *lines: str) -> pl.DataFrame:
    path = tmp_path / "events.json"
    path.write_text("".join(f"{line}\n" for line in lines))
    return classify_lines(str(path)).sort("line").collect(engine="streaming")


def reason_of(tmp_path: Path, line: str) -> str | None:
    reason: str | None = classify(tmp_path, line)["reason"].item()
    return reason


REJECTED = [
    ("nope", "invalid_json"),
    ('{"id": 1,}', "invalid_json"),
    ('{"id": 1} {"id": 2}', "invalid_json"),
    ('{"id": NaN, "type": "x", "event": {}}', "invalid_json"),
    ('{"id": "\\ud800", "type": "x", "event": {}}', "invalid_json"),
    ("[1, 2]", "not_an_object"),
    ('"text"', "not_an_object"),
    ("null", "not_an_object"),
    ("42", "not_an_object"),
    (json.dumps(valid(id=None)), "missing_id"),
    (json.dumps({"type": "x", "event": valid()["event"]}), "missing_id"),
    (json.dumps(valid(id="1")), "invalid_id"),
    (json.dumps(valid(id=1.5)), "invalid_id"),
    (json.dumps(valid(id=1.0)), "invalid_id"),
    (json.dumps(valid(id=True)), "invalid_id"),
    (json.dumps(valid(id=2**63)), "invalid_id"),
    (json.dumps(valid(id=[1])), "invalid_id"),
    (json.dumps(valid(type=None)), "missing_type"),
    (json.dumps(valid(type=5)), "invalid_type"),
    (json.dumps(valid(type=False)), "invalid_type"),
    (json.dumps(valid(type={"a": 1})), "invalid_type"),
    (json.dumps(valid(event=None)), "missing_event"),
    (json.dumps({"id": 1, "type": "x"}), "missing_event"),
    (json.dumps(valid(event="e")), "invalid_event"),
    (json.dumps(valid(event=[])), "invalid_event"),
    (json.dumps(valid(event={"customer-id": "7", "timestamp": TIMESTAMP})), "invalid_customer_id"),
    (json.dumps(valid(event={"customer-id": 7.5, "timestamp": TIMESTAMP})), "invalid_customer_id"),
    (json.dumps(valid(event={"customer-id": 7})), "missing_timestamp"),
    (json.dumps(valid(event={"customer-id": 7, "timestamp": None})), "missing_timestamp"),
    (json.dumps(valid(event={"timestamp": "yesterday"})), "invalid_timestamp"),
    (json.dumps(valid(event={"timestamp": "2022-02-30T00:00:00"})), "invalid_timestamp"),
    (json.dumps(valid(event={"timestamp": "2022-04-28"})), "invalid_timestamp"),
    (json.dumps(valid(event={"timestamp": "2022-04-28 07:38:46"})), "invalid_timestamp"),
    (json.dumps(valid(event={"timestamp": 1651131526})), "invalid_timestamp"),
    (json.dumps(valid(event={"timestamp": "2022-04-28T07:38"})), "invalid_timestamp"),
    (
        json.dumps(valid(event={"timestamp": "\u0662\u0660\u0662\u0662-04-28T07:38:46"})),
        "invalid_timestamp",
    ),
    (json.dumps(valid(event={"timestamp": {"at": TIMESTAMP}})), "invalid_timestamp"),
]


@pytest.mark.parametrize(("line", "reason"), REJECTED)
def test_each_rule_rejects_with_its_reason(tmp_path: Path, line: str, reason: str) -> None:
    assert reason_of(tmp_path, line) == reason


def test_every_documented_reason_is_tested() -> None:
    # invalid_utf8 is found before decoding: tests/test_sessionize.py covers it.
    assert {reason for _, reason in REJECTED} == set(REASONS) - {"invalid_utf8"}


def test_the_first_failing_rule_names_the_reason(tmp_path: Path) -> None:
    line = json.dumps({"id": "x", "type": 5, "event": {"timestamp": "no"}})

    assert reason_of(tmp_path, line) == "invalid_id"


@pytest.mark.parametrize(
    "line",
    [
        json.dumps(valid()),
        json.dumps(valid(event={"customer-id": None, "timestamp": TIMESTAMP})),
        json.dumps(valid(event={"timestamp": TIMESTAMP})),
        json.dumps(valid(type="")),
        json.dumps(valid(extra={"nested": [1, {"deep": True}]})),
        json.dumps(valid(event={**valid()["event"], "product": {"not": "scalar"}})),
    ],
)
def test_well_formed_lines_are_not_rejected(tmp_path: Path, line: str) -> None:
    assert reason_of(tmp_path, line) is None


def test_blank_lines_are_blank_not_rejected(tmp_path: Path) -> None:
    frame = classify(tmp_path, "", "   ", "\t", json.dumps(valid()))

    assert frame.select("line", "blank", "reason").rows() == [
        (1, True, None),
        (2, True, None),
        (3, True, None),
        (4, False, None),
    ]


def test_rejected_lines_keep_their_number_and_original_text(tmp_path: Path) -> None:
    frame = classify(tmp_path, json.dumps(valid()), "", "{broken")

    assert frame.filter(pl.col("reason").is_not_null()).select("line", "reason", "text").rows() == [
        (3, "invalid_json", "{broken")
    ]


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("2022-04-28T07:38:46.290271", datetime(2022, 4, 28, 7, 38, 46, 290271)),
        ("2022-04-28T07:38:46", datetime(2022, 4, 28, 7, 38, 46)),
        ("2022-04-28T07:38:46.5", datetime(2022, 4, 28, 7, 38, 46, 500000)),
        ("2022-04-28T07:38:46.290271Z", datetime(2022, 4, 28, 7, 38, 46, 290271)),
        ("2022-04-28T09:38:46.290271+02:00", datetime(2022, 4, 28, 7, 38, 46, 290271)),
        ("2022-04-28T00:30:00-01:30", datetime(2022, 4, 28, 2, 0)),
        ("2022-04-28T07:38:46.123456789", datetime(2022, 4, 28, 7, 38, 46, 123456)),
    ],
)
def test_timestamps_become_naive_utc_with_microseconds(
    tmp_path: Path, timestamp: str, expected: datetime
) -> None:
    line = json.dumps(valid(event={"customer-id": 7, "timestamp": timestamp}))

    assert classify(tmp_path, line)["timestamp"].item() == expected


def test_types_are_read_as_written(tmp_path: Path) -> None:
    # Comparing them case-insensitively is the sessionizer's rule (4), on the distinct types.
    assert classify(tmp_path, json.dumps(valid(type="PAGE_VIEW")))["type"].item() == "PAGE_VIEW"


def test_duplicate_keys_keep_the_first_on_both_paths(tmp_path: Path) -> None:
    fast = '{"id": 1, "id": 2, "type": "x", "event": {"timestamp": "2022-04-28T07:38:46"}}'
    # The \u0069 escape spells "i": such a line takes the exact path.
    exact = '{"id": 1, "\\u0069d": 2, "type": "x", "event": {"timestamp": "2022-04-28T07:38:46"}}'

    assert classify(tmp_path, fast, exact)["id"].to_list() == [1, 1]


def test_a_key_spelled_with_escapes_is_judged_by_its_real_name(tmp_path: Path) -> None:
    line = '{"\\u0069d": "1", "type": "x", "event": {"timestamp": "2022-04-28T07:38:46"}}'

    assert reason_of(tmp_path, line) == "invalid_id"


def test_all_three_paths_give_the_same_columns(tmp_path: Path) -> None:
    event = {
        "user-agent": "Mozilla/5.0 (é)",
        "ip": "1.2.3.4",
        "customer-id": 7,
        "timestamp": "2022-04-28T09:38:46.290271+02:00",
        "page": "https://xcc-webshop.com/cart",
        "referrer": "https://gonzalez.com",
        "query": "yak shears",
        "product": 1685,
        "position": 3,
    }
    canonical = json.dumps(valid(event=event))
    # Keys in another order: proven safe by the general regexes instead.
    general = json.dumps(valid(event=event), sort_keys=True)
    # A nested array is outside the regex-proven shape, so this copy takes the exact path.
    exact = json.dumps(valid(event=event, tags=[1, [2]]))

    frame = classify(tmp_path, canonical, general, exact).drop("line")

    assert frame.row(0) == frame.row(1) == frame.row(2)


def test_payload_values_of_another_json_type_are_read_leniently(tmp_path: Path) -> None:
    event = {"customer-id": 7, "timestamp": TIMESTAMP, "product": "12", "position": 1.5}
    fast = json.dumps(valid(event=event))
    exact = json.dumps(valid(event={**event, "page": ["not", "text"]}))

    frame = classify(tmp_path, fast, exact)

    assert frame.select("product", "position", "page").rows() == [(12, None, None)] * 2


# PostgreSQL's text cannot hold U+0000: a line of any shape with one is judged by Python's json,
# whose clean form holds U+FFFD instead, on both engines.
@pytest.mark.parametrize(
    "line",
    [
        json.dumps(valid(event={**valid()["event"], "query": "shoes\x00"})),
        json.dumps(valid(event={**valid()["event"], "query": "shoes\x00"}), sort_keys=True),
        json.dumps(valid(event={**valid()["event"], "query": "shoes\x00"}, tags=[[1]])),
        '{"id":5000,"type":"search","event":{"customer-id":7,'
        '"timestamp":"2022-04-27T05:20:12","query":"shoes\\u0000"}}',
    ],
    ids=["feed-shape", "sorted-keys", "nested-payload", "compact"],
)
def test_a_nul_in_a_payload_string_is_stored_as_the_replacement_character(
    tmp_path: Path, line: str
) -> None:
    assert classify(tmp_path, line).select("reason", "query").row(0) == (None, "shoes\ufffd")


def test_a_nul_in_the_type_is_stored_as_the_replacement_character(tmp_path: Path) -> None:
    line = json.dumps(valid(type="page\x00view"))

    assert classify(tmp_path, line).select("reason", "type").row(0) == (None, "page\ufffdview")


def feed_line(timestamp: str, *, line_id: int = 1, customer_id: int | None = None) -> str:
    """An event in the feed's own shape and spacing, anonymous unless given a customer_id."""
    event = {
        "user-agent": "UA",
        "ip": "1.2.3.4",
        "customer-id": customer_id,
        "timestamp": timestamp,
        "page": "https://xcc-webshop.com/cart",
        "referrer": "https://t.co",
    }
    return json.dumps(valid(id=line_id, event=event))


def test_the_feeds_lines_take_the_plain_path(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    unknown_key = json.loads(feed_line(TIMESTAMP, line_id=43, customer_id=7))
    unknown_key["event"]["tags"] = "x"
    lines = [
        feed_line(TIMESTAMP, line_id=41),
        feed_line(TIMESTAMP, line_id=42, customer_id=7),
        json.dumps(unknown_key),
    ]
    path.write_text("".join(f"{line}\n" for line in lines))

    split = split_lines(str(path))

    assert (
        split.anonymous.collect()["line"].to_list(),
        split.decoded.collect()["line"].to_list(),
        split.others.collect()["line"].to_list(),
    ) == ([1], [2], [3])


def test_characters_beyond_ascii_are_plain_only_when_escaped_as_the_feed_does(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.json"
    line = json.loads(feed_line(TIMESTAMP, customer_id=7))
    line["event"]["query"] = "café"
    path.write_text(f"{json.dumps(line)}\n{json.dumps(line, ensure_ascii=False)}\n")

    split = split_lines(str(path))

    assert (
        split.decoded.collect()["line"].to_list(),
        split.others.collect()["line"].to_list(),
    ) == ([1], [2])


def test_a_plain_line_is_anonymous_however_it_is_spaced(tmp_path: Path) -> None:
    compact = json.dumps(json.loads(feed_line(TIMESTAMP, line_id=42)), separators=(",", ":"))
    loose = feed_line(TIMESTAMP, line_id=43).replace('"id": 43,', '"id": 43 ,')
    spaced = feed_line(TIMESTAMP, line_id=44).replace('"customer-id": null', '"customer-id":  null')

    classified = classify(tmp_path, feed_line(TIMESTAMP, line_id=41), compact, loose, spaced)

    # Anonymous: accepted, with an id and no event columns (those are for logged-in lines).
    columns = ["line", "reason", "id", "customer_id", "type", "timestamp", "user_agent"]
    assert classified.select(columns).rows() == [
        (number, None, number + 40, None, None, None, None) for number in (1, 2, 3, 4)
    ]


def test_a_second_customer_id_key_leaves_the_plain_path(tmp_path: Path) -> None:
    # Only the first of duplicated keys counts: this line is logged in, whatever follows.
    line = feed_line(TIMESTAMP, customer_id=7)[:-2] + ', "customer-id": null}}'

    assert classify(tmp_path, line)["customer_id"].item() == 7


# Dates and times at the edges of the calendar and the clock, in both paths' spelling: the
# plain path checks them with a regex, the others parse them.
EDGE_TIMESTAMPS = [
    "2024-02-29T00:00:00",
    "2023-02-29T00:00:00",
    "2000-02-29T12:00:00",
    "1900-02-29T12:00:00",
    "2022-02-28T23:59:59.999999",
    "2022-04-31T00:00:00",
    "2022-12-31T00:00:00",
    "2022-13-01T00:00:00",
    "2022-00-10T00:00:00",
    "2022-01-00T00:00:00",
    "2022-01-01T24:00:00",
    "2022-01-01T23:60:00",
    "2022-01-01T23:59:60",
    "2022-01-01T00:00:00.1234567",
    "2022-01-01T00:00:00.",
    "2022-01-01T00:00:00Z",
    "2022-01-01T00:00:00.5Z",
    "2022-01-01T00:00:00+00:00",
    "0999-01-01T00:00:00",
    "1000-01-01T00:00:00.000001",
    "9999-12-31T23:59:59.999999",
    "10000-01-01T00:00:00",
]


def paths_agree(tmp_path: Path, timestamp: str, customer_id: int | None) -> tuple[Any, Any]:
    """An event's row as the feed writes it (the plain path) and with its keys sorted."""
    feed = feed_line(timestamp, customer_id=customer_id)
    sorted_keys = json.dumps(json.loads(feed), sort_keys=True)
    frame = classify(tmp_path, feed, sorted_keys).drop("line", "text")
    return frame.row(0), frame.row(1)


@pytest.mark.parametrize("customer_id", [None, 7], ids=["anonymous", "logged-in"])
@pytest.mark.parametrize("timestamp", EDGE_TIMESTAMPS)
def test_lines_are_judged_alike_on_every_path(
    tmp_path: Path, timestamp: str, customer_id: int | None
) -> None:
    feed, general = paths_agree(tmp_path, timestamp, customer_id)

    assert feed == general


_DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=2)


@settings(max_examples=200, deadline=None)
@given(
    year=st.integers(min_value=0, max_value=9999),
    month=_DIGITS,
    day=_DIGITS,
    clock=st.tuples(_DIGITS, _DIGITS, _DIGITS),
    fraction=st.sampled_from(["", ".5", ".123456", ".1234567", "."]),
    zone=st.sampled_from(["", "Z", "+00:00"]),
    customer_id=st.sampled_from([None, 7]),
)
def test_any_timestamp_is_judged_alike_on_every_path(
    year: int,
    month: str,
    day: str,
    clock: tuple[str, str, str],
    fraction: str,
    zone: str,
    customer_id: int | None,
) -> None:
    hour, minute, second = clock
    timestamp = f"{year:04d}-{month}-{day}T{hour}:{minute}:{second}{fraction}{zone}"
    with tempfile.TemporaryDirectory() as directory:
        feed, general = paths_agree(Path(directory), timestamp, customer_id)

    assert feed == general


_PAYLOAD_VALUE = st.one_of(
    st.none(),
    st.text(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(
    user_agent=st.one_of(st.none(), st.text()),
    kind=st.text(),
    customer_id=st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1)),
    payload=st.dictionaries(
        st.sampled_from(["page", "referrer", "query", "product", "position"]), _PAYLOAD_VALUE
    ),
    ensure_ascii=st.booleans(),
)
def test_any_feed_line_is_read_alike_on_every_path(
    user_agent: str | None,
    kind: str,
    customer_id: int | None,
    payload: dict[str, Any],
    ensure_ascii: bool,
) -> None:
    event = {"user-agent": user_agent, "ip": "1.2.3.4", "customer-id": customer_id}
    line = valid(type=kind, event={**event, "timestamp": TIMESTAMP, **payload})
    feed = json.dumps(line, ensure_ascii=ensure_ascii)
    # A nested array is outside every regex-proven shape: this copy takes the exact path.
    exact = json.dumps({**line, "tags": [[1]]}, ensure_ascii=ensure_ascii)
    with tempfile.TemporaryDirectory() as directory:
        frame = classify(Path(directory), feed, exact).drop("line")

    assert frame.row(0) == frame.row(1)
