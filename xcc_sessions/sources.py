"""What a `run` SOURCE names: a URL to download, or a local file (a path or a file:// URL).

No Polars here: the CLI reads the source before it imports Polars, to start hashing the file.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

__all__ = ["is_url", "local_path"]


def is_url(source: str) -> bool:
    """Whether `source` names something to download rather than a local file."""
    return urlsplit(source).scheme.lower() in ("http", "https")


def local_path(source: str) -> Path:
    """The file that `source`, not a URL to download, names: a path, or a file:// URL."""
    parts = urlsplit(source)
    if parts.scheme.lower() == "file" and parts.netloc in ("", "localhost"):
        return Path(url2pathname(parts.path))
    return Path(source)
