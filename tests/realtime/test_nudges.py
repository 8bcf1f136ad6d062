"""Workers nudge the follower process through a socket; nudges never fail the worker."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kenning.services.follow import Nudger, Nudges


@pytest.fixture
def socket_path() -> Iterator[Path]:
    # A short path of its own: a socket's path is limited to about a hundred bytes.
    with tempfile.TemporaryDirectory(prefix="kn-") as folder:
        yield Path(folder) / "f.sock"


def test_a_nudge_wakes_the_follower_and_every_queued_one_is_taken(socket_path: Path) -> None:
    nudges = Nudges(str(socket_path))
    try:
        poke = Nudger(str(socket_path)).poke
        for _ in range(3):
            poke()
        nudges.wait(30)  # returns at once: nudges are queued
        with pytest.raises(BlockingIOError):  # all three were taken by that one wait
            nudges._socket.recv(16)
    finally:
        nudges.close()
    assert not socket_path.exists()


def test_nudging_a_follower_that_is_not_listening_is_no_error(socket_path: Path) -> None:
    Nudger(str(socket_path)).poke()
