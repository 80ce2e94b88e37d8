"""The docs cannot drift from the code: every documented column, query, command and number is
checked against what the product does."""

from __future__ import annotations

import inspect
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import psycopg
import pytest
from cli_lines import command_line_problems, command_options
from sessions_data import worked_example, write_sessions
from starlette.testclient import TestClient
from typer.testing import CliRunner

from xcc_sessions.api import create_app
from xcc_sessions.cli import app, demo_command
from xcc_sessions.database import Database
from xcc_sessions.docs import cli_reference, help_texts
from xcc_sessions.generate import generate_events
from xcc_sessions.load import load
from xcc_sessions.pipeline import prepare
from xcc_sessions.schema import EVENTS, SESSIONS
from xcc_sessions.sessionize import sessionize
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


def test_cli_reference_is_up_to_date() -> None:
    written = (DOCS / "cli.md").read_text(encoding="utf-8")

    assert written == cli_reference(), "run `uv run python -m xcc_sessions.docs` to regenerate"


@pytest.mark.parametrize("name", list(help_texts()))
def test_every_command_help_shows_an_example_the_cli_accepts(name: str) -> None:
    examples = re.findall(r"^\s*Example: (.+)$", help_texts()[name], re.MULTILINE)

    problems = [] if examples else ["no example"]
    problems += [
        f"{example}: {problem}"
        for example in examples
        for problem in (
            command_line_problems(example)
            if example.startswith(name)
            else [f"not an example of {name}"]
        )
    ]

    assert problems == []


EXAMPLE_EVENTS = DOCS / "examples" / "events.ndjson"


@pytest.fixture
def example_database(database: Database, tmp_path: Path) -> Database:
    """`database` loaded with the sessions of docs/examples/events.ndjson."""
    sessionize(EXAMPLE_EVENTS, tmp_path / "example")
    load(tmp_path / "example", database)
    return database


def run_sql(database: Database, statement: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The column names and rows `statement` returns."""
    if database.engine == "duckdb":
        with duckdb.connect(database.location, read_only=True) as connection:
            cursor = connection.execute(statement)
            return [column[0] for column in cursor.description], cursor.fetchall()
    with psycopg.connect(database.location) as connection:
        result = connection.execute(statement)
        assert result.description is not None
        return [column.name for column in result.description], result.fetchall()


def markdown_table(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    """Rows as the docs show them: a Markdown table, numbers rounded to two decimals."""

    def cell(value: Any) -> str:
        if value is None:
            return "null"
        if isinstance(value, float | Decimal):
            return f"{float(value):.2f}".rstrip("0").rstrip(".")
        return str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def documented_queries() -> dict[str, tuple[str, str]]:
    """Each example query in schema.md by its heading: (the SQL, the result table below it)."""
    section = markdown_sections((DOCS / "schema.md").read_text(encoding="utf-8"))["Example queries"]
    found = re.findall(
        r"^### (.+?)$.*?^```sql\n(.+?)^```\n\n((?:^\|[^\n]*\n?)+)",
        section,
        re.MULTILINE | re.DOTALL,
    )
    return {title: (statement, table.strip()) for title, statement, table in found}


def test_schema_doc_has_five_example_queries() -> None:
    assert len(documented_queries()) == 5


@pytest.mark.parametrize("title", list(documented_queries()))
def test_example_query_gives_the_documented_result(example_database: Database, title: str) -> None:
    statement, documented = documented_queries()[title]

    assert markdown_table(*run_sql(example_database, statement)) == documented


def metrics_doc_answers() -> list[Any]:
    """The JSON answers metrics.md shows, in order: the brief's example, then the example
    file's /metrics/orders and /metrics/referrers."""
    text = (DOCS / "metrics.md").read_text(encoding="utf-8")
    return [rounded_json(block) for block in re.findall(r"```json\n(.+?)\n```", text, re.DOTALL)]


def test_metrics_doc_brief_example_is_what_the_api_answers(database: Database) -> None:
    write_sessions(database, worked_example())

    with TestClient(create_app(database)) as client:
        answer = rounded_json(client.get("/metrics/orders").text)

    assert answer == metrics_doc_answers()[0]


def test_metrics_doc_file_example_is_what_the_api_answers(example_database: Database) -> None:
    with TestClient(create_app(example_database)) as client:
        answer = rounded_json(client.get("/metrics/orders").text)

    assert answer == metrics_doc_answers()[1]


def test_metrics_doc_referrers_example_is_what_the_api_answers(
    example_database: Database,
) -> None:
    with TestClient(create_app(example_database)) as client:
        answer = rounded_json(client.get("/metrics/referrers").text)

    assert answer == metrics_doc_answers()[2]


README = (REPO / "README.md").read_text(encoding="utf-8")


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def commands_in(block: str) -> list[str]:
    """The commands of a shell block, without comments or a `$ ` prompt."""
    lines = (line.removeprefix("$ ").split("#", 1)[0].strip() for line in block.splitlines())
    return [line for line in lines if line]


def test_readme_quick_start_is_the_main_job_then_the_tests() -> None:
    quick_start = markdown_sections(README)["Quick start"]

    assert commands_in(code_blocks(quick_start, "sh")[0]) == [
        "uv run xcc-sessions run",
        "uv run pytest",
    ]


def test_ci_runs_exactly_the_readmes_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    test_command = commands_in(code_blocks(README, "sh")[0])[1]

    assert commands_in(ci)[-1] == test_command


def test_readme_command_table_lists_every_command_once() -> None:
    table = table_first_column(markdown_sections(README)["Commands"])

    documented = sorted(cell.strip("`").split()[1] for cell in table)
    assert documented == sorted(set(command_options()) - {""})


def documented_command_lines() -> list[str]:
    """Every `xcc-sessions` command line in the README and docs/ (the generated cli.md aside):
    in shell blocks, in inline code, and in the README's command table without its usage
    brackets."""
    lines = []
    for document in [REPO / "README.md", *sorted(DOCS.glob("*.md"))]:
        if document.name == "cli.md":
            continue
        text = document.read_text(encoding="utf-8")
        lines += [
            command
            for language in ("sh", "console")
            for block in code_blocks(text, language)
            for command in commands_in(block)
            if "xcc-sessions" in command.split()
        ]
        lines += re.findall(r"`((?:uv run )?xcc-sessions [^`\[]*)`", text)
    table = table_first_column(markdown_sections(README)["Commands"])
    lines += [re.sub(r"[\[\]`]", "", cell) for cell in table]
    return lines


@pytest.mark.parametrize("line", documented_command_lines())
def test_documented_command_line_is_accepted_by_the_cli(line: str) -> None:
    assert command_line_problems(line) == []


def test_readme_api_example_is_what_the_demo_answers(tmp_path: Path) -> None:
    (block,) = code_blocks(markdown_sections(README)["The API"], "console")
    lines = block.splitlines()
    documented = {
        command.split("localhost:8000", 1)[1].strip("'"): answer
        for command, answer in zip(lines[::2], lines[1::2], strict=True)
    }
    demo = inspect.signature(demo_command).parameters
    events = tmp_path / "events.json"
    generate_events(events, demo["lines"].default, seed=demo["seed"].default)
    database = Database("duckdb", str(tmp_path / "demo.duckdb"))
    prepare(str(events), database, data_dir=tmp_path)

    with TestClient(create_app(database)) as client:
        answers = {path: client.get(path).text for path in documented}

    assert {path: rounded_json(text) for path, text in answers.items()} == {
        path: rounded_json(text) for path, text in documented.items()
    }, "run `xcc-sessions demo` and paste its answers into the README"


def rounded_json(text: str) -> Any:
    """Parsed JSON with floats rounded: engines may differ in a sum's last bits."""
    return json.loads(text, parse_float=lambda number: round(float(number), 9))


@pytest.mark.parametrize("name", sorted(set(command_options()) - {""}))
def test_every_command_answers_short_help_with_exit_code_0(name: str) -> None:
    result = CliRunner().invoke(app, [name, "-h"])

    assert (result.exit_code, result.stdout.startswith(f"Usage: xcc-sessions {name}")) == (0, True)


@pytest.mark.parametrize("name", sorted(set(command_options()) - {""}))
def test_every_command_refuses_an_unknown_option_with_exit_code_2(name: str) -> None:
    result = CliRunner().invoke(app, [name, "--no-such-option"])

    assert result.exit_code == 2
