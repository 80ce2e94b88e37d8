"""The SQL statements in queries/, one per file, read by name.

From a checkout the files are read from the repository's queries/ folder; from an installed
wheel, from the copy packed inside the package (see pyproject.toml). Either way `load_query`
returns the same text.
"""

from __future__ import annotations

import functools
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path


def queries_dir() -> Traversable:
    """Where the .sql files are: inside the installed package, else the checkout's queries/."""
    packaged = files("xcc_sessions") / "queries"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "queries"


@functools.cache
def load_query(name: str) -> str:
    """The statement in queries/NAME.sql, e.g. load_query("create_sessions")."""
    source = queries_dir() / f"{name}.sql"
    if not source.is_file():
        raise LookupError(f"no query named {name!r} in {queries_dir()}")
    return source.read_text(encoding="utf-8")
