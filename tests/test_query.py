"""query: an analyst's read-only SQL on the loaded tables, the same on DuckDB and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from sessions_data import START, customer, session, worked_example, write_sessions
from typer.testing import CliRunner

from xcc_sessions.cli import app
from xcc_sessions.database import Database
from xcc_sessions.errors import XccError
from xcc_sessions.query import read_query

SESSIONS_PER_REFERRER = """
    select referrer, count(*) as sessions, sum(order_count) as orders
    from sessions
    group by referrer
    order by sessions desc, referrer
"""


def referrer_sessions() -> list[dict[str, object]]:
    return [
        session(1, 1, 10, referrer="https://duckduckgo.com"),
        session(1, 2, 20, referrer="https://duckduckgo.com", order_after=5),
        session(2, 1, 30, referrer="https://gonzalez.com"),
        session(3, 1, 40),
    ]


def invoke(database: Database, *args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(app, ["query", *args, "-d", database.location], input=stdin)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_both_engines_answer_a_query_alike(tmp_path: Path, postgres_url: str) -> None:
    engines = [Database("duckdb", str(tmp_path / "x.duckdb")), Database("postgresql", postgres_url)]
    for database in engines:
        write_sessions(database, referrer_sessions())

    duckdb_rows, postgres_rows = (read_query(db, SESSIONS_PER_REFERRER).rows for db in engines)

    assert (
        duckdb_rows
        == postgres_rows
        == [
            ("https://duckduckgo.com", 2, 1),
            ("https://gonzalez.com", 1, 0),
            (None, 1, 0),
        ]
    )


def test_a_query_cannot_change_the_data(database: Database) -> None:
    sessions = worked_example()
    write_sessions(database, sessions)

    with pytest.raises(XccError, match="read-only"):
        read_query(database, "delete from sessions")

    assert read_query(database, "select count(*) from sessions").rows == [(len(sessions),)]


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("select\nsession_idd\nfrom sessions", "session_idd"),
        ("select\nsession_id from\nsessions where", "syntax error"),
    ],
)
def test_a_failing_statement_is_one_line_naming_the_engines_reason(
    database: Database, sql: str, reason: str
) -> None:
    write_sessions(database, worked_example())

    with pytest.raises(XccError) as raised:
        read_query(database, sql)

    # One line, without the excerpt of the query that points a caret at a column.
    assert re.fullmatch(f"the query failed: (?!.*LINE)[^\n]*{reason}[^\n]*", str(raised.value))


def test_columns_that_share_a_name_are_numbered(database: Database) -> None:
    write_sessions(database, worked_example())

    result = read_query(database, "select 1 as n, 2 as n, 3 as n from sessions limit 1")

    assert result.columns == ["n", "n_2", "n_3"]


def test_a_number_never_gives_a_column_a_name_already_taken(database: Database) -> None:
    write_sessions(database, worked_example())

    result = read_query(database, "select 1 as n_2, 2 as n, 3 as n from sessions limit 1")

    assert result.columns == ["n_2", "n", "n_3"]


@pytest.mark.parametrize("sql", [" \n ", "/* nothing */", "-- nothing\n"])
def test_text_without_a_statement_is_refused(database: Database, sql: str) -> None:
    write_sessions(database, worked_example())

    with pytest.raises(XccError, match=r"give one SQL statement \(found none\)"):
        read_query(database, sql)


def test_text_of_several_statements_is_refused_before_any_runs(database: Database) -> None:
    sessions = worked_example()
    write_sessions(database, sessions)

    with pytest.raises(XccError, match=r"give one SQL statement \(found several\)"):
        read_query(database, "commit; delete from sessions")

    assert read_query(database, "select count(*) from sessions").rows == [(len(sessions),)]


def test_csv_writes_intervals_in_seconds_and_decimals_without_exponents(
    database: Database,
) -> None:
    write_sessions(database, customer(7, [10]))
    sql = (
        "select ended_at - started_at as took, cast(0.0000001 as decimal(18, 9)) as small"
        " from sessions"
    )

    output = invoke(database, sql, "-f", "csv")

    assert output == "took,small\n600.0,0.000000100\n"


def test_the_table_keeps_a_row_on_one_line_aligned_for_wide_characters(
    database: Database,
) -> None:
    write_sessions(database, customer(7, [10]))
    sql = "select 'x' || chr(10) || 'y' as note, '東京' as city, 1 as n from sessions"

    output = invoke(database, sql)

    assert output.splitlines() == [
        "note | city | n",
        "-----+------+--",
        "x\\ny | 東京 | 1",
        "(1 row)",
    ]


def test_a_missing_duckdb_file_is_named_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "none" / "x.duckdb"

    with pytest.raises(XccError, match=f"no DuckDB database at {missing}"):
        read_query(Database("duckdb", str(missing)), "select 1")

    assert not missing.parent.exists()


def test_a_duckdb_file_is_let_go_after_the_query(tmp_path: Path) -> None:
    database = Database("duckdb", str(tmp_path / "x.duckdb"))
    write_sessions(database, worked_example())
    read_query(database, "select count(*) from sessions")

    with duckdb.connect(database.location) as writer:  # fails while a reader holds the file
        writer.execute("delete from sessions")

    assert read_query(database, "select count(*) from sessions").rows == [(0,)]


def test_csv_holds_every_row_with_iso_times(database: Database) -> None:
    write_sessions(database, customer(7, [10, 20]))

    output = invoke(
        database, "select session_index, started_at from sessions order by 1", "-f", "csv"
    )

    assert list(csv.reader(io.StringIO(output))) == [
        ["session_index", "started_at"],
        ["1", (START + timedelta(days=1, hours=7)).isoformat()],
        ["2", (START + timedelta(days=2, hours=7)).isoformat()],
    ]


def test_json_is_an_array_of_objects_with_iso_times(database: Database) -> None:
    write_sessions(database, customer(7, [10]))

    output = invoke(
        database, "select customer_id, started_at, referrer from sessions", "-f", "json"
    )

    assert json.loads(output) == [
        {
            "customer_id": 7,
            "started_at": (START + timedelta(days=1, hours=7)).isoformat(),
            "referrer": None,
        }
    ]


def test_json_holds_intervals_in_seconds_arrays_as_arrays_and_nan_as_null(
    database: Database,
) -> None:
    write_sessions(database, customer(7, [10]))
    sql = (
        "select ended_at - started_at as took, array[1, 2] as pair,"
        " cast('NaN' as double precision) as nan from sessions"
    )

    output = invoke(database, sql, "-f", "json")

    assert json.loads(output) == [{"took": 600.0, "pair": [1, 2], "nan": None}]


MANY_ROWS = 25_001  # more than two of the batches that csv and json are written in


def test_csv_writes_a_result_of_many_batches_whole_and_in_order(database: Database) -> None:
    write_sessions(database, worked_example())

    output = invoke(database, f"select x from generate_series(1, {MANY_ROWS}) as t(x)", "-f", "csv")

    assert output.splitlines() == ["x", *map(str, range(1, MANY_ROWS + 1))]


def test_json_writes_a_result_of_many_batches_as_one_array(database: Database) -> None:
    write_sessions(database, worked_example())

    output = invoke(
        database, f"select x from generate_series(1, {MANY_ROWS}) as t(x)", "-f", "json"
    )

    assert output == json.dumps([{"x": x} for x in range(1, MANY_ROWS + 1)]) + "\n"


def test_postgres_writes_the_rows_before_a_late_failure(postgres_url: str) -> None:
    write_sessions(Database("postgresql", postgres_url), worked_example())
    sql = f"select x, 1 / ({MANY_ROWS} - x) as y from generate_series(1, {MANY_ROWS}) as t(x)"

    result = CliRunner().invoke(app, ["query", sql, "-f", "csv", "-d", postgres_url])

    # Rows come from a cursor on the server a batch at a time: those before the failure are out.
    assert (result.exit_code, len(result.stdout.splitlines()) > 1) == (1, True)


def test_postgres_runs_a_query_that_fails_part_way_once(postgres_url: str) -> None:
    write_sessions(Database("postgresql", postgres_url), worked_example())
    # to_tsquery('&') is a syntax error raised by a row, not by the query's text; only in the
    # streamed run (which sets cursor_tuple_fraction), so that a second run would pass.
    sql = (
        "select x, to_tsquery(case when x > 15000"
        " and current_setting('cursor_tuple_fraction') = '1' then '&' else 'a' end) as q"
        " from generate_series(1, 20000) as t(x)"
    )

    result = CliRunner().invoke(app, ["query", sql, "-f", "csv", "-d", postgres_url])

    assert (result.exit_code, result.stdout.splitlines().count("x,q")) == (1, 1)


def test_postgres_plans_a_streamed_query_for_all_its_rows(postgres_url: str) -> None:
    write_sessions(Database("postgresql", postgres_url), worked_example())

    result = read_query(
        Database("postgresql", postgres_url), "select current_setting('cursor_tuple_fraction')"
    )

    assert result.rows == [("1",)]


def test_postgres_refuses_a_data_modifying_with_in_its_own_words(postgres_url: str) -> None:
    write_sessions(Database("postgresql", postgres_url), worked_example())
    sql = "with gone as (delete from sessions returning *) select count(*) from gone"

    result = CliRunner().invoke(app, ["query", sql, "-d", postgres_url])

    assert (result.exit_code, "in a read-only transaction" in result.stderr) == (1, True)


@pytest.mark.parametrize("sql", ["show timezone", "explain select * from sessions"])
def test_postgres_answers_statements_that_are_no_query(postgres_url: str, sql: str) -> None:
    write_sessions(Database("postgresql", postgres_url), worked_example())

    result = CliRunner().invoke(app, ["query", sql, "-f", "json", "-d", postgres_url])

    assert (result.exit_code, len(json.loads(result.stdout)) > 0) == (0, True)


def test_json_of_no_rows_is_an_empty_array(database: Database) -> None:
    write_sessions(database, worked_example())

    output = invoke(database, "select * from sessions where false", "-f", "json")

    assert output == "[]\n"


@pytest.mark.parametrize("output_format", ["csv", "json"])
def test_a_reader_that_stops_early_ends_the_query_quietly(
    database: Database, output_format: str
) -> None:
    write_sessions(database, worked_example())
    sql = f"select x from generate_series(1, {MANY_ROWS * 40}) as t(x)"
    command = ["query", sql, "-f", output_format, "--database", database.location]

    with subprocess.Popen(
        [sys.executable, "-m", "xcc_sessions", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        child.stdout.read(10)  # as `| head -c 10` does
        child.stdout.close()
        stopped = (child.wait(timeout=60), child.stderr.read())

    assert stopped == (0, "")


def test_the_table_shows_every_row_aligned_and_counts_them(database: Database) -> None:
    write_sessions(database, customer(7, [10] * 12))

    output = invoke(database, "select session_index, event_count from sessions order by 1")

    header, rule, *rows, count = output.splitlines()
    assert (header, rule, rows, count) == (
        "session_index | event_count",
        "--------------+------------",
        [f"{index:>13} | {3:>11}" for index in range(1, 13)],
        "(12 rows)",
    )


def test_a_dash_reads_the_query_from_stdin(database: Database) -> None:
    write_sessions(database, referrer_sessions())

    output = invoke(
        database, "-", "-f", "csv", stdin="select count(*) as sessions\nfrom sessions;\n"
    )

    assert output == "sessions\n4\n"


LONG_QUERIES = {
    "duckdb": "select sum(range) from range(100000000000)",  # DuckDB met no signal in it
    "postgresql": "select pg_sleep(60)",
}


@pytest.mark.parametrize(("stop", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_a_long_query_at_once_with_its_exit_code(
    database: Database, stop: signal.Signals, exit_code: int
) -> None:
    write_sessions(database, worked_example())
    command = ["query", LONG_QUERIES[database.engine], "--database", database.location]

    with subprocess.Popen(
        [sys.executable, "-m", "xcc_sessions", *command], stderr=subprocess.PIPE, text=True
    ) as child:
        try:
            time.sleep(2)  # the query is running by then
            child.send_signal(stop)
            stopped = (child.wait(timeout=15), child.stderr.read() if child.stderr else "")
        finally:
            child.kill()  # a query that did not stop would run for minutes

    assert stopped == (exit_code, "")


def test_an_error_is_one_line_and_exit_code_1(database: Database) -> None:
    write_sessions(database, worked_example())

    result = CliRunner().invoke(app, ["query", "drop table sessions", "-d", database.location])

    assert (result.exit_code, result.stderr.count("\n"), result.stderr.startswith("Error: ")) == (
        1,
        1,
        True,
    )
