"""Raw NDJSON events in, customer sessions out, with every input line accounted for.

The rules (the contract; the README and the tests state them the same way):

1. Every input line is exactly one of: blank (only spaces or tabs), rejected (see
   `xcc_sessions.lines.REASONS`), duplicate (its id was already on an earlier line that was
   neither blank nor rejected: the first line wins), anonymous (customer-id null or missing),
   or a sessionized event. lines = blank + rejected + anonymous + duplicates + events.
2. Rejected lines never stop the run: each goes to rejected.ndjson with its 1-based line
   number, reason code and original text.
3. Timestamps without a zone are UTC; Z and offsets are converted to UTC; microseconds kept.
4. Types are compared lower-cased (and written lower-cased); `placed_order` is the order;
   unknown types are ordinary events.
5. Per customer, events are ordered by (timestamp, id). A session starts at a customer's first
   event and wherever the gap to the previous event is greater than the inactivity timeout;
   a gap exactly equal to the timeout stays in the session (as Spark's session_window).
6. A session's referrer is the first non-null referrer among its events in order, its
   landing page the page of its first page_view, its user agent and ip those of its first
   event; session_id is f"{customer_id}-{started_at:%Y%m%dT%H%M%S%f}Z".
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

import polars as pl

from xcc_sessions.digest import FileDigest
from xcc_sessions.errors import XccError
from xcc_sessions.gap import parse_gap
from xcc_sessions.lines import classify_some_lines, split_lines
from xcc_sessions.outputs import DirectoryClaim
from xcc_sessions.schema import EVENTS, SESSIONS

__all__ = [
    "InputFile",
    "RejectedLinesError",
    "Sessionized",
    "Summary",
    "claim_output_dir",
    "parse_gap",
    "sessionize",
    "sessionize_in_memory",
]

ORDER_TYPE: Final = "placed_order"
PAGE_VIEW_TYPE: Final = "page_view"
OUTPUT_FILES: Final = ("sessions.parquet", "events.parquet", "rejected.ndjson", "summary.json")
_PAYLOAD: Final = ("page", "referrer", "query", "product", "position", "user_agent", "ip")
# Few distinct values each: held as categoricals until written, a fraction of their memory.
_REPETITIVE: Final = ("type", "page", "referrer", "query", "user_agent")


@dataclass(frozen=True)
class InputFile:
    path: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Summary:
    """What one sessionize run read and wrote; `to_json()` is summary.json."""

    lines: int
    blank: int
    rejected: int
    rejected_by_reason: Mapping[str, int]
    anonymous: int
    duplicates: int
    events: int
    customers: int
    sessions: int
    gap_seconds: float
    input: InputFile
    seconds: float = field(compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "blank": self.blank,
            "rejected": self.rejected,
            "rejected_by_reason": dict(self.rejected_by_reason),
            "anonymous": self.anonymous,
            "duplicates": self.duplicates,
            "events": self.events,
            "customers": self.customers,
            "sessions": self.sessions,
            "gap_seconds": self.gap_seconds,
            "input": {
                "path": self.input.path,
                "bytes": self.input.bytes,
                "sha256": self.input.sha256,
            },
            "seconds": self.seconds,
        }

    def to_table(self) -> str:
        """The summary as a small aligned table for people (the CLI prints it on stderr)."""
        rows: list[tuple[str, str]] = [
            ("lines", f"{self.lines:,}"),
            ("  blank", f"{self.blank:,}"),
            ("  rejected", f"{self.rejected:,}"),
            *((f"    {reason}", f"{count:,}") for reason, count in self.rejected_by_reason.items()),
            ("  anonymous", f"{self.anonymous:,}"),
            ("  duplicates", f"{self.duplicates:,}"),
            ("  events", f"{self.events:,}"),
            ("customers", f"{self.customers:,}"),
            ("sessions", f"{self.sessions:,}"),
            ("gap", f"{self.gap_seconds:g} s"),
            ("input", f"{self.input.path} ({self.input.bytes:,} bytes)"),
            ("sha256", self.input.sha256),
            ("seconds", f"{self.seconds:.1f}"),
        ]
        label_width = max(len(label) for label, _ in rows)
        value_width = max(
            len(value) for label, value in rows if not label.startswith(("in", "sha"))
        )
        return "\n".join(f"{label:<{label_width}}  {value:>{value_width}}" for label, value in rows)


class RejectedLinesError(XccError):
    """Strict mode found rejected lines; the outputs and the summary are written all the same."""

    def __init__(self, summary: Summary, output_dir: Path) -> None:
        super().__init__(
            f"{summary.rejected:,} rejected line(s) in strict mode; "
            f"see {output_dir / 'rejected.ndjson'}"
        )
        self.summary = summary


def sessionize(
    events: Path,
    output_dir: Path,
    *,
    gap: timedelta = timedelta(minutes=30),
    strict: bool = False,
    digest: FileDigest | None = None,
) -> Summary:
    """Sessionize the NDJSON file `events` into `output_dir` (see the module's rules).

    Writes sessions.parquet, events.parquet, rejected.ndjson and summary.json, each complete or
    not at all. Raises `XccError` for an unreadable input or output, and `RejectedLinesError`
    after writing everything when `strict` and any line was rejected. `digest` is the input's
    hash if the caller started it already (the CLI does, before it imports Polars).
    """
    with sessionize_in_memory(events, output_dir, gap=gap, digest=digest) as sessionized:
        summary = sessionized.write()
    if strict and summary.rejected:
        raise RejectedLinesError(summary, output_dir)
    return summary


@dataclass(frozen=True)
class Sessionized:
    """A file sessionized in memory: the sessions and events frames of the outputs, the counts
    of lines read, blank and rejected (the summary's), and `write()`, which writes every output
    file to `output_dir` and returns the summary. No other run writes `output_dir` until the
    `with` block around this one ends (`claim`)."""

    source: Path
    sessions: pl.DataFrame
    events: pl.DataFrame
    lines: int
    blank: int
    rejected: int
    output_dir: Path
    write: Callable[[], Summary]
    claim: DirectoryClaim
    """`output_dir`, held for this run until released: use the run in a `with` block."""

    def __enter__(self) -> Sessionized:
        return self

    def __exit__(self, *_: object) -> None:
        self.claim.release()


def sessionize_in_memory(
    events: Path,
    output_dir: Path,
    *,
    gap: timedelta = timedelta(minutes=30),
    digest: FileDigest | None = None,
    claim: DirectoryClaim | None = None,
) -> Sessionized:
    """`sessionize` up to writing its files, so that a caller can use the frames before they
    are written (`xcc_sessions.load.load_sessionized` COPYs them into PostgreSQL); use the
    result in a `with` block, which holds `output_dir` for this run (another run into it is
    refused meanwhile). `claim` is that hold if the caller took it already (`claim_output_dir`),
    say before downloading the input into `output_dir`: it is handed over, and released with
    the run. Checks first that `output_dir` can be written, so that a bad one fails before the
    work, not after."""
    started = time.perf_counter()
    size = _input_size(events)
    _refuse_unreadable_compression(events)
    claim = claim or claim_output_dir(output_dir)
    try:
        return _sessionize_claimed(events, output_dir, claim, gap, digest, started, size)
    except BaseException:
        claim.release()
        raise


def _sessionize_claimed(
    events: Path,
    output_dir: Path,
    claim: DirectoryClaim,
    gap: timedelta,
    digest: FileDigest | None,
    started: float,
    size: int,
) -> Sessionized:
    digest = digest or FileDigest(events)
    scratch = output_dir / ".events.utf8.partial"
    scratch.unlink(missing_ok=True)  # left by a run stopped while it copied
    read = _read_any_text(events, scratch)
    # Rule 1: the first accepted line with an id wins; later ones are duplicates. Only the
    # lines of ids seen more than once are compared; those ids are found by sorting the ids
    # alone, several times cheaper than hashing them (is_duplicated) or sorting every line.
    line, logged_in = pl.col("line"), pl.col("logged_in")
    ids = read.accepted.get_column("id").sort()
    repeated_ids = ids.filter(ids == ids.shift(1)).unique()
    repeated = read.accepted.filter(pl.col("id").is_in(repeated_ids.implode()))
    duplicates = repeated.filter(line != line.min().over("id"))
    logged_in_events = (
        _lower_cased_types(read.logged_in)
        .lazy()
        .join(duplicates.lazy().select("line"), on="line", how="anti")
    )
    # The in-memory engine sorts into one chunk, over which the per-session aggregation below
    # runs fastest; the default engine left 48 pieces at 5M lines, and 0.3 CPU s more work.
    sessionized = sessionize_events(logged_in_events, gap).collect(engine="in-memory")
    events_frame = sessionized.select(EVENTS.names()).cast(EVENTS)
    sessions_frame = sessions_of(sessionized.lazy()).collect()

    by_reason = read.rejected.group_by("reason").len().sort("reason")

    def summarize() -> Summary:
        return Summary(
            lines=read.lines,
            blank=read.blank,
            rejected=read.rejected.height,
            rejected_by_reason=dict(by_reason.iter_rows()),
            anonymous=read.accepted.filter(~logged_in).height
            - duplicates.filter(~logged_in).height,
            duplicates=duplicates.height,
            events=events_frame.height,
            customers=events_frame["customer_id"].n_unique(),
            sessions=sessions_frame.height,
            gap_seconds=gap.total_seconds(),
            input=InputFile(path=str(events), bytes=size, sha256=digest.hexdigest()),
            seconds=round(time.perf_counter() - started, 3),
        )

    def write() -> Summary:
        return _write_outputs(output_dir, summarize, sessions_frame, events_frame, read.rejected)

    return Sessionized(
        source=events,
        sessions=sessions_frame,
        events=events_frame,
        lines=read.lines,
        blank=read.blank,
        rejected=read.rejected.height,
        output_dir=output_dir,
        write=write,
        claim=claim,
    )


@dataclass(frozen=True)
class _Read:
    lines: int
    blank: int
    rejected: pl.DataFrame
    """line, reason, text"""
    accepted: pl.DataFrame
    """line, id, logged_in: every line neither blank nor rejected"""
    logged_in: pl.DataFrame
    """line and the event columns of accepted lines with a customer-id"""


def _read(events: Path) -> _Read:
    """One streaming pass over the file, split into the few frames the rules need.

    `collect_all` runs the shared scan and decode once for all of them, and no frame holds a
    column for lines that do not need it (most lines are anonymous). The lines only Python's
    json can judge are left pending by that pass and classified in a second one, which reads
    the file again but decodes only them (a clean file has none).
    """
    split = split_lines(str(events), judge=False)
    others = split.others.cache()
    pending = pl.col("pending")
    settled = others.filter(~pending)
    plain_anonymous, plain_decoded, counts, rejected, accepted, logged_in, pending_lines = (
        pl.collect_all(
            [
                split.anonymous,
                _logged_in(split.decoded),
                others.select(lines=pl.len(), blank=pl.col("blank").sum()),
                *_frames(settled),
                others.filter(pending).select("line"),
            ],
            engine="streaming",
        )
    )
    plain_logged_in = plain_decoded
    spaced_otherwise = plain_decoded.get_column("customer_id").is_null()
    if spaced_otherwise.any():  # anonymous lines that the webshop did not space (see split_lines)
        anonymous_too = plain_decoded.filter(spaced_otherwise).select("line", "id")
        plain_anonymous = pl.concat([plain_anonymous, anonymous_too])
        plain_logged_in = plain_decoded.filter(~spaced_otherwise)
    accepted = pl.concat(
        [
            accepted,
            plain_anonymous.with_columns(logged_in=pl.lit(False)),
            plain_logged_in.select("line", "id", logged_in=pl.lit(True)),
        ]
    )
    logged_in = pl.concat([logged_in, plain_logged_in])
    if pending_lines.height:
        judged = pl.collect_all(
            _frames(classify_some_lines(str(events), pending_lines["line"]).cache()),
            engine="streaming",
        )
        rejected, accepted, logged_in = (
            pl.concat([frame, more], how="vertical_relaxed")
            for frame, more in zip((rejected, accepted, logged_in), judged, strict=True)
        )
    return _Read(
        lines=counts["lines"].item() + plain_anonymous.height + plain_logged_in.height,
        blank=counts["blank"].item(),
        rejected=rejected.sort("line"),
        accepted=accepted,
        # The streaming pass leaves thousands of small chunks: one is faster to sort.
        logged_in=logged_in.rechunk(),
    )


def _frames(classified: pl.LazyFrame) -> list[pl.LazyFrame]:
    """rejected, accepted and logged_in (see `_Read`) of classified lines."""
    blank, reason = pl.col("blank"), pl.col("reason")
    customer = pl.col("customer_id")
    accepted = classified.filter(~blank & reason.is_null())
    return [
        classified.filter(reason.is_not_null()).select("line", "reason", "text"),
        accepted.select("line", "id", logged_in=customer.is_not_null()),
        _logged_in(accepted.filter(customer.is_not_null())),
    ]


def _logged_in(events: pl.LazyFrame) -> pl.LazyFrame:
    """The columns `_Read.logged_in` keeps of classified logged-in lines."""
    return events.select("line", "id", "customer_id", "type", "timestamp", *_PAYLOAD).with_columns(
        pl.col(name).cast(pl.Categorical()) for name in _REPETITIVE
    )


def _lower_cased_types(events: pl.DataFrame) -> pl.DataFrame:
    """Rule 4, worked out once for each distinct type (a categorical) rather than each event."""
    kinds = events.get_column("type").unique().cast(pl.String())
    lower_cased = kinds.str.to_lowercase()
    return events.with_columns(
        pl.col("type").replace_strict(kinds, lower_cased, return_dtype=pl.Categorical())
    )


def _read_any_text(events: Path, scratch: Path) -> _Read:
    """`_read`, also for a file with lines that are not UTF-8 (Polars' reader refuses those) or
    that starts with a UTF-8 byte order mark (RFC 8259 lets a reader ignore one; Windows tools
    write it, and Polars would reject line 1 for it).

    Such a file is copied, decompressed, without its mark and with each non-UTF-8 line left
    empty, so that line numbers hold; the empty lines are then counted as rejected
    (invalid_utf8), not blank.
    """
    try:
        if not _starts_with_bom(events):
            return _read(events)
    except pl.exceptions.ComputeError as error:
        if "utf8" not in str(error).lower().replace("-", ""):
            raise
    except (OSError, EOFError) as error:  # a truncated gzip file, say
        raise XccError(
            f"cannot read {events}: {getattr(error, 'strerror', None) or error}"
        ) from None
    invalid: list[tuple[int, str]] = []
    try:
        with _open_decompressed(events) as source, scratch.open("wb") as copy:
            for number, raw in enumerate(source, start=1):
                if number == 1:
                    raw = raw.removeprefix(_BOM)
                try:
                    raw.decode("utf-8")
                    copy.write(raw)
                except UnicodeDecodeError:
                    text = raw.rstrip(b"\r\n").decode("utf-8", "backslashreplace")
                    invalid.append((number, text))
                    copy.write(b"\n")
        read = _read(scratch)
    except (OSError, EOFError) as error:
        reason = getattr(error, "strerror", None) or error
        raise XccError(f"cannot copy {events} into {scratch}: {reason}") from None
    finally:
        scratch.unlink(missing_ok=True)
    bad = pl.DataFrame(
        {
            "line": [number for number, _ in invalid],
            "reason": ["invalid_utf8"] * len(invalid),
            "text": [text for _, text in invalid],
        },
        schema=read.rejected.schema,
    )
    return _Read(
        lines=read.lines,
        blank=read.blank - len(invalid),
        rejected=pl.concat([read.rejected, bad]).sort("line"),
        accepted=read.accepted,
        logged_in=read.logged_in,
    )


_BOM = b"\xef\xbb\xbf"
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _starts_with_bom(events: Path) -> bool:
    """Whether the text of `events` (gzip decompressed) starts with a UTF-8 byte order mark."""
    with events.open("rb") as file:
        head = file.read(len(_BOM))
    if head.startswith(_GZIP_MAGIC):
        with gzip.open(events, "rb") as text:
            head = text.read(len(_BOM))
    return head == _BOM


def _open_decompressed(events: Path) -> io.BufferedIOBase:
    """`events` opened for reading its lines as Polars reads them: gzip decompressed."""
    with events.open("rb") as file:
        magic = file.read(len(_ZSTD_MAGIC))
    if magic.startswith(_GZIP_MAGIC):
        return gzip.open(events, "rb")
    if magic == _ZSTD_MAGIC:
        raise XccError(
            f"{events} is zstd-compressed and holds lines that are not UTF-8 or a byte order "
            "mark: decompress it (zstd -d) and sessionize the result"
        )
    return events.open("rb")


def sessionize_events(events: pl.LazyFrame, gap: timedelta) -> pl.LazyFrame:
    """Events (customer_id not null) in output order, with their session.

    Adds session_id, session_index and session_number (1-based over the whole output, so that
    sessions can be grouped by an integer).
    """
    customer, timestamp = pl.col("customer_id"), pl.col("timestamp")
    new_customer = (customer != customer.shift(1)).fill_null(True)
    new_session = pl.col("new_customer") | ((timestamp - timestamp.shift(1)) > gap)
    number, starts = pl.col("session_number"), pl.col("new_session")
    # Formatted once per session (the filters come first), then spread to its events by number:
    # strftime is slow.
    session_id = pl.format(
        "{}-{}Z", customer.filter(starts), timestamp.filter(starts).dt.strftime("%Y%m%dT%H%M%S%6f")
    ).gather(number - 1)
    return (
        events.sort("customer_id", "timestamp", "id")
        .with_columns(new_customer=new_customer)
        .with_columns(new_session=new_session)
        # A running count never decreases: flagged sorted, sessions_of groups it by slicing.
        .with_columns(session_number=pl.col("new_session").cum_sum().set_sorted())
        .with_columns(
            session_id=session_id,
            session_index=(
                number - pl.when(pl.col("new_customer")).then(number).forward_fill() + 1
            ).cast(pl.Int32()),
        )
        .drop("new_customer", "new_session")
    )


def sessions_of(events: pl.LazyFrame) -> pl.LazyFrame:
    """One row per session from `sessionize_events`' output (see the module's rules)."""
    kind, timestamp = pl.col("type"), pl.col("timestamp")
    started_at, ended_at = timestamp.first(), timestamp.last()
    return (
        events.group_by("session_number")
        .agg(
            session_id=pl.col("session_id").first(),
            customer_id=pl.col("customer_id").first(),
            session_index=pl.col("session_index").first(),
            started_at=started_at,
            ended_at=ended_at,
            event_count=pl.len().cast(pl.Int32()),
            page_view_count=(kind == PAGE_VIEW_TYPE).sum().cast(pl.Int32()),
            order_count=(kind == ORDER_TYPE).sum().cast(pl.Int32()),
            first_order_at=timestamp.filter(kind == ORDER_TYPE).first(),
            referrer=pl.col("referrer").drop_nulls().first(),
            landing_page=pl.col("page").filter(kind == PAGE_VIEW_TYPE).first(),
            user_agent=pl.col("user_agent").first(),
            ip=pl.col("ip").first(),
        )
        .sort("session_number")
        .with_columns(duration_seconds=_seconds(pl.col("ended_at") - pl.col("started_at")))
        .select(SESSIONS.names())
        .cast(SESSIONS)
    )


def _seconds(duration: pl.Expr) -> pl.Expr:
    """A non-negative duration in seconds, correctly rounded like Python's `td / timedelta(1)`.

    Polars divides a column by a constant through its reciprocal, which is off by one ulp for
    about a third of values (1,800,000,001 us gave 1800.0000009999999); parsing the decimal
    digits is exact.
    """
    micros = duration.dt.total_microseconds()
    digits = pl.format(
        "{}.{}", micros // 1_000_000, (micros % 1_000_000).cast(pl.String).str.zfill(6)
    )
    return digits.cast(pl.Float64())


def _input_size(events: Path) -> int:
    """The size of the regular file `events`. A pipe (`/dev/stdin`, `<(zcat ...)`) is refused:
    the file is read more than once (the hash, the lines, the lines Python judges), and a
    pipe gives its lines to the first reader only."""
    if str(events) == "-":
        raise XccError("reading the events from stdin is not supported; save them to a file")
    try:
        if events.is_dir():
            raise XccError(f"{events} is a directory; give the NDJSON events file")
        if events.exists() and not events.is_file():
            raise XccError(
                f"{events} is not a regular file (a pipe or a device can be read only once); "
                "save the events to a file"
            )
        with events.open("rb"):
            return events.stat().st_size
    except FileNotFoundError:
        raise XccError(f"{events} does not exist; fetch it first (xcc-sessions fetch)") from None
    except OSError as error:
        raise XccError(f"cannot read {events}: {error.strerror}") from None


# Compressions that Polars does not read, by their magic numbers (bzip2's with its first block's,
# so that no line of text can be taken for it): their bytes would all be rejected as lines.
_UNREADABLE_COMPRESSIONS: Final = (
    (re.compile(rb"BZh[1-9]1AY&SY"), "bzip2-compressed", "bunzip2 -k"),
    (re.compile(rb"\xfd7zXZ\x00"), "xz-compressed", "unxz -k"),
    (re.compile(rb"PK\x03\x04"), "a zip archive", "unzip"),
)


def _refuse_unreadable_compression(events: Path) -> None:
    with events.open("rb") as file:
        head = file.read(10)
    for magic, kind, command in _UNREADABLE_COMPRESSIONS:
        if magic.match(head):
            raise XccError(
                f"{events} is {kind}, which sessionize does not read: decompress it "
                f"({command} {events}), or give it plain, gzip- or zstd-compressed"
            )


def claim_output_dir(output_dir: Path) -> DirectoryClaim:
    """`output_dir`, created if need be and checked writable, held for one run: no other
    sessionize or run writes it, and no load reads it, until the claim is released."""
    _prepare(output_dir)
    return DirectoryClaim(output_dir)


def _prepare(output_dir: Path) -> None:
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise XccError(f"{output_dir} exists and is not a directory") from None
    except OSError as error:
        raise XccError(f"cannot create {output_dir}: {error.strerror}") from None
    if not os.access(output_dir, os.W_OK):
        raise XccError(f"cannot write to {output_dir}: permission denied")


def _write_outputs(
    output_dir: Path,
    summarize: Callable[[], Summary],
    sessions: pl.DataFrame,
    events: pl.DataFrame,
    rejected: pl.DataFrame,
) -> Summary:
    """Write every output beside its final name, then rename: readers never see half a file.

    `summarize` runs once the data files are written, so the summary's seconds include them.
    """
    staged = {name: output_dir / f".{name}.partial" for name in OUTPUT_FILES}
    try:
        # zstd's fastest level: files as small as the default level's here, in less time.
        sessions.write_parquet(staged["sessions.parquet"], compression_level=1)
        events.write_parquet(staged["events.parquet"], compression_level=1)
        rejected.select("line", "reason", "text").write_ndjson(staged["rejected.ndjson"])
        summary = summarize()
        staged["summary.json"].write_text(json.dumps(summary.to_json(), indent=2) + "\n")
        for name, path in staged.items():
            path.replace(output_dir / name)
    except OSError as error:
        raise XccError(f"cannot write to {output_dir}: {error.strerror}") from None
    except pl.exceptions.ComputeError as error:
        # Polars' writers report a failed write (a full disk, say) as "... IO error: <why> (os
        # error N)"; anything else is no user's doing.
        reason = re.search(r"IO error: (.+?) \(os error \d+\)", str(error))
        if reason is None:
            raise
        raise XccError(f"cannot write to {output_dir}: {reason.group(1)}") from None
    finally:
        for path in staged.values():
            path.unlink(missing_ok=True)
    return summary
