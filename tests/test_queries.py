"""The metric queries in queries/, hand-computed, on DuckDB and PostgreSQL alike."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from sessions_data import Session, customer, session, worked_example, write_sessions

from xcc_sessions.database import Database
from xcc_sessions.readers import Row, open_reader


def run(database: Database, name: str, *params: object) -> list[Row]:
    with open_reader(database) as reader:
        return reader.query(name, params)


def order_metrics(database: Database, sessions: list[Session]) -> dict[str, Any]:
    write_sessions(database, sessions)
    return run(database, "metrics_orders")[0]


def test_brief_worked_example(database: Database) -> None:
    # user-1: visits 2, minutes 30 + 20; user-2: visits 1, minutes 45.
    assert order_metrics(database, worked_example()) == {
        "median_visits_before_order": 1.5,
        "median_session_duration_minutes_before_order": 47.5,
    }


def test_odd_number_of_customers_takes_the_middle_value(database: Database) -> None:
    sessions = (
        customer(1, [10], s1=5)  # visits 1, minutes 5
        + customer(2, [10, 10, 10], s3=1)  # visits 3, minutes 21
        + customer(3, [30, 8], s2=8)  # visits 2, minutes 38
    )

    assert order_metrics(database, sessions) == {
        "median_visits_before_order": 2.0,
        "median_session_duration_minutes_before_order": 21.0,
    }


def test_even_number_of_customers_averages_the_two_middle_values(database: Database) -> None:
    sessions = (
        customer(1, [10], s1=4)  # visits 1, minutes 4
        + customer(2, [10, 6], s2=6)  # visits 2, minutes 16
        + customer(3, [1, 1, 1, 1], s4=1)  # visits 4, minutes 4
        + customer(4, [50, 50, 50], s3=10)  # visits 3, minutes 110
    )

    assert order_metrics(database, sessions) == {
        "median_visits_before_order": 2.5,
        "median_session_duration_minutes_before_order": 10.0,
    }


def test_time_after_the_order_in_the_purchase_session_does_not_count(
    database: Database,
) -> None:
    # 12 minutes before, then a 40-minute session with the order 15 minutes in.
    sessions = customer(7, [12, 40, 25], s2=15)

    assert order_metrics(database, sessions) == {
        "median_visits_before_order": 2.0,
        "median_session_duration_minutes_before_order": 27.0,
    }


def test_fractional_minutes_keep_their_microseconds(database: Database) -> None:
    sessions = [session(3, 1, 2.5, order_after=1.25), session(3, 2, 1, order_after=1)]

    result = order_metrics(database, sessions)

    assert result["median_session_duration_minutes_before_order"] == 1.25


def test_customers_who_never_order_do_not_count(database: Database) -> None:
    browsers = customer(10, [5, 5, 5, 5, 5]) + customer(11, [90]) + customer(12, [1, 2])

    assert order_metrics(database, worked_example() + browsers) == {
        "median_visits_before_order": 1.5,
        "median_session_duration_minutes_before_order": 47.5,
    }


def test_no_customer_has_ordered_gives_nulls(database: Database) -> None:
    assert order_metrics(database, customer(10, [5, 5]) + customer(11, [90])) == {
        "median_visits_before_order": None,
        "median_session_duration_minutes_before_order": None,
    }


def test_empty_database_gives_nulls(database: Database) -> None:
    assert order_metrics(database, []) == {
        "median_visits_before_order": None,
        "median_session_duration_minutes_before_order": None,
    }


def referrer_sessions() -> list[Session]:
    search = "https://search.example"
    return [
        # search: 10, 20, 30, 40 minutes, one with an order.
        session(1, 1, 10, referrer=search),
        session(1, 2, 20, referrer=search, order_after=5),
        session(2, 1, 30, referrer=search),
        session(3, 1, 40, referrer=search),
        # direct: 0 and 6 minutes, both with orders.
        session(2, 2, 0, order_after=0),
        session(3, 2, 6, order_after=6),
        # news: one 3-minute session.
        session(4, 1, 3, referrer="https://news.example"),
    ]


def test_referrers_summarise_each_referrer_largest_first(database: Database) -> None:
    write_sessions(database, referrer_sessions())

    assert run(database, "metrics_referrers", 1) == [
        {
            "referrer": "https://search.example",
            "sessions": 4,
            "order_share": 0.25,
            "median_duration_minutes": 25.0,
            "p25_duration_minutes": 17.5,
            "p75_duration_minutes": 32.5,
            "mean_duration_minutes": 25.0,
        },
        {
            "referrer": "(direct)",
            "sessions": 2,
            "order_share": 1.0,
            "median_duration_minutes": 3.0,
            "p25_duration_minutes": 1.5,
            "p75_duration_minutes": 4.5,
            "mean_duration_minutes": 3.0,
        },
        {
            "referrer": "https://news.example",
            "sessions": 1,
            "order_share": 0.0,
            "median_duration_minutes": 3.0,
            "p25_duration_minutes": 3.0,
            "p75_duration_minutes": 3.0,
            "mean_duration_minutes": 3.0,
        },
    ]


def test_referrers_below_min_sessions_are_left_out(database: Database) -> None:
    write_sessions(database, referrer_sessions())

    rows = run(database, "metrics_referrers", 2)

    assert [row["referrer"] for row in rows] == ["https://search.example", "(direct)"]


def test_referrers_of_an_empty_database_are_an_empty_list(database: Database) -> None:
    write_sessions(database, [])

    assert run(database, "metrics_referrers", 1) == []


def test_latest_load_run_is_the_highest_run_id(database: Database) -> None:
    write_sessions(database, worked_example(), run_id=1)
    write_sessions(database, [], run_id=2)

    assert run(database, "latest_load_run")[0]["run_id"] == 2


def random_sessions(seed: int, customers: int) -> list[Session]:
    """Customers with 1-6 sessions of random length, some ordering, some several times."""
    generator = random.Random(seed)
    referrers = [None, "https://a.example", "https://b.example", "https://c.example"]
    rows = []
    for customer_id in range(1, customers + 1):
        for index in range(1, generator.randint(1, 6) + 1):
            minutes = generator.choice([0, generator.uniform(0, 90)])
            ordered = generator.random() < 0.2
            rows.append(
                session(
                    customer_id,
                    index,
                    minutes,
                    order_after=generator.uniform(0, minutes) if ordered else None,
                    referrer=generator.choice(referrers),
                )
            )
    return rows


@pytest.mark.parametrize(
    ("name", "params"),
    [("metrics_orders", ()), ("metrics_referrers", (1,)), ("latest_load_run", ())],
)
def test_both_engines_give_the_same_results(
    name: str, params: tuple[object, ...], tmp_path: Path, postgres_url: str
) -> None:
    sessions = random_sessions(seed=4, customers=300)
    engines = [
        Database("duckdb", str(tmp_path / "same.duckdb")),
        Database("postgresql", postgres_url),
    ]
    for database in engines:
        write_sessions(database, sessions)

    duckdb_rows, postgres_rows = (run(database, name, *params) for database in engines)

    # Floats may differ in the last bit: the engines add up a mean in different orders.
    assert duckdb_rows == [
        {
            key: pytest.approx(value, rel=1e-12) if isinstance(value, float) else value
            for key, value in row.items()
        }
        for row in postgres_rows
    ]
