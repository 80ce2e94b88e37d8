"""Progress bars on stderr, shown only when asked for (the CLI asks when stderr is a terminal)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal

Update = Callable[[int], None]


def wanted(quiet: bool) -> bool:
    """Whether to draw a bar: not when quiet, and not when stderr is a file or a pipe."""
    return not quiet and sys.stderr.isatty()


@contextmanager
def progress_bar(
    description: str, total: int | None, *, unit: Literal["bytes", "lines"], enabled: bool
) -> Iterator[Update]:
    """Yield a function that records how much is done; draw a bar on stderr when `enabled`.

    Bytes show size, speed and time left; lines show a count and time left. An unknown `total`
    (a download without Content-Length) shows what is done and the speed. The bar disappears
    when done, leaving the caller's own summary line.
    """
    if not enabled:
        yield _ignore
        return
    # rich comes with typer; imported here so commands that draw no bar don't pay for it.
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    amount: list[ProgressColumn] = (
        [DownloadColumn(), TransferSpeedColumn()] if unit == "bytes" else [MofNCompleteColumn()]
    )
    with Progress(
        TextColumn(description),
        BarColumn(),
        *amount,
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=total)
        yield lambda completed: progress.update(task, completed=completed)


def _ignore(completed: int) -> None:
    """Record nothing: the bar is off."""


def human_bytes(size: int) -> str:
    """A size for people: 1.5 GB, 290.8 kB, 12 bytes (decimal units, like the bar's)."""
    if size < 1000:
        return f"{size} bytes"
    value = float(size)
    for unit in ("kB", "MB", "GB"):
        value /= 1000
        if round(value, 1) < 1000:
            return f"{value:.1f} {unit}"
    return f"{value / 1000:.1f} TB"
