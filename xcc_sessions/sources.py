"""What a `run` SOURCE names: a URL to download, or a local file (a path or a file:// URL).

No Polars here: the CLI reads the source before it imports Polars, to start hashing the file.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from xcc_sessions.errors import UsageError

__all__ = ["is_url", "local_path"]


def is_url(source: str) -> bool:
    """Whether `source` names something to download rather than a local file."""
    return urlsplit(source).scheme.lower() in ("http", "https")


def local_path(source: str) -> Path:
    """The file that `source`, not a URL to download, names: a path, or a file:// URL of this
    host. `UsageError` for a file:// URL of another host, or a URL of another scheme."""
    parts = urlsplit(source)
    if parts.scheme.lower() == "file":  # file:///path, or file:/path (RFC 8089)
        if parts.netloc not in ("", "localhost"):
            raise UsageError(f"{source} is a file on another host: give a file on this one")
        return Path(url2pathname(parts.path))
    if "://" in source:  # not in a path, even one like C:\events.json
        raise UsageError(
            f"cannot read {parts.scheme}:// URLs: give a file, or an http:// or https:// URL"
        )
    return Path(source)
