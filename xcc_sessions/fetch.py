"""Download the event file safely: all of it under the final name, or nothing.

The body streams into a temporary file beside the target, which is flushed to disk and renamed
into place only when complete, so an interrupted or failed download never leaves a partial file
under the final name (nor a stray temporary file). Redirects are followed. A gzip
Content-Encoding is decoded, and a gzip *file* (say events.json.gz) is decompressed too, unless
the output's name ends in .gz: then a gzip file is saved as it came (an encoding of plain text
is one), and plain text is compressed. So the output is always what its name says. Every gzip
stream must end as gzip ends, or the download is an error: a truncated one is never saved.

An output that is a symlink is written through: the download replaces the file it points to
(the temporary file and the sidecar below go beside that file, named after it) and the link
stays. Anything else that is not a regular file (a directory, a device, a FIFO, a socket) is
refused before anything is downloaded, and left as it is: renaming a file over it would destroy
it, /dev/null included.

The server's validators (ETag, Last-Modified) are kept in a sidecar `<output>.meta.json`, with
the URL (any password in it masked as ***); the next fetch of the same URL sends them as
If-None-Match / If-Modified-Since, and a 304 answer leaves the local copy as it is. `force`
downloads regardless.

A failure that may pass (no connection, a timeout, a dropped connection, a 429 or 5xx answer)
can be tried again, from the start, after a growing wait (`retries`; the command line tries
twice more by default). Other failures (a 404, a corrupt gzip file) are final at once.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import os
import re
import shlex
import socket
import ssl
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from xcc_sessions import __version__
from xcc_sessions.errors import UsageError, XccError
from xcc_sessions.outputs import replaceable_file
from xcc_sessions.progress import human_bytes, progress_bar

TIMEOUT = httpx.Timeout(60.0, connect=10.0)

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class FetchResult:
    """What a fetch did: `downloaded` is False when the server said the local copy is current."""

    url: str
    path: Path
    bytes: int
    downloaded: bool
    seconds: float
    status: int = 200
    conditions: Mapping[str, str] = field(default_factory=dict)
    """The conditional-request headers sent (If-None-Match, If-Modified-Since), if any."""


#: Statuses of a server that is busy or briefly broken: worth another try.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: The longest wait a server's Retry-After gets.
MAX_RETRY_WAIT = 60.0

Report = Callable[[str], None]


class TransientFetchError(XccError):
    """A download that failed for a reason that may pass: no connection, a timeout, a dropped
    connection, a busy or briefly broken server (`RETRY_STATUSES`). `retry_after` is the wait
    in seconds the server asked for, if it did."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def fetch(
    url: str,
    output: Path,
    *,
    force: bool = False,
    progress: bool = False,
    timeout: httpx.Timeout = TIMEOUT,
    retries: int = 0,
    retry_delay: float = 1.0,
    on_retry: Report | None = None,
) -> FetchResult:
    """Download `url` to `output` unless the local copy is current (or `force`).

    Raises UsageError for a URL that is not http(s), and XccError, with the URL and the cause in
    one line, for everything that can go wrong on the way: an HTTP error status, no connection,
    a timeout, a dropped connection, an unwritable output, an output that is not a regular file.
    A failure that may pass (`TransientFetchError`) is tried again up to `retries` times, from
    the start (each try with the whole `timeout`), after `retry_delay` seconds doubled at each
    try, or the server's Retry-After, and at most `MAX_RETRY_WAIT`; `on_retry` hears of each in
    one line.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            return _fetch_once(url, output, force=force, progress=progress, timeout=timeout)
        except TransientFetchError as failure:
            if attempt > retries:
                raise
            wait = failure.retry_after
            if wait is None:
                wait = retry_delay * 2 ** (attempt - 1)
            wait = min(wait, MAX_RETRY_WAIT)
            if on_retry is not None:
                on_retry(f"{failure}; trying again in {wait:g} s ({attempt} of {retries})")
            time.sleep(wait)


def _fetch_once(
    url: str, output: Path, *, force: bool, progress: bool, timeout: httpx.Timeout
) -> FetchResult:
    """One try of `fetch`."""
    started = time.perf_counter()
    shown = _display(_checked(url))
    target = replaceable_file(output)
    sidecar = _sidecar(target)
    validators = {} if force else _validators(shown, target, sidecar)
    partial = _create_partial(target, output)
    try:
        with (
            httpx.Client(
                follow_redirects=True,
                timeout=timeout,
                # gzip only: its decoding is checked here (see _content); a server that sends
                # another encoding anyway is still decoded, by httpx.
                headers={"User-Agent": f"xcc-sessions/{__version__}", "Accept-Encoding": "gzip"},
            ) as client,
            client.stream("GET", url, headers=validators) as response,
        ):
            if response.status_code == httpx.codes.NOT_MODIFIED and validators:
                return FetchResult(
                    url,
                    output,
                    output.stat().st_size,
                    False,
                    time.perf_counter() - started,
                    response.status_code,
                    validators,
                )
            if response.status_code != httpx.codes.OK:
                answer = (
                    f"cannot fetch {shown}: the server answered "
                    f"{response.status_code} {response.reason_phrase}".rstrip()
                )
                if response.status_code in RETRY_STATUSES:
                    raise TransientFetchError(answer, _retry_after(response))
                raise XccError(answer)
            received = _receive(response, partial, output, progress)
        _install(partial, target, sidecar)
        _save_validators(sidecar, shown, response, received)
    except httpx.HTTPError as error:
        message = f"cannot fetch {shown}: {_describe(error, partial)}"
        if _may_pass(error):
            raise TransientFetchError(message) from None
        raise XccError(message) from None
    except OSError as error:
        raise XccError(f"cannot write {output}: {error.strerror or error}") from None
    finally:
        partial.unlink(missing_ok=True)
    return FetchResult(
        url, output, received, True, time.perf_counter() - started, response.status_code, validators
    )


def _may_pass(error: httpx.HTTPError) -> bool:
    """Whether another try might succeed: a timeout, a dropped or refused connection, a body cut
    short; not a host that does not exist or a certificate that does not verify."""
    if isinstance(error, _Truncated | httpx.TimeoutException | httpx.RemoteProtocolError):
        return True
    if not isinstance(error, httpx.NetworkError):
        return False
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, socket.gaierror | ssl.SSLCertVerificationError):
            return False
        cause = cause.__cause__ or cause.__context__
    return True


def _retry_after(response: httpx.Response) -> float | None:
    """The wait in seconds that the server's Retry-After asks for: a number of them, or a date."""
    value = response.headers.get("retry-after", "").strip()
    if re.fullmatch(r"[0-9]{1,9}", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, (when - datetime.datetime.now(datetime.UTC)).total_seconds())


class _Truncated(httpx.DecodingError):
    """A gzip stream cut short: a body whose connection dropped without saying so, most often."""


def _receive(response: httpx.Response, partial: Path, output: Path, progress: bool) -> int:
    """Stream the body into `partial` and flush it to disk; return the bytes written."""
    total = (
        int(response.headers["content-length"]) if "content-length" in response.headers else None
    )
    written = 0
    with (
        progress_bar(output.name, total, unit="bytes", enabled=progress) as update,
        partial.open("wb") as file,
    ):
        for chunk in _content(response, gzipped=output.suffix == ".gz"):
            file.write(chunk)
            written += len(chunk)
            # Count what came over the wire, which is what Content-Length measures.
            update(response.num_bytes_downloaded)
        file.flush()
        os.fsync(file.fileno())
    return written


def _content(response: httpx.Response, gzipped: bool) -> Iterator[bytes]:
    """What to write: the file the server has, gzip-compressed if `gzipped` (the output's name
    ends in .gz), plain otherwise.

    gzip, the encoding asked for, is read as it came and checked by the same decoder as a gzip
    file: httpx's own decoder never notices a gzip stream that stops short, so a truncated body
    with a correct Content-Length would pass for a shorter file.
    """
    if not _gzip_encoded(response):
        body = response.iter_bytes(_CHUNK_BYTES)
        return _as_gzip_file(body) if gzipped else _gunzip_files(body)
    raw = response.iter_raw(_CHUNK_BYTES)
    if not gzipped:
        return _gunzip_files(_gunzip(raw, "the gzip-encoded body"))
    first = next(raw, b"")
    raw = _prepend(first, raw)
    if not first or _decodes_to_gzip(first):  # gzip-encoded again, or nothing: as decoded
        return _as_gzip_file(_gunzip(raw, "the gzip-encoded body"))
    return _gunzip(raw, "the gzip-encoded body", keep_compressed=True)  # the encoding is one


def _as_gzip_file(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """A body for a .gz name: a gzip file as it came (checked to end), plain text compressed."""
    first = next(chunks, b"")
    rest = _prepend(first, chunks)
    if first.startswith(_GZIP_MAGIC):
        yield from _gunzip(rest, "the gzip file", keep_compressed=True)
        return
    compressor = zlib.compressobj(1, wbits=31)  # the fastest level: it is for the name's sake
    for chunk in rest:
        yield compressor.compress(chunk)
    yield compressor.flush()


def _decodes_to_gzip(encoded: bytes) -> bool:
    """Whether the first bytes of a gzip-encoded body decode to the start of a gzip file."""
    try:
        decoded = zlib.decompressobj(wbits=31).decompress(encoded, len(_GZIP_MAGIC))
    except zlib.error:
        return False  # the checked decoder reports it
    return decoded.startswith(_GZIP_MAGIC)


def _gzip_encoded(response: httpx.Response) -> bool:
    return response.headers.get("content-encoding", "").strip().lower() in ("gzip", "x-gzip")


def _gunzip_files(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Pass the body through, decompressing it when it is a gzip file (one or more members)."""
    first = next(chunks, b"")
    if not first.startswith(_GZIP_MAGIC):
        yield first
        yield from chunks
        return
    yield from _gunzip(_prepend(first, chunks), "the gzip file")


def _gunzip(
    chunks: Iterator[bytes], what: str, *, keep_compressed: bool = False
) -> Iterator[bytes]:
    """Decompress a gzip stream of one or more members, and check that the last one ends.

    zlib hands out what it has decoded so far and never complains that a member stops short of
    its end, so without the check a truncated download would pass for a shorter file. With
    `keep_compressed` the gzip bytes themselves are passed on, decoded only to be checked.
    """
    decompressor = zlib.decompressobj(wbits=31)
    unfinished = False  # a member has begun and not yet ended
    try:
        for chunk in chunks:
            if keep_compressed:
                yield chunk
            while chunk:
                unfinished = True
                decoded = decompressor.decompress(chunk)
                if decoded and not keep_compressed:
                    yield decoded
                if not decompressor.eof:
                    break
                chunk = decompressor.unused_data
                decompressor = zlib.decompressobj(wbits=31)
                unfinished = False
    except zlib.error as error:
        raise httpx.DecodingError(f"{what} is corrupt ({error})") from None
    if unfinished:
        raise _Truncated(f"{what} ends early: the download is truncated")


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _install(partial: Path, output: Path, sidecar: Path) -> None:
    """Rename the complete download into place, dropping the old validators first.

    Without validators the next fetch downloads unconditionally, so a crash between the two
    steps can cost a download but can never pair new validators with an old file.
    """
    sidecar.unlink(missing_ok=True)
    partial.replace(output)
    directory = os.open(output.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _create_partial(target: Path, output: Path) -> Path:
    """Create the temporary file beside `target` now, so an unwritable place fails early."""
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.touch()
    except OSError as error:
        raise XccError(f"cannot write {output}: {error.strerror or error}") from None
    return partial


def _sidecar(output: Path) -> Path:
    return output.with_name(f"{output.name}.meta.json")


def _validators(shown: str, output: Path, sidecar: Path) -> dict[str, str]:
    """Conditional-request headers for the local copy, if it is the one the sidecar describes.

    `shown` is the URL as `_display` writes it, the form the sidecar keeps.
    """
    try:
        meta = json.loads(sidecar.read_text())
        intact = meta["url"] == shown and output.stat().st_size == meta["bytes"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    if not intact:
        return {}
    headers = {}
    if isinstance(meta.get("etag"), str):
        headers["If-None-Match"] = meta["etag"]
    if isinstance(meta.get("last_modified"), str):
        headers["If-Modified-Since"] = meta["last_modified"]
    return headers


def _save_validators(sidecar: Path, shown: str, response: httpx.Response, size: int) -> None:
    """Keep the validators with the URL as `_display` writes it: the sidecar is as readable as
    the download beside it, so it must never hold a password."""
    meta = {
        "url": shown,
        "etag": response.headers.get("etag"),
        "last_modified": response.headers.get("last-modified"),
        "bytes": size,
    }
    sidecar.write_text(json.dumps(meta, indent=2) + "\n")


def _describe(error: httpx.HTTPError, partial: Path) -> str:
    """The cause in words a user can act on, with how far the download got."""
    so_far = partial.stat().st_size if partial.exists() else 0
    after = f" after {human_bytes(so_far)}" if so_far else ""
    detail = str(error) or type(error).__name__
    if isinstance(error, httpx.ConnectTimeout):
        return "no connection within the connect timeout"
    if isinstance(error, httpx.ReadTimeout):
        return f"the server stopped sending{after} (read timeout)"
    if isinstance(error, httpx.TimeoutException):
        return f"timed out{after}"
    if isinstance(error, httpx.ConnectError):
        return f"cannot connect ({detail})"
    if isinstance(error, httpx.RemoteProtocolError | httpx.ReadError):
        return f"the connection dropped{after} ({detail})"
    if isinstance(error, httpx.DecodingError):
        return f"the response could not be decoded{after} ({detail})"
    if isinstance(error, httpx.TooManyRedirects):
        return "too many redirects"
    return detail


def _checked(url: str) -> httpx.URL:
    """The parsed URL, if it is an absolute http(s) one: anything else is a usage error."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise UsageError(f"not a valid URL: {url!r} ({error})") from None
    if parsed.scheme == "file":
        raise UsageError(_local_file_message(parsed.path))
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UsageError(f"not an http:// or https:// URL: {_display(parsed)}")
    return parsed


def _local_file_message(path: str) -> str:
    """Why a file:// URL is refused, and what to do instead: the other commands read the file
    where it is, so copying it first would only cost time and disk."""
    return (
        f"fetch downloads only http:// and https:// URLs, and {path} is a local file: "
        f"sessionize and run take its path as it is (xcc-sessions run {shlex.quote(path)})"
    )


def _display(url: httpx.URL) -> str:
    """The URL with any password replaced by ***, for messages and the sidecar.

    The user name stays, so the user can tell which account was used (httpx's `copy_with`
    drops it when given only the password).
    """
    if not url.password:
        return str(url)
    return str(url.copy_with(username=url.username, password="***"))
