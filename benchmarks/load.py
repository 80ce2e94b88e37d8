"""Benchmark `xcc-sessions load` into PostgreSQL and DuckDB, with yardsticks, and sessionize + load.

Usage (from the repository root; PostgreSQL from DATABASE_URL, default the local test server):

    uv run python -m benchmarks.load                          # the 5M-line dataset
    uv run python -m benchmarks.load --lines 1000000 --repeat 3 --check

It sessionizes the cached synthetic dataset once (`xcc-sessions sessionize`, timed as a child
process), then loads the output `--repeat` times into each engine in this process, keeping the
fastest run, and prints rows/s for each step: PostgreSQL's binary COPY of sessions and events, the
key and index builds, the swap; DuckDB's inserts from read_parquet. Yardsticks from the same run:

- PostgreSQL: the same events sent as CSV that polars writes (`COPY ... (format csv)`) into a bare
  table: the alternative to binary COPY, which load.py rejects by this measurement; and the
  server's floor: the loaded events COPYed out in binary beforehand and sent back as one ready
  payload, so nothing but PostgreSQL's own parsing and writing is timed.
- DuckDB: `create table as select * from read_parquet(...)` without keys: the floor for DuckDB.

Finally sessionize + load is timed both ways a user can do it, as child processes into
PostgreSQL: the sum of the two commands' wall times (`xcc-sessions sessionize`, then
`xcc-sessions load`), and `xcc-sessions run --no-serve`, which does both in one command (and
writes the files while PostgreSQL builds its indexes). Each is timed `--rounds` times, in turn;
the bars are judged on the median, as single runs on a shared machine vary by a tenth either
way. Bars (issue 3): PostgreSQL events COPY at least 400k rows/s; sessionize + load of 5M lines
into PostgreSQL within 10 s.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import duckdb
import polars as pl
import psycopg

from benchmarks.common import (
    DATA,
    XCC_SESSIONS,
    compile_bytecode,
    dataset,
    machine,
    measure,
    table,
    warm,
)
from xcc_sessions.database import Database
from xcc_sessions.load import LoadResult, load
from xcc_sessions.schema import EVENTS

SERVER_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
SCHEMA = "xcc_benchmark_load"
MIN_EVENTS_ROWS_PER_SECOND = 400_000
MAX_SESSIONIZE_AND_LOAD_SECONDS = 10.0


@dataclass
class Run:
    """One load: its result and the seconds of each step."""

    result: LoadResult
    steps: dict[str, float] = field(default_factory=dict)


def best_load(directory: Path, database: Database, repeat: int) -> Run:
    runs = []
    for attempt in range(repeat):
        print(f"  load into {database.engine} (run {attempt + 1} of {repeat})", file=sys.stderr)
        steps: dict[str, float] = {}
        result = load(directory, database, on_step=steps.__setitem__)
        runs.append(Run(result, steps))
    return min(runs, key=lambda run: run.result.seconds)


def csv_copy_seconds(events: Path, url: str) -> float:
    """The events COPYed as polars-written CSV into a bare table (rolled back): the yardstick."""
    columns = ", ".join(EVENTS.names())
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("create table csv_yardstick (like events)")
        started = time.perf_counter()
        copy_sql = f"copy csv_yardstick ({columns}) from stdin (format csv, freeze)"
        with cursor.copy(copy_sql.encode()) as copy:
            for batch in pl.scan_parquet(events).collect_batches(chunk_size=100_000):
                buffer = io.BytesIO()
                batch.write_csv(buffer, include_header=False)
                copy.write(buffer.getbuffer())
        seconds = time.perf_counter() - started
        connection.rollback()
    return seconds


def binary_floor_seconds(url: str) -> float:
    """The loaded events sent back as a ready binary payload into a bare table (rolled back)."""
    columns = ", ".join(EVENTS.names())
    payload = bytearray()
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        with cursor.copy(f"copy events ({columns}) to stdout (format binary)".encode()) as copy:
            for data in copy:
                payload += data
        cursor.execute("create table binary_yardstick (like events)")
        started = time.perf_counter()
        copy_sql = f"copy binary_yardstick ({columns}) from stdin (format binary, freeze)"
        with cursor.copy(copy_sql.encode()) as copy:
            view = memoryview(payload)
            for offset in range(0, len(view), 1 << 20):
                copy.write(view[offset : offset + (1 << 20)])
        seconds = time.perf_counter() - started
        connection.rollback()
    return seconds


def duckdb_floor_seconds(events: Path, path: Path) -> float:
    """The events read from Parquet into a DuckDB table without keys or indexes."""
    with duckdb.connect(path) as connection:
        connection.execute("set enable_progress_bar = false")
        started = time.perf_counter()
        connection.execute(
            "create or replace table floor_yardstick as select * from read_parquet(?)",
            [str(events)],
        )
        return time.perf_counter() - started


def timed(function: Callable[[], float], repeat: int) -> float:
    return min(function() for _ in range(repeat))


def fresh_schema() -> str:
    """A URL whose search_path is an empty schema of this benchmark's own."""
    with psycopg.connect(SERVER_URL, autocommit=True) as admin:
        admin.execute(f"drop schema if exists {SCHEMA} cascade".encode())
        admin.execute(f"create schema {SCHEMA}".encode())
    separator = "&" if "?" in SERVER_URL else "?"
    return f"{SERVER_URL}{separator}options={quote(f'-csearch_path={SCHEMA}')}"


def drop_schema() -> None:
    with psycopg.connect(SERVER_URL, autocommit=True) as admin:
        admin.execute(f"drop schema if exists {SCHEMA} cascade".encode())


def line(engine: str, step: str, seconds: float, rows: int | None = None) -> list[str]:
    """A table row: the step's seconds and, where it moves rows, its rows per second."""
    per_second = f"{rows / seconds:,.0f}" if rows is not None and seconds else ""
    return [engine, step, f"{seconds:.2f}", per_second]


def engine_rows(engine: str, run: Run, yardsticks: dict[str, float]) -> list[list[str]]:
    """Every step of the run in order, with rows/s where it moves rows, then the yardsticks."""
    moved = {
        "sessions": run.result.sessions_loaded,
        "events": run.result.events_loaded,
    }
    rows = []
    for step, seconds in run.steps.items():
        verb, _, table_name = step.partition(" ")
        rows_moved = moved[table_name] if verb in ("copy", "insert") else None
        rows.append(line(engine, step, seconds, rows_moved))
        if verb in ("copy", "insert") and table_name == "events":
            for yardstick, yardstick_seconds in yardsticks.items():
                rows.append(
                    line(engine, f"  yardstick: {yardstick}", yardstick_seconds, rows_moved)
                )
    rows.append(line(engine, "whole load", run.result.seconds, sum(moved.values())))
    return rows


def timings(how: str, seconds: list[float]) -> list[str]:
    """A table row: the median of a command's timings, then each of them in the order run."""
    return [how, f"{statistics.median(seconds):.2f}", " ".join(f"{value:.2f}" for value in seconds)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=5_000_000, help="dataset size (5000000)")
    parser.add_argument("--repeat", type=int, default=1, help="loads per engine; the best counts")
    parser.add_argument(
        "--rounds", type=int, default=3, help="timings of the commands; the median counts (3)"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a bar is not met")
    arguments = parser.parse_args()
    if arguments.rounds < 1:
        parser.error("--rounds must be at least 1")
    compile_bytecode()

    source = dataset(arguments.lines)
    warm(source)
    output = DATA / f"load-{arguments.lines}"
    run_directory = DATA / f"run-{arguments.lines}"
    sessionize_command = [*XCC_SESSIONS, "sessionize", str(source), "-o", str(output), "--quiet"]
    print(f"  sessionize {source.name}", file=sys.stderr)
    sessionize = [measure(sessionize_command).seconds]
    duckdb_file = DATA / f"load-{arguments.lines}.duckdb"
    duckdb_file.unlink(missing_ok=True)
    url = fresh_schema()
    try:
        postgres = best_load(output, Database("postgresql", url), arguments.repeat)
        duck = best_load(output, Database("duckdb", str(duckdb_file)), arguments.repeat)
        print("  yardsticks: CSV COPY, binary COPY floor, DuckDB without keys", file=sys.stderr)
        csv_seconds = timed(lambda: csv_copy_seconds(output / "events.parquet", url), 1)
        binary_seconds = timed(lambda: binary_floor_seconds(url), arguments.repeat)
        floor_seconds = timed(
            lambda: duckdb_floor_seconds(output / "events.parquet", duckdb_file), arguments.repeat
        )
        load_command = [*XCC_SESSIONS, "load", str(output), "-d", url, "--quiet"]
        run = ["run", str(source), "--no-serve", "-d", url, "--data-dir", str(run_directory)]
        loads: list[float] = []
        one_command: list[float] = []
        for round_number in range(1, arguments.rounds + 1):
            print(
                f"  round {round_number} of {arguments.rounds}: xcc-sessions sessionize, load, "
                "run --no-serve into PostgreSQL",
                file=sys.stderr,
            )
            if round_number > 1:
                sessionize.append(measure(sessionize_command).seconds)
            loads.append(measure(load_command).seconds)
            one_command.append(measure([*XCC_SESSIONS, *run, "--quiet"]).seconds)
    finally:
        shutil.rmtree(run_directory, ignore_errors=True)
        drop_schema()
        duckdb_file.unlink(missing_ok=True)
        wal = duckdb_file.with_name(duckdb_file.name + ".wal")
        wal.unlink(missing_ok=True)

    sessions, events = postgres.result.sessions_loaded, postgres.result.events_loaded
    rows = [
        *engine_rows(
            "PostgreSQL",
            postgres,
            {"CSV by polars": csv_seconds, "binary, ready payload": binary_seconds},
        ),
        *engine_rows("DuckDB", duck, {"no keys": floor_seconds}),
    ]
    print(machine())
    print(f"{arguments.lines:,} lines: {sessions:,} sessions, {events:,} events")
    print(table(["engine", "step", "seconds", "rows/s"], rows))
    two_commands = [first + second for first, second in zip(sessionize, loads, strict=True)]
    total, single = statistics.median(two_commands), statistics.median(one_command)
    print(f"\nsessionize + load of {arguments.lines:,} lines into PostgreSQL, in seconds:")
    print(
        table(
            ["how", "median", "runs"],
            [
                timings("xcc-sessions sessionize", sessionize),
                timings("xcc-sessions load", loads),
                timings("the two commands", two_commands),
                timings("xcc-sessions run --no-serve", one_command),
            ],
        )
    )
    copy_rate = events / postgres.steps["copy events"]
    bars = [
        (
            "PostgreSQL events COPY rows/s",
            copy_rate >= MIN_EVENTS_ROWS_PER_SECOND,
            f"{copy_rate:,.0f}, at least {MIN_EVENTS_ROWS_PER_SECOND:,}",
        ),
        (
            f"sessionize + load of {arguments.lines:,} lines into PostgreSQL, one command",
            single <= MAX_SESSIONIZE_AND_LOAD_SECONDS,
            f"median {single:.2f} s, at most {MAX_SESSIONIZE_AND_LOAD_SECONDS:.0f} s",
        ),
        (
            f"sessionize + load of {arguments.lines:,} lines into PostgreSQL, two commands",
            total <= MAX_SESSIONIZE_AND_LOAD_SECONDS,
            f"median {total:.2f} s, at most {MAX_SESSIONIZE_AND_LOAD_SECONDS:.0f} s",
        ),
    ]
    for description, met, figures in bars:
        print(f"{'met' if met else 'NOT MET':>7}: {description} ({figures})")
    shutil.rmtree(output)
    if arguments.check and not all(met for _, met, _ in bars):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
