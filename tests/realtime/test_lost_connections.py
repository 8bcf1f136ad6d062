"""PostgreSQL ends every session of the server (a restart, a fail-over): lookups and
identifies answer again within seconds, and the followers carry on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from kenning.api.app import create_app
from kenning.services.identity import MODEL_NAME
from kenning.services.keys import create_key
from kenning.services.sources import add_source
from kenning.settings import Settings
from kenning.store import open_store
from postgres_sessions import NamedPostgres

pytestmark = pytest.mark.postgres
ANN = {"firstName": "Ann", "lastName": "Leigh", "email": "the.leighs@fastmail.co.uk"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _until(answer: Callable[[], httpx.Response], deadline: float, what: str) -> list[int]:
    """Ask until the answer is a 200, before ``deadline``; returns the statuses seen."""
    seen: list[int] = []
    while True:
        try:
            seen.append(answer().status_code)
        except httpx.TransportError:
            seen.append(0)
        if seen[-1] == 200:
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: no 200 in time; saw {seen}")
        time.sleep(0.02)


@contextmanager
def _serving(url: str, log: Path) -> Iterator[str]:
    """`kenning serve` with its two follower processes, its output in ``log``."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KENNING_")}
    command = [sys.executable, "-m", "kenning", "--db", url, "serve", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _until(lambda: httpx.get(f"{base}/openapi.json"), time.monotonic() + 60, "start")
        yield base
    finally:
        process.terminate()
        process.wait(30)


def _shop(url: str, batch_retailer: Path) -> tuple[str, str]:
    """A trained store with a web source; returns its write key and a reading key."""
    with open_store(f"sqlite:///{batch_retailer / 'batch.db'}") as batch:
        model = batch.load_model(MODEL_NAME)
    assert model is not None
    with open_store(url) as store:
        store.save_model(MODEL_NAME, model)
        _, write_key = add_source(store, "web")
        _, secret = create_key(store, "tests", ["customers:read"])
    return write_key, secret


@pytest.mark.slow
def test_the_server_and_its_followers_survive_their_sessions_being_ended(
    named_postgres: NamedPostgres, batch_retailer: Path, tmp_path: Path
) -> None:
    write_key, secret = _shop(named_postgres.url, batch_retailer)
    log = tmp_path / "serve.log"
    with _serving(named_postgres.url, log) as base, httpx.Client(base_url=base) as client:

        def identify(user: str) -> httpx.Response:
            body = {"userId": user, "traits": {**ANN, "email": f"{user}@fastmail.co.uk"}}
            return client.post("/v1/identify", json=body, auth=(write_key, ""))

        def lookup(user: str) -> httpx.Response:
            return client.get(
                "/v1/customers/lookup",
                params={"source": "web", "record_id": user},
                headers={"Authorization": f"Bearer {secret}"},
            )

        assert lookup("u-1").status_code == 404
        assert "Traceback" not in log.read_text(), "a normal start logs no traceback"
        assert identify("u-1").status_code == 200
        _until(lambda: lookup("u-1"), time.monotonic() + 60, "the follower applying u-1")

        # The workers' pool and each follower process had a session at least.
        assert named_postgres.end_sessions() >= 3
        deadline = time.monotonic() + 5
        seen = _until(lambda: lookup("u-1"), deadline, "a lookup")
        seen += _until(lambda: identify("u-2"), deadline, "an identify")
        seen += _until(lambda: lookup("u-2"), deadline, "the followers applying u-2")
        # A request may meet a session ended under it (503, retried): never a 500.
        assert set(seen) <= {200, 404, 503}, seen


def test_a_request_that_loses_its_session_is_answered_503_and_the_next_works(
    named_postgres: NamedPostgres,
) -> None:
    with open_store(named_postgres.url) as store:
        _, write_key = add_source(store, "web")
    app = create_app(Settings(database_url=named_postgres.url, pool_size=2, follow_events=False))
    answers: list[httpx.Response] = []

    def identify(user: str) -> None:
        answers.append(client.post("/v1/identify", json={"userId": user}, auth=(write_key, "")))

    with TestClient(app) as client:
        identify("u-1")
        # Another session (named otherwise) holds the log, so the request waits mid-way.
        with psycopg.connect(named_postgres.url, application_name="kenning-test-locker") as lock:
            lock.execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
            waiting = threading.Thread(target=identify, args=("u-2",))
            waiting.start()
            _wait_for_lock(lock, named_postgres.name)
            named_postgres.end_sessions()
            waiting.join(30)
            lock.rollback()
        identify("u-3")
    statuses = [(a.status_code, a.json().get("code")) for a in answers]
    assert statuses == [(200, None), (503, "unavailable"), (200, None)]
    with open_store(named_postgres.url) as store:
        assert [e.record_id for e in store.iter_events()] == ["u-1", "u-3"]


def _wait_for_lock(conn: psycopg.Connection[Any], name: str) -> None:
    deadline = time.monotonic() + 30
    while not conn.execute(
        "SELECT 1 FROM pg_stat_activity WHERE application_name = %s AND wait_event_type = 'Lock'",
        (name,),
    ).fetchall():
        assert time.monotonic() < deadline, "the request never came to wait on the lock"
        time.sleep(0.01)
