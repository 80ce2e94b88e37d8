"""The `xcc-sessions` command line: a thin layer over the library modules.

Each command parses its options, calls one library function and prints the result. Errors the
user can cause arrive as `XccError` and leave as one line on stderr with the error's exit code.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import typer

from xcc_sessions import __version__
from xcc_sessions.database import redact_url, resolve_database
from xcc_sessions.errors import XccError
from xcc_sessions.progress import human_bytes, progress_bar, wanted

# Each command imports its library module when it runs, so that no command pays at start-up for
# another's imports (httpx, duckdb, psycopg, starlette, polars).
DEFAULT_URL = "https://storage.googleapis.com/xcc-de-assessment/events.json"
DEFAULT_OUTPUT = Path("data/events.json")

app = typer.Typer(
    name="xcc-sessions",
    help=(
        "Webshop clickstream to customer sessions in SQL, with a metrics API.\n\n"
        "Example: xcc-sessions run"
    ),
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

CommandFunction = TypeVar("CommandFunction", bound=Callable[..., Any])

Gap = Annotated[
    str,
    typer.Option(
        "--gap",
        "-g",
        metavar="GAP",
        help="Inactivity that ends a session: 30m, 1800s, 1h; a bare number is seconds.",
    ),
]
Serve = Annotated[
    bool, typer.Option("--serve/--no-serve", help="Serve the API when the data is loaded.")
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print no progress or summary.")]
Force = Annotated[
    bool, typer.Option("--force", "-f", help="Download even if the local copy is current.")
]
Retries = Annotated[
    int,
    typer.Option(
        "--retries",
        metavar="N",
        min=0,
        max=10,
        help="Download again after a failure that may pass (no connection, a timeout, a dropped "
        "connection, 429 or 5xx), up to N times, after 1 s, 2 s, 4 s ... or the server's "
        "Retry-After, at most a minute; each try has the whole timeout.",
    ),
]
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
    """The options of xcc-sessions itself (its help text is the app's, above)."""


@command("fetch")
def fetch_command(
    url: Annotated[
        str, typer.Argument(metavar="URL", help="Where to download the events from.")
    ] = DEFAULT_URL,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to save them.")
    ] = DEFAULT_OUTPUT,
    force: Force = False,
    retries: Retries = 2,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Download the raw event file, unless the local copy is already current.

    Example: xcc-sessions fetch -o data/events.json

    The download streams into a temporary file that replaces OUTPUT only when complete, so a
    failed or interrupted fetch never leaves a partial file behind. The server's ETag and
    Last-Modified are kept in OUTPUT.meta.json and sent with the next fetch of the same URL;
    when it answers 304 Not Modified the local copy stays as it is (--force downloads anyway).
    A gzip file (events.json.gz), or a body the server sent gzip-encoded, is decompressed
    unless OUTPUT ends in .gz, which gets a gzip file (plain text is compressed); a gzip stream
    cut short is an error. An OUTPUT that is a symlink is written through: the file it points to
    is replaced, the link stays, and that file's .meta.json goes beside it. An OUTPUT that is
    not a regular file (a device, a FIFO) is refused and left as it is. Prints OUTPUT's path on
    stdout. --verbose shows the conditional headers sent and the server's answer.
    """
    from xcc_sessions.fetch import fetch

    result = fetch(
        url,
        output,
        force=force,
        progress=wanted(quiet),
        retries=retries,
        on_retry=None if quiet else functools.partial(typer.echo, err=True),
    )
    if verbose:
        conditions = ", ".join(f"{name}: {value}" for name, value in result.conditions.items())
        typer.echo(
            f"GET {redact_url(url)} ({conditions or 'unconditional'}) answered {result.status}",
            err=True,
        )
    if not quiet:
        if result.downloaded:
            rate = result.bytes / result.seconds if result.seconds else 0
            summary = (
                f"Downloaded {human_bytes(result.bytes)} to {output} in {result.seconds:.1f} s "
                f"({human_bytes(round(rate))}/s)"
            )
        else:
            summary = f"{output} is up to date (the server answered 304 Not Modified)"
        typer.echo(summary, err=True)
    typer.echo(output)


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

    Example: xcc-sessions generate -n 1000000 -o data/synthetic-events.json --seed 1

    About 30% of the lines are logged in, customers come back in bursts hours apart, orders are
    a /checkout page_view plus a placed_order at the same instant, and lines are not in time
    order. About 300 bytes a line. An OUTPUT that is a symlink is written through (the file it
    points to is replaced, the link stays); one that is not a regular file (a device, a FIFO) is
    refused and left as it is. Prints the file's path on stdout.
    """
    from xcc_sessions.generate import generate_events

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


@command("sessionize")
def sessionize_command(
    events: Annotated[
        Path, typer.Argument(metavar="EVENTS", help="The NDJSON event file, one event a line.")
    ] = DEFAULT_OUTPUT,
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", metavar="DIR", help="Where the outputs go.")
    ] = Path("data"),
    gap: Gap = "30m",
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Exit 1 (after writing everything) if any line is rejected."),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON on stdout.")
    ] = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Group each logged-in customer's events into sessions, accounting for every line.

    Example: xcc-sessions sessionize data/events.json --gap 45m -o data

    Writes DIR/sessions.parquet, events.parquet, rejected.ndjson (line, reason, text) and
    summary.json (one run at a time per DIR: a second is refused), and prints the summary on
    stderr and DIR on stdout. Every line is blank, rejected, a duplicate (its id already on an
    earlier valid line), anonymous (no customer-id) or a sessionized event. A session ends when
    a customer is inactive for longer than GAP; a gap of exactly GAP stays in the session.
    Reasons: invalid_utf8, invalid_json, not_an_object, missing_id, invalid_id, missing_type,
    invalid_type, missing_event, invalid_event, invalid_customer_id, missing_timestamp,
    invalid_timestamp (xcc_sessions.lines.REASONS). EVENTS may be gzip- or zstd-compressed
    (bzip2, xz and zip are refused), and may start with a UTF-8 byte order mark; it must be a
    file, not a pipe.
    --verbose also shows the first rejected lines.
    """
    from xcc_sessions.digest import FileDigest

    # Hashing starts first, on the core that is idle while Polars is imported; not for a pipe,
    # whose lines it would take (sessionize refuses one).
    digest = FileDigest(events) if events.is_file() else None
    # Imported here so that other commands do not pay for polars at start-up.
    from xcc_sessions.sessionize import RejectedLinesError, parse_gap, sessionize

    inactivity = parse_gap(gap)
    try:
        summary = sessionize(events, output_dir, gap=inactivity, strict=strict, digest=digest)
    except RejectedLinesError as error:
        if not quiet:
            typer.echo(error.summary.to_table(), err=True)
        if verbose:
            _echo_first_rejected(output_dir / "rejected.ndjson")
        raise
    if not quiet:
        typer.echo(summary.to_table(), err=True)
    if verbose:
        _echo_first_rejected(output_dir / "rejected.ndjson")
    typer.echo(json.dumps(summary.to_json()) if as_json else output_dir)


def _echo_first_rejected(rejected: Path, shown: int = 5, width: int = 80) -> None:
    """The first rejected lines on stderr, one each: where, why, and how the line began."""
    with rejected.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if number == shown:
                typer.echo(f"  ... (all of them in {rejected})", err=True)
                break
            record = json.loads(line)
            text = record["text"]
            if len(text) > width:
                text = f"{text[:width]}..."
            typer.echo(f"  line {record['line']}: {record['reason']}: {text}", err=True)


DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database",
        "-d",
        metavar="URL",
        help=(
            "postgresql://user:password@host:port/name, or a DuckDB file: a path, "
            "duckdb:///relative/path or duckdb:////absolute/path [default: $DATABASE_URL, "
            "else data/xcc-sessions.duckdb]."
        ),
        show_default=False,
    ),
]
Host = Annotated[str, typer.Option("--host", metavar="HOST", help="Interface to listen on.")]
Port = Annotated[
    int, typer.Option("--port", "-p", metavar="PORT", min=1, max=65535, help="Port to listen on.")
]


def _serve(database_url: str | None, host: str, port: int, quiet: bool, verbose: bool) -> None:
    # Imported here so that other commands do not pay for starlette and uvicorn at start-up.
    from xcc_sessions.api import check_port_free, serve
    from xcc_sessions.database import resolve_database

    database = resolve_database(database_url)
    check_port_free(host, port)  # before saying that it serves, not after
    if not quiet:
        typer.echo(
            f"Serving the metrics API over {database.display} at http://{host}:{port} "
            f"(try /metrics/orders, /metrics/referrers, /health, /openapi.json; Ctrl+C stops)",
            err=True,
        )
    try:
        serve(
            database,
            host=host,
            port=port,
            log_level="warning" if quiet else "info",
            access_log=verbose,
        )
    except SystemExit as stopped:
        # uvicorn shuts down gracefully on SIGTERM, then passes it on (`main` makes it exit
        # 143): that is how a service manager stops a server, a success as Ctrl+C is (exit 0).
        if stopped.code != 128 + signal.SIGTERM:
            raise


@command("serve")
def serve_command(
    database: DatabaseUrl = None,
    host: Host = "127.0.0.1",
    port: Port = 8000,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Serve the metrics API over the loaded sessions.

    Example: xcc-sessions serve --database postgresql://xcc:xcc@localhost:5432/xcc

    GET /metrics/orders, /metrics/referrers?min_sessions=N, /health and /openapi.json, computed
    by SQL at request time and cached until the next load. Until a load has finished, or while
    the database is unreachable, the API answers 503 and recovers by itself. --verbose logs
    every request. Ctrl+C or SIGTERM shuts it down gracefully, with exit code 0.
    """
    _serve(database, host, port, quiet, verbose)


_NO_SERVE_ADVICE = "check --host, choose another --port, or load without serving (--no-serve)"


@command("run")
def run_command(
    source: Annotated[
        str,
        typer.Argument(metavar="SOURCE", help="An event file, or a URL to download it from."),
    ] = DEFAULT_URL,
    database: DatabaseUrl = None,
    gap: Gap = "30m",
    data_dir: Annotated[
        Path,
        typer.Option(
            "--data-dir", metavar="DIR", help="Where the download and sessionize output go."
        ),
    ] = Path("data"),
    host: Host = "127.0.0.1",
    port: Port = 8000,
    serve: Serve = True,
    force: Force = False,
    retries: Retries = 2,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """The main job: fetch, sessionize and load the events, then serve the metrics API.

    Example: xcc-sessions run --gap 45m

    SOURCE defaults to the webshop's event file, downloaded to DATA_DIR (again only when the
    server has a newer copy, or with --force). The sessions go into --database (default: the
    embedded DuckDB file data/xcc-sessions.duckdb); then the API listens on --host and --port
    until Ctrl+C. --no-serve stops after the load. --verbose also shows the first rejected
    lines, and logs every request once serving.
    """
    from xcc_sessions.digest import FileDigest
    from xcc_sessions.sources import is_url, local_path

    # Hashing a local file starts first, on the core that is idle while Polars is imported.
    local = None if is_url(source) else local_path(source)
    digest = FileDigest(local) if local is not None and local.is_file() else None
    # Imported here so that other commands do not pay for polars at start-up.
    from xcc_sessions.database import resolve_database
    from xcc_sessions.load import NoValidLineError
    from xcc_sessions.pipeline import prepare
    from xcc_sessions.sessionize import parse_gap

    inactivity = parse_gap(gap)
    if serve:
        from xcc_sessions.api import check_port_free  # starlette and uvicorn, only to serve

        check_port_free(host, port, advice=_NO_SERVE_ADVICE)  # before a long load, not after
    try:
        prepare(
            source,
            resolve_database(database),
            gap=inactivity,
            data_dir=data_dir,
            force=force,
            retries=retries,
            progress=wanted(quiet),
            report=None if quiet else functools.partial(typer.echo, err=True),
            digest=digest,
        )
    except NoValidLineError:
        if verbose:  # what the file held instead of events
            _echo_first_rejected(data_dir / "rejected.ndjson")
        raise
    if verbose:
        _echo_first_rejected(data_dir / "rejected.ndjson")
    if serve:
        _serve(database, host, port, quiet, verbose)


DEMO_DIR = Path("data/demo")


@command("demo")
def demo_command(
    lines: Annotated[
        int, typer.Option("--lines", "-n", min=1, help="How many synthetic lines to generate.")
    ] = 100_000,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            "-d",
            metavar="URL",
            help="postgresql://... or a DuckDB file [default: DATA_DIR/xcc-sessions.duckdb; "
            "$DATABASE_URL is not used].",
            show_default=False,
        ),
    ] = None,
    data_dir: Annotated[
        Path,
        typer.Option(
            "--data-dir", metavar="DIR", help="Where the synthetic events and the output go."
        ),
    ] = DEMO_DIR,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Random seed: the same seed, the same events.")
    ] = 0,
    host: Host = "127.0.0.1",
    port: Port = 8000,
    serve: Serve = True,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Run the main job on synthetic events: no internet needed.

    Example: xcc-sessions demo --lines 100000 --port 8000

    Writes LINES realistic synthetic events (as `generate` does) to DATA_DIR/events.json, then
    sessionizes, loads and serves them exactly as `run` does. The demo keeps to its own
    database, DATA_DIR/xcc-sessions.duckdb, unless --database names another: it never replaces
    the data of $DATABASE_URL by accident.
    """
    # Imported here so that other commands do not pay for polars at start-up.
    from xcc_sessions.database import resolve_database
    from xcc_sessions.generate import generate_events
    from xcc_sessions.pipeline import prepare
    from xcc_sessions.sessionize import claim_output_dir

    target = resolve_database(database or str(data_dir / "xcc-sessions.duckdb"))
    if serve:
        from xcc_sessions.api import check_port_free  # starlette and uvicorn, only to serve

        check_port_free(host, port, advice=_NO_SERVE_ADVICE)  # before the work, not after
    events = data_dir / "events.json"
    with claim_output_dir(data_dir) as claim:  # no other run writes there meanwhile
        with progress_bar("Generating", lines, unit="lines", enabled=wanted(quiet)) as update:
            generate_events(events, lines, seed=seed, on_progress=update)
        if not quiet:
            typer.echo(f"Generated {lines:,} synthetic events in {events}", err=True)
        prepare(
            str(events),
            target,
            data_dir=data_dir,
            report=None if quiet else functools.partial(typer.echo, err=True),
            claim=claim,
        )
    if serve:
        _serve(target.location, host, port, quiet, verbose)


@command("load")
def load_command(
    directory: Annotated[
        Path,
        typer.Argument(metavar="DIR", help="A sessionize output directory."),
    ] = Path("data"),
    database_url: DatabaseUrl = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print what was loaded as JSON on stdout.")
    ] = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Load sessionize's output into the database, replacing the previous load.

    Example: xcc-sessions load data -d postgresql://xcc:xcc@localhost:5432/xcc

    Reads DIR/sessions.parquet, events.parquet and summary.json, creates the tables where they
    are missing, and replaces all sessions and events in one transaction: queries running
    meanwhile see the previous load or this one, never a mix, and a load that fails part-way
    leaves the previous data as it was. Each load adds a row to load_runs. PostgreSQL is loaded
    with binary COPY, DuckDB straight from the Parquet files. --verbose times each step. The
    output of a file with no valid line (an error page, an empty download) is refused, as it
    would replace the data with nothing, and so is a DIR that a sessionize or run is writing.
    """

    from xcc_sessions.load import load

    def report_step(name: str, seconds: float) -> None:
        typer.echo(f"  {name}: {seconds:.2f} s", err=True)

    result = load(
        directory, resolve_database(database_url), on_step=report_step if verbose else None
    )
    if not quiet:
        typer.echo(
            f"Loaded run {result.run_id}: {result.sessions_loaded:,} sessions and "
            f"{result.events_loaded:,} events into {result.location} in {result.seconds:.1f} s",
            err=True,
        )
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(result)))


QueryFormat = Literal["table", "csv", "json"]


@command("query")
def query_command(
    sql: Annotated[
        str,
        typer.Argument(metavar="SQL", help="One SQL statement, or - to read it from stdin."),
    ],
    database_url: DatabaseUrl = None,
    output_format: Annotated[
        QueryFormat,
        typer.Option("--format", "-f", help="table for reading, csv or json for other tools."),
    ] = "table",
) -> None:
    """Run a read-only SQL query on the loaded tables and print its result.

    Example: xcc-sessions query "select * from load_runs" -f json

    For the DuckDB file no client needs installing; the same SQL runs on PostgreSQL. The tables
    and example queries are in the project's docs/schema.md. The connection is read-only: a
    query cannot change the loaded tables. Times are written in ISO 8601, intervals in
    seconds; csv writes NULL as an empty field; json writes an array of objects, one per row,
    numbers as doubles (NaN and numbers beyond a double as null). csv and json are written as
    the rows arrive, so a result larger than memory can be exported; a query that fails part-way
    leaves what was written so far, and exit code 1. SQL that starts with - (a -- comment) goes
    last, after a --: xcc-sessions query -f csv -- SQL.
    """
    from xcc_sessions.query import read_query, run_query, write_csv, write_json

    statement = sys.stdin.read() if sql == "-" else sql
    database = resolve_database(database_url)
    if output_format == "table":
        typer.echo(read_query(database, statement).as_table())
        return
    write = write_csv if output_format == "csv" else write_json
    try:
        # Written as fetched: an export larger than memory works.
        run_query(database, statement, lambda columns, rows: write(columns, rows, sys.stdout))
        if output_format == "json":
            sys.stdout.write("\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader has read enough (`| head`): no error, and nothing left to flush at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def main() -> None:
    terminated: list[int] = []

    def stop(signal_number: int, _frame: object) -> None:
        # Python's default for SIGTERM ends the process on the spot; as an exception, it runs
        # the clean-ups that Ctrl+C runs (a half-written file removed, a transaction rolled back).
        terminated.append(signal_number)
        raise SystemExit(128 + signal_number)

    signal.signal(signal.SIGTERM, stop)
    try:
        app(prog_name="xcc-sessions")
    except SystemExit as stopped:
        if terminated and stopped.code == 130:  # DuckDB reports any signal as an interrupt
            raise SystemExit(128 + terminated[0]) from None
        raise
