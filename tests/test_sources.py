"""sources: what run's SOURCE names, a URL to download or a local file."""

from __future__ import annotations

from pathlib import Path

import pytest

from xcc_sessions.errors import UsageError
from xcc_sessions.sources import is_url, local_path


@pytest.mark.parametrize(
    "source",
    [
        "/data/events.json",
        "file:///data/events.json",
        "file:/data/events.json",
        "file://localhost/data/events.json",
    ],
)
def test_a_path_or_a_file_url_of_this_host_names_the_file(source: str) -> None:
    assert local_path(source) == Path("/data/events.json")


def test_a_file_url_is_decoded() -> None:
    assert local_path("file:///data/my%20events.json") == Path("/data/my events.json")


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("ftp://example.com/events.json", "cannot read ftp:// URLs"),
        ("file://example.com/events.json", "is a file on another host"),
    ],
)
def test_a_source_that_is_no_local_file_is_a_usage_error(source: str, why: str) -> None:
    with pytest.raises(UsageError, match=why):
        local_path(source)


@pytest.mark.parametrize(
    ("source", "expected"),
    [("https://example.com/events.json", True), ("HTTP://example.com/x", True), ("x.json", False)],
)
def test_only_http_and_https_are_downloaded(source: str, expected: bool) -> None:
    assert is_url(source) is expected
