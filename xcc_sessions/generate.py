"""Seeded synthetic webshop events in the brief's shape, for demos, tests and benchmarks.

The file looks like the real clickstream: one JSON object a line, about 300 bytes each, with
`id`, `type` and an `event` object holding user-agent, ip, customer-id, timestamp and the
type's own fields (page and sometimes referrer, query, product, position), in that key order.

- About 30% of the lines are logged in (customer-id set); the rest are anonymous visitors.
- Each customer is active in bursts: sessions of seconds-to-minutes apart events, separated
  from the customer's next session by at least an hour (usually many).
- An order is a `/checkout` page_view and a `placed_order` at the same instant, ending the
  session; some landing page_views carry a referrer.
- Lines are not in time order: each chunk of the file is shuffled, and every chunk spans the
  whole period.

The file is written beside the output under a temporary name and renamed into place when
complete. An output that is a symlink is written through (the file it points to is replaced,
the link stays, the temporary file goes beside that file); anything else there that is not a
regular file (a directory, a device, a FIFO, a socket) is refused before a line is written,
and left as it is: renaming a file over it would destroy it, /dev/null included.

Every random draw is SplitMix64 over (seed, purpose, row key) computed by Polars, so the output
depends only on `seed` and `lines`: the same arguments write a byte-identical file, chunk by
chunk, in bounded memory.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import polars as pl

from xcc_sessions.errors import UsageError, XccError
from xcc_sessions.outputs import replaceable_file

PERIOD_START = datetime(2022, 4, 20)
SITE = "https://xcc-webshop.com"
LOGGED_IN_SHARE = 0.3
ORDER_PROBABILITY = 0.15
MAX_CUSTOMERS_PER_CHUNK = 5_000

_SECOND_US = 1_000_000
_MINUTE_US = 60 * _SECOND_US
_HOUR_US = 60 * _MINUTE_US
_DAY_US = 24 * _HOUR_US
# Inter-event gaps never exceed this, so a session of n rows lasts less than n of them: the
# next session's start can be placed after that bound plus an inter-session gap of hours.
_MAX_EVENT_GAP_US = 10 * _MINUTE_US
_MEAN_EVENT_GAP_US = 75_000_000
_MEAN_SESSION_GAP_US = 20 * _HOUR_US
_MEAN_EXTRA_SESSIONS = 3.0
_MAX_SESSIONS = 30
_MEAN_EXTRA_EVENTS = 5.0
_MAX_EVENTS = 50
# Expected logged-in lines per customer, used to size chunks for small files.
_LINES_PER_CUSTOMER = 68

_U64 = (1 << 64) - 1

# Purposes of random draws: each gets its own independent stream.
(
    _SESSIONS,
    _FIRST_START,
    _CUSTOMER_AGENT,
    _EVENTS,
    _ORDERED,
    _SESSION_GAP,
    _IP,
    _ANONYMOUS_AGENT,
    _ANONYMOUS_START,
    _SESSION_ORDER,
    _EVENT_GAP,
    _ROW_CHOICES,
    _ROW_WORDS,
    _SHUFFLE,
    _ID_OFFSET,
) = range(1, 16)

USER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 14_2 like Mac OS X) AppleWebKit/532.0 (KHTML, like "
    "Gecko) FxiOS/14.7g5052.0 Mobile/28A193 Safari/532.0",
    "Mozilla/5.0 (iPod; U; CPU iPhone OS 4_3 like Mac OS X; br-FR) AppleWebKit/533.34.2 (KHTML, "
    "like Gecko) Version/4.0.5 Mobile/8B111 Safari/6533.34.2",
    "Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10 9_9 rv:5.0; mk-MK) AppleWebKit/534.22.3 "
    "(KHTML, like Gecko) Version/5.1 Safari/534.22.3",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 5_1_1 like Mac OS X) AppleWebKit/535.2 (KHTML, like "
    "Gecko) CriOS/32.0.850.0 Mobile/39A486 Safari/535.2",
    "Mozilla/5.0 (iPad; CPU iPad OS 3_1_3 like Mac OS X) AppleWebKit/533.0 (KHTML, like Gecko) "
    "FxiOS/16.2j6316.0 Mobile/60I472 Safari/533.0",
    "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 5.01; Trident/5.0)",
    "Mozilla/5.0 (Windows CE) AppleWebKit/535.0 (KHTML, like Gecko) Chrome/21.0.822.0 Safari/535.0",
    "Mozilla/5.0 (compatible; MSIE 9.0; Windows 98; Win 9x 4.90; Trident/4.1)",
    "Mozilla/5.0 (Windows NT 5.01) AppleWebKit/535.1 (KHTML, like Gecko) Chrome/47.0.834.0 "
    "Safari/535.1",
    "Mozilla/5.0 (Macintosh; U; PPC Mac OS X 10 11_4 rv:2.0; ik-CA) AppleWebKit/535.28.3 "
    "(KHTML, like Gecko) Version/4.0.4 Safari/535.28.3",
    "Mozilla/5.0 (Macintosh; PPC Mac OS X 10 7_9 rv:6.0; sa-IN) AppleWebKit/533.26.4 (KHTML, "
    "like Gecko) Version/5.0.1 Safari/533.26.4",
    "Mozilla/5.0 (Macintosh; PPC Mac OS X 10 11_1; rv:1.9.6.20) Gecko/2011-02-17 04:20:01 "
    "Firefox/3.8",
    "Mozilla/5.0 (compatible; MSIE 6.0; Windows NT 5.01; Trident/3.0)",
    "Opera/9.47.(X11; Linux x86_64; mai-IN) Presto/2.9.179 Version/10.00",
    "Opera/8.90.(Windows NT 6.2; mag-IN) Presto/2.9.167 Version/12.00",
    "Mozilla/5.0 (iPod; U; CPU iPhone OS 3_0 like Mac OS X; ast-ES) AppleWebKit/533.46.1 (KHTML, "
    "like Gecko) Version/3.0.5 Mobile/8B118 Safari/6533.46.1",
    "Opera/8.28.(X11; Linux x86_64; an-ES) Presto/2.9.162 Version/12.00",
    "Opera/9.61.(Windows NT 6.0; ckb-IQ) Presto/2.9.184 Version/12.00",
    "Mozilla/5.0 (X11; Linux x86_64; rv:1.9.6.20) Gecko/2019-09-06 09:51:12 Firefox/3.6.2",
    "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.2; Trident/5.1)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/99.0.4844.84 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 11; SM-G991B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/100.0.4896.58 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:98.0) Gecko/20100101 Firefox/98.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 12_3_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/15.4 Safari/605.1.15",
)

REFERRERS = (
    "https://gonzalez.com",
    "https://www.google.com",
    "https://www.bing.com",
    "https://duckduckgo.com",
    "https://smith.net",
    "https://johnson-miller.org",
    "https://www.facebook.com",
    "https://t.co",
    "https://williams.biz",
    "https://news.ycombinator.com",
    "https://brown-davis.info",
    "https://www.reddit.com",
)

TYPES = (
    "page_view",
    "search",
    "add_product_to_cart",
    "remove_product_from_cart",
    "visit_related_product",
    "visit_recently_visited_product",
    "visit_personal_recommendation",
    "sign_up_success",
    "placed_order",
)
# Percentages of each type among the events after a session's landing page_view (orders are
# placed separately, at the end of a session).
_TYPE_PERCENTAGES = {
    "page_view": 45,
    "search": 12,
    "add_product_to_cart": 10,
    "remove_product_from_cart": 3,
    "visit_related_product": 10,
    "visit_recently_visited_product": 7,
    "visit_personal_recommendation": 10,
    "sign_up_success": 3,
}
# A roll in [0, 100) indexes this table to pick a type's position in TYPES.
_TYPE_BY_ROLL = pl.Series(
    [TYPES.index(name) for name, percent in _TYPE_PERCENTAGES.items() for _ in range(percent)],
    dtype=pl.Int64,
)

_QUERY_WORDS = (
    (
        "Synchronized",
        "Universal",
        "Decentralized",
        "Ameliorated",
        "Synergistic",
        "Adaptive",
        "Organic",
        "Intuitive",
        "Multi-lateral",
        "Seamless",
        "Customizable",
        "Front-line",
    ),
    (
        "didactic",
        "fault-tolerant",
        "uniform",
        "bifurcated",
        "full-range",
        "bi-directional",
        "asymmetric",
        "6th-generation",
        "4th-generation",
        "foreground",
        "zero-defect",
        "mission-critical",
    ),
    (
        "task-force",
        "system engine",
        "leverage",
        "paradigm",
        "strategy",
        "analyzer",
        "yak shaving shears",
        "core",
        "service-desk",
        "application",
        "throughput",
        "framework",
    ),
)
_CATEGORIES = 15
_PRODUCTS = 5_000


def generate_events(
    output: Path,
    lines: int,
    *,
    seed: int = 0,
    on_progress: Callable[[int], None] | None = None,
) -> None:
    """Write `lines` synthetic events to `output`; the same `seed` writes the same bytes.

    The file is written beside `output` (or the file a symlink there points to) under a
    temporary name and renamed into place when complete. `on_progress` is called with the
    number of lines written so far after each chunk.
    """
    if lines < 0:
        raise UsageError(f"the number of lines must be 0 or more, not {lines}")
    if seed < 0:
        raise UsageError(f"the seed must be 0 or more, not {seed}")
    customers_per_chunk = max(
        1, min(MAX_CUSTOMERS_PER_CHUNK, math.ceil(lines / _LINES_PER_CUSTOMER))
    )
    target = replaceable_file(output)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        file = partial.open("wb")
    except OSError as error:
        raise _write_error(output, error) from None
    try:
        with file:
            written = 0
            chunk = 0
            while written < lines:
                frame = _chunk(seed, chunk, customers_per_chunk, written, lines)
                frame.write_csv(file, include_header=False, quote_style="never")
                written += frame.height
                chunk += 1
                if on_progress is not None:
                    on_progress(written)
        partial.replace(target)
    except OSError as error:
        raise _write_error(output, error) from None
    finally:
        try:
            partial.unlink(missing_ok=True)
        except KeyboardInterrupt:  # Ctrl+C's second one: Polars raises one more after its own
            partial.unlink(missing_ok=True)
            raise


def _write_error(output: Path, error: OSError) -> XccError:
    return XccError(f"cannot write {output}: {error.strerror or error}")


def _chunk(seed: int, chunk: int, customers: int, written: int, lines: int) -> pl.DataFrame:
    """The next chunk of the file: whole customers' histories plus anonymous visits, shuffled."""
    random = _Random(seed)
    logged_in = _customer_sessions(random, chunk, customers)
    logged_in_rows = int(logged_in["rows"].sum())
    anonymous = _anonymous_sessions(random, chunk, logged_in_rows)
    sessions = pl.concat([logged_in, anonymous]).sort(random.draw(pl.col("key"), _SESSION_ORDER))
    rows = (
        sessions.lazy()
        .with_columns(row=pl.int_ranges("rows", dtype=pl.Int64))
        .explode("row")
        .head(lines - written)
    )
    return _lines(rows, random, written, lines).sort("shuffle").select("line").collect()


def _customer_sessions(random: _Random, chunk: int, customers: int) -> pl.DataFrame:
    """Sessions of this chunk's customers: 1 to 30 each, the next starting hours after the last."""
    customer = pl.col("customer_id")
    key = pl.col("key")
    return (
        pl.LazyFrame({"customer_id": pl.int_range(1, customers + 1, eager=True, dtype=pl.Int64)})
        .with_columns(customer_id=customer + chunk * customers)
        .with_columns(
            session=pl.int_ranges(
                1
                + random.exponential_steps(customer, _SESSIONS, _MEAN_EXTRA_SESSIONS, _MAX_SESSIONS)
            ),
            first_start=random.below(customer, _FIRST_START, 7 * _DAY_US),
            agent=random.below(customer, _CUSTOMER_AGENT, len(USER_AGENTS)),
        )
        .explode("session")
        .with_columns(key=customer * 64 + pl.col("session"))
        .with_columns(
            events=1 + random.exponential_steps(key, _EVENTS, _MEAN_EXTRA_EVENTS, _MAX_EVENTS),
            ordered=random.uniform(key, _ORDERED) < ORDER_PROBABILITY,
        )
        .with_columns(rows=pl.col("events") + 2 * pl.col("ordered").cast(pl.Int64))
        .with_columns(
            slot=pl.col("rows") * _MAX_EVENT_GAP_US
            + _HOUR_US
            + random.exponential(key, _SESSION_GAP, _MEAN_SESSION_GAP_US)
        )
        .with_columns(
            start=pl.col("first_start")
            + pl.col("slot").cum_sum().over("customer_id")
            - pl.col("slot"),
            ip=_ip(random, key),
        )
        .select(_SESSION_COLUMNS)
        .collect()
    )


def _anonymous_sessions(random: _Random, chunk: int, logged_in_rows: int) -> pl.DataFrame:
    """Visits without a customer-id, enough to make the chunk's logged-in lines about 30%."""
    target = round(logged_in_rows * (1 - LOGGED_IN_SHARE) / LOGGED_IN_SHARE)
    # Each visit has at least one row, so `target` visits are always enough.
    key = pl.col("key")
    return (
        pl.LazyFrame({"key": pl.int_range(target, eager=True, dtype=pl.Int64)})
        .with_columns(key=key + ((1 << 40) | (chunk << 20)))
        .with_columns(
            customer_id=pl.lit(None, pl.Int64),
            agent=random.below(key, _ANONYMOUS_AGENT, len(USER_AGENTS)),
            rows=1 + random.exponential_steps(key, _EVENTS, _MEAN_EXTRA_EVENTS, _MAX_EVENTS),
            ordered=pl.lit(False),
            start=random.below(key, _ANONYMOUS_START, 10 * _DAY_US),
            ip=_ip(random, key),
        )
        .filter(pl.col("rows").cum_sum() - pl.col("rows") < target)
        .select(_SESSION_COLUMNS)
        .collect()
    )


_SESSION_COLUMNS = ("key", "customer_id", "agent", "ip", "start", "rows", "ordered")


def _ip(random: _Random, key: pl.Expr) -> pl.Expr:
    """A dotted IPv4 address with octets 1-223, drawn from four bytes of one hash."""
    bits = random.draw(key, _IP)
    octets = [((bits // (1 << (16 * i))) % 223 + 1).cast(pl.String) for i in range(4)]
    return pl.concat_str(octets, separator=".")


def _lines(rows: pl.LazyFrame, random: _Random, written: int, lines: int) -> pl.LazyFrame:
    """One JSON line per row of (session columns, row number), in the brief's key order.

    Two 64-bit draws per row are sliced into the row's small random choices; intermediate
    columns are materialised stage by stage so no draw is computed twice.
    """
    row = pl.col("row")
    row_key = pl.col("key") * 128 + row
    is_landing = pl.col("is_landing")
    is_checkout = pl.col("is_checkout")
    is_order = pl.col("is_order")
    choices, words = pl.col("choices"), pl.col("words")
    type_code = pl.col("type_code")
    is_page_view = type_code == TYPES.index("page_view")
    is_visit = type_code.is_in([i for i, name in enumerate(TYPES) if name.startswith("visit_")])
    has_product = is_visit | type_code.is_in(
        [TYPES.index("add_product_to_cart"), TYPES.index("remove_product_from_cart")]
    )
    page_kind = _bits(choices, 8, 10)
    page_number = _bits(choices, 16, _PRODUCTS)
    page = (
        pl.when(is_checkout)
        .then(pl.lit(SITE + "/checkout"))
        .when(is_landing & (page_kind < 3))
        .then(pl.lit(SITE))
        .when(page_kind < 5)
        .then(pl.format(SITE + "/category/{}", page_number % _CATEGORIES + 1))
        .when((page_kind < 8) | is_landing)
        .then(pl.format(SITE + "/products/{}", page_number + 1))
        .otherwise(pl.lit(SITE + "/cart"))
    )
    has_referrer = is_landing & (_bits(choices, 32, 10) < 4)
    query = pl.concat_str(
        [_choice(vocabulary, _bits(words, 8 * i, 12)) for i, vocabulary in enumerate(_QUERY_WORDS)],
        separator=" ",
    )
    # Rows of a session are contiguous and its landing row adds no gap, so a running total
    # minus its value at the landing row is the offset from the session's start.
    elapsed = pl.col("gap").cum_sum()
    offset = elapsed - pl.when(is_landing).then(elapsed).forward_fill()
    timestamp = pl.lit(PERIOD_START) + pl.duration(microseconds=pl.col("start") + offset)
    extras = [
        pl.when(is_page_view).then(_string_field("page", page)),
        pl.when(has_referrer).then(
            _string_field("referrer", _choice(REFERRERS, _bits(choices, 40, len(REFERRERS))))
        ),
        pl.when(type_code == TYPES.index("search")).then(_string_field("query", query)),
        pl.when(has_product).then(pl.format(', "product": {}', _bits(words, 24, _PRODUCTS) + 1)),
        pl.when(is_visit).then(pl.format(', "position": {}', _bits(words, 48, 10) + 1)),
    ]
    return (
        rows.with_columns(
            is_landing=row == 0,
            is_checkout=pl.col("ordered") & (row == pl.col("rows") - 2),
            is_order=pl.col("ordered") & (row == pl.col("rows") - 1),
            choices=random.draw(row_key, _ROW_CHOICES),
            words=random.draw(row_key, _ROW_WORDS),
            gap=(_SECOND_US + random.exponential(row_key, _EVENT_GAP, _MEAN_EVENT_GAP_US)).clip(
                upper_bound=_MAX_EVENT_GAP_US
            ),
        )
        .with_columns(
            type_code=pl.when(is_order)
            .then(TYPES.index("placed_order"))
            .when(is_landing | is_checkout)
            .then(TYPES.index("page_view"))
            .otherwise(pl.lit(_TYPE_BY_ROLL).gather(_bits(choices, 0, 100))),
            gap=pl.when(is_landing | is_order).then(0).otherwise(pl.col("gap")),
        )
        .select(
            line=pl.concat_str(
                [
                    pl.lit('{"id": '),
                    _line_id(random, written, lines).cast(pl.String),
                    pl.lit(', "type": "'),
                    _choice(TYPES, type_code),
                    pl.lit('", "event": {"user-agent": "'),
                    _choice(USER_AGENTS, pl.col("agent")),
                    pl.lit('", "ip": "'),
                    pl.col("ip"),
                    pl.lit('", "customer-id": '),
                    pl.col("customer_id").cast(pl.String).fill_null("null"),
                    pl.lit(', "timestamp": "'),
                    timestamp.dt.strftime("%Y-%m-%dT%H:%M:%S%.6f"),
                    pl.lit('"'),
                    *extras,
                    pl.lit("}}"),
                ],
                ignore_nulls=True,
            ),
            shuffle=random.draw(row_key, _SHUFFLE),
        )
    )


def _bits(draw: pl.Expr, shift: int, bound: int) -> pl.Expr:
    """A small Int64 in [0, bound) from the bits of a 64-bit draw above `shift`."""
    return (draw // (1 << shift) % bound).cast(pl.Int64)


def _line_id(random: _Random, written: int, lines: int) -> pl.Expr:
    """Unique ids 0..lines-1 in scrambled order: an affine bijection of the line's position."""
    stride = max(1, int(lines * 0.6180339887))
    while math.gcd(stride, lines) != 1:
        stride += 1
    offset = random.python_draw(_ID_OFFSET) % lines
    position = pl.int_range(pl.len(), dtype=pl.Int64) + written
    return (position * stride + offset) % lines


def _string_field(name: str, value: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit(f', "{name}": "'), value, pl.lit('"')])


def _choice(values: tuple[str, ...], index: pl.Expr) -> pl.Expr:
    return pl.lit(pl.Series(values)).gather(index)


class _Random:
    """Counter-based random numbers: SplitMix64 of (seed, stream, key) as Polars expressions."""

    _GOLDEN = 0x9E3779B97F4A7C15

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def python_draw(self, stream: int) -> int:
        return _splitmix64((self.seed << 8 | stream) * self._GOLDEN & _U64)

    def draw(self, key: pl.Expr, stream: int) -> pl.Expr:
        """A uniformly distributed UInt64 for each key."""
        salt = self.python_draw(stream)
        state = key.cast(pl.UInt64) * pl.lit(self._GOLDEN, pl.UInt64) + pl.lit(salt, pl.UInt64)
        return _splitmix64_expr(state)

    def uniform(self, key: pl.Expr, stream: int) -> pl.Expr:
        """A float in [0, 1)."""
        return (self.draw(key, stream) // (1 << 11)).cast(pl.Float64) * 2.0**-53

    def below(self, key: pl.Expr, stream: int, bound: int) -> pl.Expr:
        """An Int64 in [0, bound)."""
        return (self.draw(key, stream) % bound).cast(pl.Int64)

    def exponential(self, key: pl.Expr, stream: int, mean: float) -> pl.Expr:
        """An Int64 drawn from the exponential distribution with this mean."""
        return (-(1.0 - self.uniform(key, stream)).log() * mean).floor().cast(pl.Int64)

    def exponential_steps(self, key: pl.Expr, stream: int, mean: float, limit: int) -> pl.Expr:
        """A geometric-like count in [0, limit - 1], mostly small."""
        return self.exponential(key, stream, mean).clip(upper_bound=limit - 1)


def _splitmix64(state: int) -> int:
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _U64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _U64
    return z ^ (z >> 31)


def _splitmix64_expr(state: pl.Expr) -> pl.Expr:
    z = state
    z = z.xor(z // (1 << 30)) * pl.lit(0xBF58476D1CE4E5B9, pl.UInt64)
    z = z.xor(z // (1 << 27)) * pl.lit(0x94D049BB133111EB, pl.UInt64)
    return z.xor(z // (1 << 31))
