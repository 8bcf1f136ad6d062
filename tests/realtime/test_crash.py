"""kill -9 of the server midway through 10,000 events from the official client: every
event ends up logged exactly once (what was acknowledged survived; retries fill the rest)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from segment.analytics.client import Client as SegmentClient

from kenning.services.sources import add_source
from kenning.store import Store

EVENTS = 10_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until(test: object, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not test():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/openapi.json", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def _server(store_url: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "KENNING_FOLLOW_EVENTS": "false"}
    command = [sys.executable, "-m", "kenning", "--db", store_url, "serve", "--port", str(port)]
    process = subprocess.Popen(command, env=env)
    try:
        _wait_until(lambda: _answers(f"http://127.0.0.1:{port}"), "the server to start")
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)


def _logged(store: Store) -> tuple[int, int]:
    rows = store._query(
        "SELECT COUNT(*), COUNT(DISTINCT message_id) FROM events WHERE kind = 'segment.track'"
    )
    return int(rows[0][0]), int(rows[0][1])


@pytest.mark.slow
def test_events_survive_kill_9_exactly_once(store: Store, store_url: str) -> None:
    _, key = add_source(store, "web")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    errors: list[object] = []
    with _server(store_url, port) as first:
        client = SegmentClient(
            key, host=url, max_queue_size=2 * EVENTS, max_retries=30,
            on_error=lambda e, _: errors.append(e),
        )  # fmt: skip
        for i in range(EVENTS):
            client.track(f"user-{i % 300}", "Product Viewed", {"n": i}, message_id=f"msg-{i}")
        _wait_until(lambda: _logged(store)[0] >= EVENTS // 4, "a quarter of the events")
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    logged_at_kill = _logged(store)[0]
    assert logged_at_kill < EVENTS, "the kill came too late to test anything"
    with _server(store_url, port):
        client.flush()
        client.join()
    assert errors == []
    assert _logged(store) == (EVENTS, EVENTS)
