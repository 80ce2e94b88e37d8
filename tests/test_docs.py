"""The docs cannot drift from the code: every documented column, query, command and number is
checked against what the product does."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from xcc_sessions.schema import EVENTS, SESSIONS
from xcc_sessions.sql import load_query

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"


def markdown_sections(text: str) -> dict[str, str]:
    """The text under each `## heading`, by heading."""
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return {heading.strip(): body for heading, body in zip(parts[1::2], parts[2::2], strict=True)}


def table_first_column(section: str) -> list[str]:
    """The first cell of each body row of the first Markdown table in `section`."""
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [row.split("|")[1].strip() for row in rows[2:]]


def ddl_columns(table: str) -> list[str]:
    """The column names in queries/create_TABLE.sql, in order."""
    statement = re.sub(r"--.*", "", load_query(f"create_{table}"))
    body = statement[statement.index("(") + 1 : statement.rindex(")")]
    names = [line.split()[0] for line in body.splitlines() if line.strip()]
    return [name for name in names if name not in ("unique", "primary", "foreign", "constraint")]


@pytest.mark.parametrize("table", ["sessions", "events", "load_runs"])
def test_schema_doc_lists_every_column_of_each_table_in_order(table: str) -> None:
    sections = markdown_sections((DOCS / "schema.md").read_text(encoding="utf-8"))

    assert table_first_column(sections[table]) == ddl_columns(table)


@pytest.mark.parametrize(("table", "schema"), [("sessions", SESSIONS), ("events", EVENTS)])
def test_table_columns_are_the_parquet_column_contract(table: str, schema: pl.Schema) -> None:
    assert ddl_columns(table) == schema.names()
