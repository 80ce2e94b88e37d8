"""A file's sha256, hashed in the background."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from xcc_sessions.digest import FileDigest
from xcc_sessions.errors import XccError


def test_the_digest_is_the_files_sha256(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    # More than one block of the thread's reads, and not a whole number of them.
    path.write_bytes(bytes(range(256)) * 9_000)

    digest = FileDigest(path)

    assert digest.hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_unreadable_file_is_one_clear_error_when_the_digest_is_asked_for(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    digest = FileDigest(tmp_path / "missing.json")

    with pytest.raises(XccError, match=r"^cannot read .*missing\.json: No such file"):
        digest.hexdigest()
    assert capfd.readouterr().err == ""
