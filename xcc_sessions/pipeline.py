"""The main job in one call: fetch (when the source is a URL), sessionize, load.

`xcc-sessions run` calls this and then serves the API; `xcc-sessions demo` calls it on a
generated file. Each step is the library function its own command uses, so the one-command
path and the step-by-step path cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from xcc_sessions.connections import connect_postgres
from xcc_sessions.database import Database, redact_url
from xcc_sessions.digest import FileDigest
from xcc_sessions.errors import XccError
from xcc_sessions.load import LoadResult, load_sessionized
from xcc_sessions.outputs import DirectoryClaim
from xcc_sessions.sessionize import claim_output_dir, sessionize_in_memory
from xcc_sessions.sources import is_url, local_path

Report = Callable[[str], None]


def prepare(
    source: str,
    database: Database,
    *,
    gap: timedelta = timedelta(minutes=30),
    data_dir: Path = Path("data"),
    force: bool = False,
    retries: int = 0,
    progress: bool = False,
    report: Report | None = None,
    digest: FileDigest | None = None,
    claim: DirectoryClaim | None = None,
) -> LoadResult:
    """Bring `source` (a URL or a local event file) into `database` as sessions.

    A URL is downloaded to DATA_DIR/<its file name> (again only when the server has a newer
    copy, or `force`; a failure that may pass is tried again `retries` times); the sessionize
    output is written to `data_dir` while it is loaded (`load_sessionized`). `data_dir` is held
    for this run from before the download to the end of the load (`claim_output_dir`; `claim`,
    if the caller took it already, is handed over and released at the end). `report` receives
    one line per finished step. `digest` is a local file's hash if the caller started it already
    (the CLI does, before it imports Polars).
    """
    say = report or _silent
    if database.engine == "postgresql":
        # A wrong host, port or password fails now, not after the download and sessionize.
        connect_postgres(database).close()
    with claim or claim_output_dir(data_dir) as held:
        events = _event_file(
            source, data_dir, force=force, retries=retries, progress=progress, say=say
        )
        started_digest = digest if digest is not None and digest.path == events else None
        with sessionize_in_memory(
            events, data_dir, gap=gap, digest=started_digest, claim=held
        ) as sessionized:
            customers = sessionized.sessions.get_column("customer_id").n_unique()
            say(
                f"Sessionized {sessionized.lines:,} lines into {sessionized.sessions.height:,} "
                f"sessions of {customers:,} customers ({sessionized.rejected:,} rejected, see "
                f"{data_dir / 'rejected.ndjson'})"
            )
            _, result = load_sessionized(sessionized, database)
    say(
        f"Loaded run {result.run_id}: {result.sessions_loaded:,} sessions and "
        f"{result.events_loaded:,} events into {database.display}"
    )
    return result


def _event_file(
    source: str, data_dir: Path, *, force: bool, retries: int, progress: bool, say: Report
) -> Path:
    """The local event file of `source`: downloaded into `data_dir` if it is a URL."""
    if not is_url(source):
        events = local_path(source)
        if not events.is_file():
            raise XccError(
                f"no event file at {events}: give an event file, or a URL to download it from"
            )
        return events
    from xcc_sessions.fetch import fetch  # httpx, only for a download

    name = PurePosixPath(urlsplit(source).path).name or "events.json"
    if not progress:  # no bar to show that a long download has begun (a log, say)
        say(f"Fetching {redact_url(source)} into {data_dir / name}")
    fetched = fetch(
        source, data_dir / name, force=force, progress=progress, retries=retries, on_retry=say
    )
    say(f"{'Downloaded' if fetched.downloaded else 'Up to date:'} {fetched.path}")
    return fetched.path


def _silent(line: str) -> None:
    """Report nothing."""
