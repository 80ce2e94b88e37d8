"""outputs: the file fetch and generate replace, and the claim on a directory of outputs."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

from xcc_sessions.errors import XccError
from xcc_sessions.outputs import DirectoryClaim, replaceable_file


def test_a_regular_file_is_replaced_as_it_is(tmp_path: Path) -> None:
    output = tmp_path / "events.json"
    output.write_text("previous\n")

    assert replaceable_file(output) == output


@pytest.mark.parametrize("exists", [True, False], ids=["target", "dangling"])
def test_a_symlink_is_written_through_to_its_target(tmp_path: Path, exists: bool) -> None:
    target = tmp_path / "store" / "events-2022.json"
    target.parent.mkdir()
    if exists:
        target.write_text("previous\n")
    output = tmp_path / "events.json"
    output.symlink_to(target)

    assert replaceable_file(output) == target


@pytest.mark.parametrize("linked", [False, True], ids=["fifo", "symlink-to-fifo"])
def test_a_fifo_is_refused_and_named(tmp_path: Path, linked: bool) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    output = tmp_path / "events.json" if linked else fifo
    if linked:
        output.symlink_to(fifo)

    with pytest.raises(XccError, match=f"^cannot write {output}: it is a FIFO, not a regular file"):
        replaceable_file(output)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(XccError, match="Is a directory"):
        replaceable_file(tmp_path)


def test_a_directory_is_claimed_by_one_writer_at_a_time(tmp_path: Path) -> None:
    with DirectoryClaim(tmp_path), pytest.raises(XccError, match="in use by another sessionize"):
        DirectoryClaim(tmp_path)


def test_readers_share_a_directory(tmp_path: Path) -> None:
    with DirectoryClaim(tmp_path, shared=True), DirectoryClaim(tmp_path, shared=True) as second:
        assert isinstance(second, DirectoryClaim)


def test_a_reader_waits_for_no_writer(tmp_path: Path) -> None:
    with DirectoryClaim(tmp_path), pytest.raises(XccError, match="is being written by"):
        DirectoryClaim(tmp_path, shared=True)


def test_a_released_claim_frees_the_directory(tmp_path: Path) -> None:
    DirectoryClaim(tmp_path).release()

    with DirectoryClaim(tmp_path) as claim:
        assert isinstance(claim, DirectoryClaim)


def test_a_claim_let_go_without_release_frees_the_directory(tmp_path: Path) -> None:
    DirectoryClaim(tmp_path)
    gc.collect()

    with DirectoryClaim(tmp_path) as claim:
        assert isinstance(claim, DirectoryClaim)


def test_a_claim_leaves_no_file_behind(tmp_path: Path) -> None:
    with DirectoryClaim(tmp_path):
        pass

    assert list(tmp_path.iterdir()) == []
