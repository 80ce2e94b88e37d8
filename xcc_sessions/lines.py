"""Read an NDJSON events file into one classified row per input line.

Every line keeps its 1-based number and becomes exactly one of: blank, rejected (with a reason
code from `REASONS`), or parsed (its fields as typed columns). Deciding anonymous, duplicate and
sessionized is the sessionizer's job; this module only answers "is this line a valid event?".

How a line is judged, and why three paths: Polars' `str.json_decode` is fast and parallel, but
one line that is not JSON makes it fail for the whole column, and it coerces silently (`1.5` and
`true` decode as the integer 1, a number decodes as a string). So a line goes to Polars' decode
(every typed field read as text) only when regexes prove it *safe*: `_CANONICAL` for the feed's
own shape (its key order and value types), else `_generally_safe` for any JSON object nested no
deeper than the feed whose typed keys hold values of the right JSON type. Every other non-blank
line is judged by Python's `json` module, which sees the real JSON types, and an accepted one is
handed back to the same Polars decode in a clean form. Before all of these, the feed's own
lines (most of any real file) are accepted by one regex that proves the whole line, timestamp
included (`_PLAIN`, `split_lines`): of the anonymous ones (as the webshop writes them) only the
id is read, and the others are decoded and parsed without any other check. All paths apply the
same rules, in the order of `REASONS`; tests check that they agree. A U+0000 in a string (which
PostgreSQL's text cannot hold) is stored as U+FFFD: the regexes leave a line with a \\u0000
escape to Python's json, whose clean form replaces it. The sessionizer leaves the Python path
out of its streaming pass (`judge=False`) and runs it on those lines alone afterwards, so that a
clean file never calls Python per batch.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Final

import polars as pl
from polars.expr.whenthen import ChainedThen, Then

from xcc_sessions.schema import TIMESTAMP

REASONS: Final[dict[str, str]] = {
    "invalid_utf8": "the line is not UTF-8 text (rejected.ndjson shows its bad bytes as \\xNN)",
    "invalid_json": "the line is not valid JSON (RFC 8259; NaN, Infinity and lone surrogates "
    "are not JSON)",
    "not_an_object": "the line is JSON but not an object",
    "missing_id": "id is missing or null",
    "invalid_id": "id is not a JSON integer (no fraction or exponent) within 64 bits",
    "missing_type": "type is missing or null",
    "invalid_type": "type is not a string",
    "missing_event": "event is missing or null",
    "invalid_event": "event is not an object",
    "invalid_customer_id": "event.customer-id is neither null nor a JSON integer within 64 bits "
    "(a missing customer-id counts as null)",
    "missing_timestamp": "event.timestamp is missing or null",
    "invalid_timestamp": "event.timestamp is not an ISO 8601 date-time string "
    "(YYYY-MM-DDTHH:MM:SS, optional fraction, optional Z or +HH:MM)",
}
"""Rejection reason codes (stable, shown in rejected.ndjson), in the order the rules check them."""
REASON: Final = pl.Enum(list(REASONS))

PAYLOAD_FIELDS: Final = ("user-agent", "ip", "page", "referrer", "query", "product", "position")
"""Event fields carried to the output but never a reason to reject a line."""

_EVENT_FIELDS: Final = ("customer-id", "timestamp", *PAYLOAD_FIELDS)

# Every scalar is read as text here; the typed columns are derived below with explicit rules.
# The payload is decoded with the rest, in the same pass (a second decode of the logged-in lines
# cost more than reading it for all); it is kept for logged-in lines only, and the sessionizer
# holds its repetitive strings as categoricals, so the anonymous lines' strings are not kept.
RAW_EVENT: Final = pl.Struct(
    {
        "id": pl.String(),
        "type": pl.String(),
        "event": pl.Struct({name: pl.String() for name in _EVENT_FIELDS}),
    }
)
# A plain line's ids are proven 64-bit integers, and its timestamp an ISO date-time with no zone
# or Z, both UTC (`_PLAIN`): the decode reads them as such rather than as text to convert after
# (the ids decode a sixth faster; the timestamps no slower than `str.to_datetime` parses them).
_PLAIN_TYPES: Final = {"customer-id": pl.Int64(), "timestamp": TIMESTAMP}
_PLAIN_EVENT: Final = pl.Struct(
    {
        "id": pl.Int64(),
        "type": pl.String(),
        "event": pl.Struct({name: _PLAIN_TYPES.get(name, pl.String()) for name in _EVENT_FIELDS}),
    }
)
JUDGED: Final = pl.Struct({"json_reason": pl.String(), "clean": pl.String()})

# The general proof that a line is *safe* for Polars' decode, for lines not in the feed's own
# shape (below): an object whose values are scalars or flat objects of scalars (nesting depth
# 2 is a regular language), numbers short enough never to overflow, no escape that could spell
# a key in disguise (\u0000-\u007f) or be a lone surrogate (\ud800-\udfff), and no key the
# rules type (id, customer-id, type, event, timestamp) holding a value of another JSON type.
_WS = r"[ \t]*"
_STRING = r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"'
_RISKY_ESCAPE = r"\\u(?:00[0-7]|[dD][89a-fA-F])"
_NUMBER = r"-?(?:0|[1-9][0-9]{0,18})(?:\.[0-9]{1,17})?"
_SCALAR = f"(?:{_STRING}|{_NUMBER}|true|false|null)"
_FLAT_MEMBER = f"{_STRING}{_WS}:{_WS}{_SCALAR}{_WS}"
_FLAT = rf"\{{{_WS}(?:{_FLAT_MEMBER}(?:,{_WS}{_FLAT_MEMBER})*)?\}}"
_MEMBER = f"{_STRING}{_WS}:{_WS}(?:{_SCALAR}|{_FLAT}){_WS}"
_SAFE_JSON = rf"^{_WS}\{{{_WS}(?:{_MEMBER}(?:,{_WS}{_MEMBER})*)?\}}{_WS}$"
# Within safe JSON (so every value is well formed and nests no deeper than an object of
# scalars), a value of the wrong JSON type for a key the rules type shows in its first bytes.
# A key like "x\"id" can match too: that only sends a good line down the exact path.
_MISTYPED_KEY = (
    r'"(?:id|customer-id)"[ \t]*:[ \t]*(?:["{tf]|-?[0-9]+\.)'
    r'|"(?:type|timestamp)"[ \t]*:[ \t]*[-0-9{tf]'
    r'|"event"[ \t]*:[ \t]*[-0-9"tf]'
)
_DOUBTFUL = f"{_MISTYPED_KEY}|{_RISKY_ESCAPE}"

_D = "[0-9]"  # not \d, which also matches other scripts' digits
_ISO_DATETIME = (
    rf"^{_D}{{4}}-{_D}{{2}}-{_D}{{2}}T{_D}{{2}}:{_D}{{2}}:{_D}{{2}}(?:\.{_D}{{1,9}})?"
    rf"(?:Z|[+-]{_D}{{2}}:{_D}{{2}})?$"
)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


# The feed's own shape, checked in one pass: keys in the order the webshop writes them, each typed
# key with a value of its JSON type, integers short enough for 64 bits, strings without lone
# surrogates or \u0000 (stored as U+FFFD, which only the exact path writes: `_stored_string`).
# The typed keys come first, and both decode paths keep the first of duplicated keys, so
# whatever follows them cannot change a typed value.
_HEX = "[0-9a-fA-F]"
_NONZERO_HEX = "[1-9a-fA-F]"
_NO_SURROGATE_ESCAPE = (
    rf"\\u(?:[1-9a-cA-Ce-fE-F]{_HEX}{{3}}|[dD][0-7]{_HEX}{{2}}"
    rf"|0(?:{_NONZERO_HEX}{_HEX}{{2}}|0(?:{_NONZERO_HEX}{_HEX}|0{_NONZERO_HEX})))"
)
_NO_SURROGATE_STRING = rf'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|{_NO_SURROGATE_ESCAPE})*"'
_INTEGER = r"-?(?:0|[1-9][0-9]{0,17})"


def _member(key: str, value: str) -> str:
    return f'"{key}"{_WS}:{_WS}{value}{_WS},{_WS}'


_ANY_PAYLOAD = (
    f"(?:,{_WS}{_NO_SURROGATE_STRING}{_WS}:{_WS}"
    f"(?:{_NO_SURROGATE_STRING}|{_NUMBER}|true|false|null){_WS})*"
)


def _canonical(
    customer_id: str,
    timestamp: str,
    *,
    payload: str = _ANY_PAYLOAD,
    string: str = _NO_SURROGATE_STRING,
) -> str:
    """The feed's own shape, with these patterns for the customer-id, timestamp, payload and
    the other strings."""
    event = (
        rf"\{{{_WS}"
        + _member("user-agent", f"(?:{string}|null)")
        + _member("ip", f"(?:{string}|null)")
        + _member("customer-id", customer_id)
        + f'"timestamp"{_WS}:{_WS}{timestamp}{_WS}'
        + payload
        + r"\}"
    )
    return (
        rf"^{_WS}\{{{_WS}"
        + _member("id", _INTEGER)
        + _member("type", string)
        + f'"event"{_WS}:{_WS}{event}{_WS}'
        + rf"\}}{_WS}$"
    )


_CANONICAL = _canonical(f"(?:{_INTEGER}|null)", _NO_SURROGATE_STRING)

# Most of the feed's lines are in its own plain shape: the keys the webshop writes, in its order,
# and a timestamp that is plainly valid. Such a line is accepted by this one regex, with no
# other check: of an anonymous one only the id is read (the duplicate rule needs nothing else),
# a logged-in one is decoded and its timestamp parsed without the checks for a zone or a reason.
# "Plainly valid" is a subset of what the timestamp rule accepts, checked digit by digit,
# calendar included: years 1000-9999, days that exist in their month (February 29 in leap
# years only), no leap second, at most six fraction digits, no zone but Z. Any other line takes
# the ordinary paths. Its strings are ASCII, as Python's json.dumps writes them by default (and
# the feed is spaced as it spaces them): other characters escaped as \uXXXX. A regex that only
# follows ASCII costs about a sixth less than one that follows UTF-8; a line with other
# characters written as they are is still accepted, by the ordinary paths.
_ASCII_STRING = rf'"(?:[ !#-\[\]-~]|\\["\\/bfnrt]|{_NO_SURROGATE_ESCAPE})*"'
_LEAP_YEAR = "(?:[1-9][0-9](?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[13579][26])00)"
_CALENDAR_DATE = (
    "(?:[1-9][0-9]{3}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    "|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
    f"|{_LEAP_YEAR}-02-29)"
)
_CLOCK_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?Z?"
# Only the payload keys the webshop writes, so that a plain line has no second "customer-id"
# key, and its first is the one place `_ANONYMOUS_AS_WRITTEN` can match: elsewhere, a
# `customer-id"` that ends a string ends a value (an escaped quote can begin it), which a comma
# or brace follows.
_FEED_PAYLOAD = (
    f'(?:,{_WS}"(?:page|referrer|query|product|position)"{_WS}:{_WS}'
    f"(?:{_ASCII_STRING}|{_NUMBER}|true|false|null){_WS})*"
)
_PLAIN = _canonical(
    f"(?:null|{_INTEGER})",
    f'"{_CALENDAR_DATE}T{_CLOCK_TIME}"',
    payload=_FEED_PAYLOAD,
    string=_ASCII_STRING,
)
# A plain line holding this literal (the webshop's own spacing) is anonymous: a literal search
# costs a fraction of a regex. The other plain lines are decoded, and the customer-id of an
# anonymous one spaced otherwise decodes as null (`split_lines`).
_ANONYMOUS_AS_WRITTEN = '"customer-id": null'
_NAIVE_FORMAT = "%Y-%m-%dT%H:%M:%S%.f"
_LEADING_ID = r'^[ \t]*\{[ \t]*"id"[ \t]*:[ \t]*(-?[0-9]+)'
_ID_AS_WRITTEN = '{"id": '


def _generally_safe(text: pl.Expr) -> pl.Expr:
    """True where Polars' decode of the line cannot fail and sees the exact JSON types."""
    return text.str.contains(_SAFE_JSON) & ~text.str.contains(_DOUBTFUL)


def _first_key_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Polars keeps the first of duplicated keys; the exact path must agree with it.
    result: dict[str, Any] = {}
    for key, value in pairs:
        result.setdefault(key, value)
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER: Final = json.JSONDecoder(
    object_pairs_hook=_first_key_wins, parse_constant=_reject_constant
)


def _is_int64(value: Any) -> bool:
    return type(value) is int and _INT64_MIN <= value <= _INT64_MAX


def _stored_string(text: str) -> str:
    """A string value as stored: U+0000, which PostgreSQL's text cannot hold, as U+FFFD (the
    regex-proven paths leave every line with a \\u0000 escape to this one)."""
    return text.replace("\x00", "\ufffd")


def _scalar(value: Any) -> Any:
    """A payload value as the fast path would see it (containers and non-finite numbers null),
    strings as stored (`_stored_string`)."""
    if isinstance(value, str):
        return _stored_string(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, str | int | float | bool) or value is None else None


def judge_exactly(text: str) -> tuple[str | None, str | None]:
    """One line judged by Python's json: (reason, None) or (None, an equivalent clean line)."""
    try:
        document = _DECODER.decode(text)
        # A lone surrogate decodes to a str that UTF-8 cannot encode: not portable JSON text.
        json.dumps(document, ensure_ascii=False).encode()
    except (ValueError, RecursionError, UnicodeEncodeError):
        return "invalid_json", None
    if not isinstance(document, dict):
        return "not_an_object", None
    reason = _structural_reason(document)
    if reason is not None:
        return reason, None
    event = document["event"]
    clean = {
        "id": document["id"],
        "type": _stored_string(document["type"]),
        "event": {name: _scalar(event.get(name)) for name in _EVENT_FIELDS},
    }
    timestamp = event.get("timestamp")
    if isinstance(timestamp, dict | list):
        # Still present, so still an invalid (not a missing) timestamp downstream.
        clean["event"]["timestamp"] = json.dumps(timestamp)
    return None, json.dumps(clean, ensure_ascii=False)


def _structural_reason(document: dict[str, Any]) -> str | None:
    identifier, kind, event = document.get("id"), document.get("type"), document.get("event")
    if identifier is None:
        return "missing_id"
    if not _is_int64(identifier):
        return "invalid_id"
    if kind is None:
        return "missing_type"
    if not isinstance(kind, str):
        return "invalid_type"
    if event is None:
        return "missing_event"
    if not isinstance(event, dict):
        return "invalid_event"
    customer = event.get("customer-id")
    if customer is not None and not _is_int64(customer):
        return "invalid_customer_id"
    return None


def _judge_batch(texts: pl.Series) -> pl.Series:
    """Map a batch of doubtful lines (nulls elsewhere) to `JUDGED` structs, one by one."""
    if texts.null_count() == texts.len():
        return pl.Series(texts.name, dtype=JUDGED).extend_constant(None, texts.len())
    judged = [(None, None) if text is None else judge_exactly(text) for text in texts]
    return pl.Series(
        texts.name,
        [{"json_reason": reason, "clean": clean} for reason, clean in judged],
        dtype=JUDGED,
    )


def _naive_timestamp(text: pl.Expr) -> pl.Expr:
    """ISO 8601 text without a zone as a datetime (naive means UTC); null for any other text."""
    iso = pl.when(text.str.contains(_ISO_DATETIME)).then(text)
    return iso.str.to_datetime(_NAIVE_FORMAT, time_unit="us", strict=False, cache=False)


def _zoned_timestamp(text: pl.Expr) -> pl.Expr:
    """ISO 8601 text with Z or an offset as a naive UTC datetime; null for any other text."""
    iso = pl.when(text.str.contains(_ISO_DATETIME)).then(text)
    return (
        iso.str.replace(r"Z$", "+00:00")
        .str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", strict=False, cache=False)
        .dt.replace_time_zone(None)
    )


def _reason(raw: pl.Expr, json_reason: pl.Expr, timestamp: pl.Expr) -> pl.Expr:
    identifier, kind, event = (raw.struct.field(name) for name in ("id", "type", "event"))
    customer = event.struct.field("customer-id")
    checks = [
        (identifier.is_null(), "missing_id"),
        (identifier.cast(pl.Int64(), strict=False).is_null(), "invalid_id"),
        (kind.is_null(), "missing_type"),
        (event.is_null(), "missing_event"),
        (
            customer.is_not_null() & customer.cast(pl.Int64(), strict=False).is_null(),
            "invalid_customer_id",
        ),
        (event.struct.field("timestamp").is_null(), "missing_timestamp"),
        (timestamp.is_null(), "invalid_timestamp"),
    ]
    reason: Then | ChainedThen = pl.when(json_reason.is_not_null()).then(json_reason.cast(REASON))
    for failed, code in checks:
        reason = reason.when(failed).then(pl.lit(code, dtype=REASON))
    return reason


def classify_lines(events: str, *, judge: bool = True) -> pl.LazyFrame:
    """One row per line, in no particular order: line, blank, reason, text (rejected lines only)
    and the event columns.

    id is filled for every accepted line (neither blank nor rejected), and null otherwise; the
    other event columns (customer_id, type as written, timestamp, page, referrer, query,
    product, position, user_agent, ip) only for accepted lines with a customer-id.

    With `judge=False`, the lines only Python's json can judge are left pending rather than
    judged inside the stream (calling Python there slows every batch, even with nothing to
    judge): a `pending` column is added, nothing else of a pending line's row holds, and
    `classify_some_lines` classifies those lines in a second pass.
    """
    split = split_lines(events, judge=judge)
    accepted = {"blank": pl.lit(False), **({} if judge else {"pending": pl.lit(False)})}
    logged_in = pl.col("customer_id").is_not_null()
    event_columns = [name for name in split.decoded.collect_schema() if name not in ("line", "id")]
    return pl.concat(
        [
            split.others,
            split.anonymous.with_columns(**accepted),
            split.decoded.with_columns(
                *(pl.when(logged_in).then(name).alias(name) for name in event_columns),
                **accepted,
            ),
        ],
        how="diagonal",
    )


@dataclass(frozen=True)
class SplitLines:
    """`classify_lines` in three frames, which share one scan when collected together."""

    anonymous: pl.LazyFrame
    """line and id of the feed's plain lines that are anonymous as the webshop writes them
    (`"customer-id": null`)"""
    decoded: pl.LazyFrame
    """line and the event columns of the feed's other plain lines: the logged-in ones, and any
    anonymous one spaced otherwise, whose customer_id is null (a literal search finds the
    first kind for a fraction of what a regex costs; the decode finds the few others)"""
    others: pl.LazyFrame
    """every other line, classified"""


def split_lines(events: str, *, judge: bool = True) -> SplitLines:
    """`classify_lines` split by the path each line takes (see `_PLAIN`).

    The feed's plain lines are split off by a filter rather than masked: a masked column keeps
    its values under the nulls, and Polars' string functions still work through them (unless a
    whole chunk is null).
    """
    text, plain, anonymous = pl.col("text"), pl.col("plain"), pl.col("anonymous")
    # Cached, so that one scan feeds every frame when they are collected together. Both flags
    # in one with_columns: with anonymous computed in a second one, only where plain, Polars no
    # longer shared the cache, and each frame read and matched the whole file again.
    flagged = (
        _numbered_lines(events)
        .with_columns(
            plain=text.str.contains(_PLAIN),
            anonymous=text.str.contains(_ANONYMOUS_AS_WRITTEN, literal=True),
        )
        .cache()
    )
    raw = pl.col("raw")
    event = raw.struct.field("event")
    return SplitLines(
        anonymous=flagged.filter(plain & anonymous).select("line", id=_leading_id(text)),
        decoded=flagged.filter(plain & ~anonymous)
        .select("line", raw=text.str.json_decode(_PLAIN_EVENT))
        .select(
            "line",
            id=raw.struct.field("id"),
            customer_id=event.struct.field("customer-id"),
            **_logged_in_columns(raw.struct.field("type"), event.struct.field("timestamp"), event),
        ),
        others=_classify(flagged.filter(~plain).drop("plain", "anonymous"), judge=judge),
    )


def _leading_id(text: pl.Expr) -> pl.Expr:
    """A plain line's id, its first member (see `_PLAIN`)."""
    # Sliced out up to the first comma where the line begins as the webshop writes it: the
    # regex's capture costs twice as much. It reads the lines spaced otherwise (and any id
    # followed by spaces, which the strict integer parse leaves null).
    start = len(_ID_AS_WRITTEN)
    digits = text.str.slice(start, text.str.find(",", literal=True) - start)
    as_written = pl.when(text.str.starts_with(_ID_AS_WRITTEN)).then(
        digits.str.to_integer(strict=False)
    )
    spaced_otherwise = pl.when(as_written.is_null()).then(text)
    return pl.coalesce(as_written, spaced_otherwise.str.extract(_LEADING_ID, 1).cast(pl.Int64()))


def classify_some_lines(events: str, numbers: pl.Series) -> pl.LazyFrame:
    """`classify_lines` of only the lines whose numbers are in `numbers`, none of which is in
    the feed's plain shape (that is, numbers of pending lines)."""
    lines = _numbered_lines(events).filter(pl.col("line").is_in(numbers.implode()))
    return _classify(lines, judge=True)


def _numbered_lines(events: str) -> pl.LazyFrame:
    return pl.scan_lines(events, name="text", row_index_name="line", row_index_offset=1)


def _classify(lines: pl.LazyFrame, *, judge: bool) -> pl.LazyFrame:
    text, judged, decodable = pl.col("text"), pl.col("judged"), pl.col("decodable")
    raw = pl.col("raw")
    event = raw.struct.field("event")
    pending = ~pl.col("safe") & ~pl.col("blank")
    return (
        lines.with_columns(canonical=text.str.contains(_CANONICAL))
        # The other checks see only the other lines (a null input costs them nothing).
        .with_columns(other=pl.when(~pl.col("canonical")).then(text))
        .with_columns(blank=(~pl.col("other").str.contains(r"[^ \t]")).fill_null(False))
        .with_columns(safe=pl.col("canonical") | _generally_safe(pl.col("other")).fill_null(False))
        .with_columns(
            judged=pl.when(pending)
            .then(text)
            .map_batches(_judge_batch, return_dtype=JUDGED, is_elementwise=True)
            if judge
            else pl.lit(None, dtype=JUDGED)
        )
        # Safe lines as they are, accepted doubtful ones in their clean form.
        .with_columns(decodable=pl.when("safe").then(text).otherwise(judged.struct.field("clean")))
        .with_columns(raw=decodable.str.json_decode(RAW_EVENT))
        # The naive parse is a column of its own, so that it runs once (not again inside the
        # coalesce) and only the texts it leaves null reach the zoned parse (nulls cost nothing).
        .with_columns(naive=_naive_timestamp(event.struct.field("timestamp")))
        .with_columns(
            timestamp=pl.coalesce(
                "naive",
                _zoned_timestamp(
                    pl.when(pl.col("naive").is_null()).then(event.struct.field("timestamp"))
                ),
            )
        )
        .with_columns(
            reason=pl.when(~pl.col("blank")).then(
                _reason(raw, judged.struct.field("json_reason"), pl.col("timestamp"))
            )
        )
        .with_columns(
            customer_id=pl.when(pl.col("reason").is_null() & ~pl.col("blank")).then(
                event.struct.field("customer-id").cast(pl.Int64(), strict=False)
            )
        )
        .with_columns(payload=pl.when(pl.col("customer_id").is_not_null()).then(event))
        .select(
            "line",
            "blank",
            "reason",
            text=pl.when(pl.col("reason").is_not_null()).then(text),
            **_event_columns(raw, pl.col("payload")),
            **({} if judge else {"pending": pending}),
        )
    )


def _event_columns(raw: pl.Expr, payload: pl.Expr) -> dict[str, pl.Expr]:
    accepted = pl.col("reason").is_null() & ~pl.col("blank")
    logged_in = pl.col("customer_id").is_not_null()
    return {
        "id": pl.when(accepted).then(raw.struct.field("id").cast(pl.Int64(), strict=False)),
        "customer_id": pl.col("customer_id"),
        **_logged_in_columns(
            pl.when(logged_in).then(raw.struct.field("type")),
            pl.when(logged_in).then(pl.col("timestamp")),
            payload,
        ),
    }


def _logged_in_columns(kind: pl.Expr, timestamp: pl.Expr, event: pl.Expr) -> dict[str, pl.Expr]:
    """The event columns but id and customer_id, from the decoded type and event."""
    return {
        "type": kind,
        "timestamp": timestamp.cast(TIMESTAMP),
        "page": event.struct.field("page"),
        "referrer": event.struct.field("referrer"),
        "query": event.struct.field("query"),
        "product": event.struct.field("product").cast(pl.Int64(), strict=False),
        "position": event.struct.field("position").cast(pl.Int32(), strict=False),
        "user_agent": event.struct.field("user-agent"),
        "ip": event.struct.field("ip"),
    }
