"""The `xcc-sessions` command line: a thin layer over the library modules.

Each command parses its options, calls one library function and prints the result. Errors the
user can cause arrive as `XccError` and leave as one line on stderr with the error's exit code.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from xcc_sessions import __version__
from xcc_sessions.errors import XccError

app = typer.Typer(
    name="xcc-sessions",
    help=(
        "Webshop clickstream to customer sessions in SQL, with a metrics API.\n\n"
        "Example: xcc-sessions run data/events.json"
    ),
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

CommandFunction = TypeVar("CommandFunction", bound=Callable[..., Any])

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print no progress or summary.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Print more detail on stderr.")]


def command(name: str) -> Callable[[CommandFunction], CommandFunction]:
    """Register a command whose `XccError`s become one line on stderr and their exit code."""

    def register(function: CommandFunction) -> CommandFunction:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except XccError as error:
                typer.echo(f"Error: {error}", err=True)
                raise typer.Exit(error.exit_code) from None

        app.command(name)(run)
        return function

    return register


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"xcc-sessions {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Show the version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Webshop clickstream to customer sessions in SQL, with a metrics API.

    Example: xcc-sessions run data/events.json
    """


@command("generate")
def generate_command(
    lines: Annotated[
        int, typer.Option("--lines", "-n", min=0, help="How many lines to write.")
    ] = 100_000,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The file to write (replaced if it exists).")
    ] = Path("data/synthetic-events.json"),
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Random seed: the same seed writes the same file.")
    ] = 0,
    quiet: Quiet = False,
) -> None:
    """Write a synthetic event file shaped like the webshop's real clickstream.

    Example: xcc-sessions generate -n 1000000 -o data/events.json --seed 1

    About 30% of the lines are logged in, customers come back in bursts hours apart, orders are
    a /checkout page_view plus a placed_order at the same instant, and lines are not in time
    order. About 300 bytes a line. Prints the file's path on stdout.
    """
    from xcc_sessions.generate import generate_events
    from xcc_sessions.progress import human_bytes, progress_bar, wanted

    started = time.perf_counter()
    with progress_bar("Generating", lines, unit="lines", enabled=wanted(quiet)) as update:
        generate_events(output, lines, seed=seed, on_progress=update)
    if not quiet:
        typer.echo(
            f"Wrote {lines:,} lines ({human_bytes(output.stat().st_size)}) to {output} "
            f"in {time.perf_counter() - started:.1f} s",
            err=True,
        )
    typer.echo(output)


def main() -> None:
    app(prog_name="xcc-sessions")
