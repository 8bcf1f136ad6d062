"""`kenning serve` as operators run it: it says where it listens and warns without a model,
logs one JSON line per request (with its id, never what was looked up), and /metrics adds
up the counts of every process (the followers resolve in processes of their own)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kenning.services.identity import MODEL_NAME
from kenning.services.keys import create_key
from kenning.services.sources import add_source
from kenning.store import Store, open_store

EMAIL, PHONE = "ottoline.vesey@fastmail.co.uk", "+44 7700 900782"
IDENTIFY = {
    "userId": "w-serve-1",
    "traits": {"email": EMAIL, "phone": PHONE, "firstName": "Ottoline", "lastName": "Vesey",
               "address": {"street": "2 Coney St", "postalCode": "YO1 9QL", "country": "GB"}},
}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until(test: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not test():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _metric(url: str, name: str, **labels: str) -> float:
    text = httpx.get(url + "/metrics", timeout=5).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


@pytest.mark.slow
def test_serve_announces_logs_json_requests_and_counts_every_process(
    store: Store, store_url: str, batch_retailer: Path, tmp_path: Path
) -> None:
    _, write_key = add_source(store, "web")
    _, secret = create_key(store, "ops", ["customers:read"])
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    # Its temporary folders (metrics, nudges) go here, to be seen removed at the end.
    scratch = Path(tempfile.mkdtemp(prefix="ko-"))  # short: socket paths are limited
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env["TMPDIR"] = str(scratch)
    command = [sys.executable, "-m", "kenning", "--db", store_url, "serve", "--port", str(port),
               "--log-format", "json"]  # fmt: skip
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until(lambda: _answers(url), "the server to start")
        # A model trained while it runs is taken up by the followers.
        with open_store(f"sqlite:///{batch_retailer / 'batch.db'}") as batch:
            model = batch.load_model(MODEL_NAME)
        assert model is not None
        store.save_model(MODEL_NAME, model)
        sent = httpx.post(url + "/v1/identify", json=IDENTIFY, auth=(write_key, ""), timeout=10)
        assert sent.status_code == 200
        asked = httpx.get(
            url + "/v1/customers/lookup",
            params={"email": EMAIL},
            headers={"Authorization": f"Bearer {secret}", "X-Request-ID": "lookup-1"},
            timeout=10,
        )
        assert asked.headers["x-request-id"] == "lookup-1"
        # Resolved in a follower process, counted where the worker's /metrics sees it.
        placed = {"decision": "placed"}
        _wait_until(
            lambda: _metric(url, "kenning_resolution_decisions_total", **placed) >= 1,
            "the follower's decision in /metrics",
        )
        assert _metric(url, "kenning_events_accepted_total") == 1
        ok = {"method": "POST", "route": "/v1/identify", "status": "200"}
        assert _metric(url, "kenning_http_requests_total", **ok) == 1
    finally:
        server.terminate()
        server.wait(30)
    assert list(scratch.iterdir()) == []  # cleaned up on SIGTERM
    scratch.rmdir()

    output = log_path.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    messages = [line["message"] for line in lines]
    assert f"Kenning listening on http://127.0.0.1:{port} (docs at /docs)" in messages
    # Started before any model was trained: the shipped prior resolves meanwhile.
    assert "identity model in use: the shipped prior" in " ".join(messages)
    lookups = [line for line in lines if line.get("request_id") == "lookup-1"]
    assert len(lookups) == 1
    assert lookups[0]["route"] == "/v1/customers/lookup"
    assert lookups[0]["method"] == "GET" and lookups[0]["status"] in (200, 404)
    assert lookups[0]["duration_ms"] >= 0
    for secret_value in (EMAIL, "fastmail", "%40", "7700", "Ottoline", "Vesey"):
        assert secret_value not in output
