"""Shared helpers for the benchmark scripts: cached datasets, measured child processes, tables.

Each benchmark times its subject and a yardstick in the same run, each in a child process of
its own so that the peak resident set size (RSS) is that process's alone. Run the scripts from
the repository root, for example `uv run python -m benchmarks.sessionize --lines 1000000`.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from xcc_sessions import generate
from xcc_sessions.progress import human_bytes

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
# The package's own command line, run by this interpreter (not through uv, whose process would
# sit between us and the command and blur its timing).
XCC_SESSIONS = (sys.executable, "-m", "xcc_sessions")


def dataset(lines: int, *, seed: int = 0) -> Path:
    """A synthetic event file of `lines` lines, generated once and cached in benchmarks/data/.

    The name holds a digest of the generator's source, so a changed generator makes new files.
    """
    digest = hashlib.sha256(Path(generate.__file__).read_bytes()).hexdigest()[:8]
    path = DATA / f"events-{lines}-seed{seed}-{digest}.json"
    if not path.exists():
        print(f"Generating {lines:,} lines into {path.relative_to(ROOT)} ...", file=sys.stderr)
        generate.generate_events(path, lines, seed=seed)
    return path


def compile_bytecode() -> None:
    """Byte-compile the environment's packages and ours once, as an installed tool has them.

    pip and the Dockerfile (UV_COMPILE_BYTECODE=1) compile at install time, and elsewhere
    Python caches what it compiles on the first run. This machine sets PYTHONDONTWRITEBYTECODE
    and `uv sync` compiles nothing, so without this every measured command would compile
    Polars', DuckDB's and Typer's modules afresh: about 0.5 s of each run that is not the
    tools' work, and that no installed copy pays. Files already compiled are skipped.
    """
    print("  byte-compiling the environment (once)", file=sys.stderr)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            sysconfig.get_paths()["purelib"],
            str(ROOT / "xcc_sessions"),
            str(ROOT / "benchmarks"),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def warm(path: Path) -> None:
    """Read a file once so every measured run finds it in the page cache alike."""
    with path.open("rb") as file:
        while file.read(1 << 24):
            pass


@dataclass(frozen=True)
class Measurement:
    """One run of a child process: wall-clock seconds and peak RSS in bytes."""

    seconds: float
    peak_rss: int


def measure(command: Sequence[str]) -> Measurement:
    """Run `command` to completion and measure it; a failing command raises with its stderr.

    The peak RSS is the kernel's high-water mark for the child (and any children it waited
    for), read from wait4's resource usage, so it includes every thread and native allocation.
    """
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()
            raise RuntimeError(f"{' '.join(command)} exited {process.returncode}:\n{message}")
    # Linux counts ru_maxrss in KiB, macOS in bytes.
    scale = 1 if sys.platform == "darwin" else 1024
    return Measurement(seconds, usage.ru_maxrss * scale)


def machine() -> str:
    """One line about where the figures come from, including how busy the machine was."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
        f"{human_bytes(memory)} RAM, load average {load}; Python {platform.python_version()}, "
        f"Polars {pl.__version__}, DuckDB {duckdb.__version__}"
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: text columns left-aligned, numbers right-aligned."""
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    numeric = [all(_numeric(row[i]) for row in rows) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(width) if is_numeric else cell.ljust(width)
            for cell, width, is_numeric in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    return "\n".join([line(headers), line(["-" * width for width in widths]), *map(line, rows)])


def _numeric(cell: str) -> bool:
    return cell == "" or cell[0].isdigit()
