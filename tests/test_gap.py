"""The inactivity timeout as people write it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from xcc_sessions.errors import UsageError
from xcc_sessions.gap import parse_gap


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("1800s", timedelta(minutes=30)),
        ("1h", timedelta(hours=1)),
        ("90", timedelta(seconds=90)),
        ("1h30m", timedelta(minutes=90)),
        ("1.5h", timedelta(minutes=90)),
        ("250ms", timedelta(milliseconds=250)),
        ("2d", timedelta(days=2)),
        (" 45M ", timedelta(minutes=45)),
    ],
)
def test_accepted_forms(text: str, expected: timedelta) -> None:
    assert parse_gap(text) == expected


@pytest.mark.parametrize("text", ["", "m", "30 minutes", "-5m", "5x", "1h-5m", "0", "0s", "1e3"])
def test_anything_else_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="invalid gap"):
        parse_gap(text)
