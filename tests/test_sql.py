"""The query loader, and the conventions every queries/*.sql file keeps."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xcc_sessions.sql import load_query, queries_dir

CHECKOUT_QUERIES = Path(__file__).resolve().parent.parent / "queries"
QUERY_FILES = sorted(CHECKOUT_QUERIES.glob("*.sql"))


def test_checkout_queries_are_read_from_the_repository_folder() -> None:
    assert Path(str(queries_dir())) == CHECKOUT_QUERIES


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda path: path.stem)
def test_load_query_returns_the_file_text(path: Path) -> None:
    assert load_query(path.stem) == path.read_text(encoding="utf-8")


def test_unknown_query_names_the_missing_file() -> None:
    with pytest.raises(LookupError, match="no_such_query"):
        load_query("no_such_query")


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda path: path.stem)
def test_header_names_the_query_its_parameters_and_result(path: Path) -> None:
    header = "\n".join(re.findall(r"^-- ?(.*)$", path.read_text(encoding="utf-8"), re.M))

    assert all(
        [header.startswith(f"{path.stem}:"), "\nparameters:" in header, "\nresult" in header]
    )


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda path: path.stem)
def test_each_file_holds_one_statement(path: Path) -> None:
    code = re.sub(r"--.*$", "", path.read_text(encoding="utf-8"), flags=re.M)

    assert ";" not in code.strip().removesuffix(";")
