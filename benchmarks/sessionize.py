"""Benchmark `xcc-sessions sessionize` against a plain DuckDB yardstick, side by side.

Usage (from the repository root):

    uv run python -m benchmarks.sessionize                    # 1M and 5M lines
    uv run python -m benchmarks.sessionize --lines 100000 --repeat 3

For each size it generates (once, cached in benchmarks/data/) a synthetic event file, then runs
`xcc-sessions sessionize` and benchmarks/yardstick_duckdb.py on it, each as a child process, and
prints wall seconds, input MB/s, input lines/s and peak RSS for each, and their ratio. It checks
the bars of issue 2 at the largest size: sessionize at most 1.5x DuckDB's wall time, peak RSS at
most 2 GB, and time growing linearly (largest/smallest at most 1.1x the ratio of their sizes,
5.5x for 1M to 5M). As a cross-check, both must find the same sessions and events.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from benchmarks.common import (
    DATA,
    XCC_SESSIONS,
    Measurement,
    compile_bytecode,
    dataset,
    machine,
    measure,
    table,
    warm,
)

YARDSTICK = Path(__file__).resolve().parent / "yardstick_duckdb.py"
MAX_RATIO = 1.5
MAX_PEAK_RSS = 2 * 1000**3
# Allowed growth of time beyond linear: 5.5x for 5x the lines.
MAX_SUPERLINEARITY = 1.1


@dataclass(frozen=True)
class Result:
    lines: int
    input_bytes: int
    sessionize: Measurement
    duckdb: Measurement
    sessions: int
    events: int


def run(lines: int, repeat: int) -> Result:
    """The best of `repeat` runs of each tool, alternating which goes first."""
    events = dataset(lines)
    warm(events)
    ours, theirs = DATA / f"out-sessionize-{lines}", DATA / f"out-duckdb-{lines}"
    commands = {
        "sessionize": [*XCC_SESSIONS, "sessionize", str(events), "-o", str(ours), "--quiet"],
        "duckdb": [sys.executable, str(YARDSTICK), str(events), str(theirs)],
    }
    runs: dict[str, list[Measurement]] = {"sessionize": [], "duckdb": []}
    for attempt in range(repeat):
        order = ["sessionize", "duckdb"] if attempt % 2 == 0 else ["duckdb", "sessionize"]
        for tool in order:
            print(f"  {lines:,} lines: {tool} (run {attempt + 1} of {repeat})", file=sys.stderr)
            runs[tool].append(measure(commands[tool]))
    sessions, sessionized_events = _cross_check(ours, theirs)
    shutil.rmtree(ours)
    shutil.rmtree(theirs)
    return Result(
        lines,
        events.stat().st_size,
        min(runs["sessionize"], key=lambda run: run.seconds),
        min(runs["duckdb"], key=lambda run: run.seconds),
        sessions,
        sessionized_events,
    )


def _cross_check(ours: Path, theirs: Path) -> tuple[int, int]:
    """Both tools must agree on the sessions; a fast wrong answer is no benchmark.

    Returns how many sessions and sessionized events they agree on.
    """
    heights = []
    for name, columns in (
        ("sessions.parquet", ["session_id", "event_count", "order_count"]),
        ("events.parquet", ["id", "session_id"]),
    ):
        mine = pl.read_parquet(ours / name, columns=columns).sort(columns[0])
        yardstick = pl.read_parquet(theirs / name, columns=columns).sort(columns[0])
        if not mine.equals(yardstick.cast(mine.schema)):
            raise SystemExit(f"sessionize and DuckDB disagree on {name}: check the sessionizer")
        heights.append(mine.height)
    sessions, events = heights
    return sessions, events


def report(results: list[Result]) -> bool:
    """Print the figures and the bars; return whether every bar is met."""
    rows = []
    for result in results:
        for tool, measurement in (("sessionize", result.sessionize), ("duckdb", result.duckdb)):
            rows.append(
                [
                    f"{result.lines:,}",
                    tool,
                    f"{measurement.seconds:.2f}",
                    f"{result.input_bytes / 1e6 / measurement.seconds:.0f}",
                    f"{result.lines / measurement.seconds:,.0f}",
                    f"{measurement.peak_rss / 1e6:,.0f}",
                    f"{result.sessionize.seconds / result.duckdb.seconds:.2f}x"
                    if tool == "sessionize"
                    else "",
                ]
            )
    print(machine())
    print(
        table(
            ["lines", "tool", "wall s", "MB/s", "lines/s", "peak RSS MB", "vs DuckDB"],
            rows,
        )
    )
    for result in results:
        print(
            f"Both agree at {result.lines:,} lines: {result.sessions:,} sessions of "
            f"{result.events:,} logged-in events."
        )
    largest, smallest = results[-1], results[0]
    bars = [
        (
            f"sessionize at most {MAX_RATIO}x DuckDB's wall time at {largest.lines:,} lines",
            largest.sessionize.seconds / largest.duckdb.seconds,
            MAX_RATIO,
            "x",
        ),
        (
            f"sessionize peak RSS at most {MAX_PEAK_RSS / 1e9:.0f} GB at {largest.lines:,} lines",
            largest.sessionize.peak_rss / 1e9,
            MAX_PEAK_RSS / 1e9,
            " GB",
        ),
    ]
    if largest.lines > smallest.lines:
        growth = largest.lines / smallest.lines
        bars.append(
            (
                f"time grows linearly: {largest.lines:,} vs {smallest.lines:,} lines",
                largest.sessionize.seconds / smallest.sessionize.seconds,
                MAX_SUPERLINEARITY * growth,
                "x",
            )
        )
    print()
    for description, value, limit, unit in bars:
        verdict = "met" if value <= limit else "NOT MET"
        print(f"{verdict:>7}: {description} ({value:.2f}{unit}, limit {limit:.2f}{unit})")
    return all(value <= limit for _, value, limit, _ in bars)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--lines",
        type=int,
        nargs="+",
        default=[1_000_000, 5_000_000],
        help="file sizes in lines, smallest first (default: 1000000 5000000)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; the best counts")
    parser.add_argument("--check", action="store_true", help="exit 1 when a bar is not met")
    arguments = parser.parse_args()
    compile_bytecode()
    results = [run(lines, arguments.repeat) for lines in sorted(arguments.lines)]
    met = report(results)
    if arguments.check and not met:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
