"""Operations: the probes, the metrics, the request log (and nothing personal in any log),
the documentation pages and the errors the OpenAPI document tells."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from kenning.api import errors
from kenning.api.app import create_app
from kenning.api.ops import SCHEMA_VERSION, follower_lag
from kenning.domain.redact import scrub
from kenning.services import matching
from kenning.services.follow import follow
from kenning.services.identity import MODEL_NAME
from kenning.services.keys import create_key
from kenning.services.matching import ModelCache
from kenning.services.sources import add_source
from kenning.settings import Settings
from kenning.store import Store, open_store
from kenning.store.migrations import MIGRATIONS

EMAIL, PHONE, FIRST, LAST = (
    "wilhelmina.quarrie@fastmail.co.uk",
    "+44 7700 900461",
    "Wilhelmina",
    "Quarrie",
)
IDENTIFY = {
    "userId": "w-ops-1",
    "anonymousId": "anon-ops-1",
    "traits": {"email": EMAIL, "phone": PHONE, "firstName": FIRST, "lastName": LAST,
               "address": {"street": "9 Tanner Row", "postalCode": "YO1 6JB", "country": "GB"}},
}  # fmt: skip


def _train(store: Store, batch_retailer: Path) -> None:
    with open_store(f"sqlite:///{batch_retailer / 'batch.db'}") as batch:
        model = batch.load_model(MODEL_NAME)
    assert model is not None
    store.save_model(MODEL_NAME, model)


def _follow_all(store: Store) -> None:
    models = ModelCache()
    while follow(store, models).events:
        pass


def _metrics(client: TestClient) -> Samples:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def sent_codes() -> list[tuple[str, str, str]]:
    return []


@pytest.fixture
def ops_client(
    store: Store, store_url: str, sent_codes: list[tuple[str, str, str]]
) -> Iterator[TestClient]:
    """The API with a key that may do anything, and sign-up codes kept in a list."""
    settings = Settings(database_url=store_url, pool_size=2, follow_events=False)
    app = create_app(settings, mail_sender=lambda *mail: sent_codes.append(mail))
    _, secret = create_key(store, "ops", ["admin"])
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        yield client


# ----------------------------------------------------------------- probes
def test_probes_need_no_key(ops_client: TestClient) -> None:
    del ops_client.headers["Authorization"]
    assert ops_client.get("/healthz").json() == {"status": "ok"}
    assert ops_client.get("/readyz").status_code in (200, 503)
    assert ops_client.get("/metrics").status_code == 200


def test_healthz_answers_when_the_database_does_not() -> None:
    gone = Settings(database_url="postgresql://nobody@127.0.0.1:1/none", follow_events=False)
    with TestClient(create_app(gone)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 503
        checks = ready.json()["checks"]
        assert checks["database"]["ok"] is False
        assert "nobody" not in ready.text  # the connection's details stay in the server
        assert _value(_metrics(client), "kenning_store_up") == 0


def test_readyz_checks_schema_model_and_follower_lag(
    ops_client: TestClient, store: Store, batch_retailer: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert SCHEMA_VERSION == MIGRATIONS[-1].version == store.schema_version()
    # A new store resolves with the shipped prior: ready from the start.
    fresh = ops_client.get("/readyz")
    assert fresh.status_code == 200
    body = fresh.json()
    assert body["checks"]["database"]["ok"] and body["checks"]["migrations"]["ok"]
    assert body["checks"]["model"]["detail"].startswith("in use: the shipped prior")
    assert body["checks"]["follower"] == {
        "ok": True,
        "detail": "0 log entries not yet followed, the oldest 0.0 s old",
        "lag_events": 0,
        "lag_seconds": 0.0,
        "max_lag_seconds": 60.0,
    }
    # A prior made for other comparisons (comparisons.py changed, the prior not made
    # again) and no trained model: nothing can resolve.
    monkeypatch.setattr(matching, "usable_prior", lambda: None)
    ops_client.app.state.models = ModelCache()  # type: ignore[attr-defined]
    untrained = ops_client.get("/readyz")
    assert untrained.status_code == 503
    assert untrained.json()["status"] == "not_ready"
    assert untrained.json()["checks"]["model"]["ok"] is False

    _train(store, batch_retailer)
    trained = ops_client.get("/readyz")
    assert trained.status_code == 200
    assert trained.json()["checks"]["model"]["detail"].startswith("in use: trained on")

    _, key = add_source(store, "web")
    assert ops_client.post("/v1/identify", json=IDENTIFY, auth=(key, "")).status_code == 200
    # The event waits two minutes unfollowed: past the default bound of a minute.
    old = datetime.now(UTC) - timedelta(minutes=2)
    stamp: Any = old if store.dialect == "postgresql" else old.isoformat()
    with store.transaction():
        store._execute("UPDATE events SET recorded_at = ?", (stamp,))
    lagging = ops_client.get("/readyz")
    assert lagging.status_code == 503
    follower = lagging.json()["checks"]["follower"]
    assert follower["ok"] is False and follower["lag_events"] == 1
    assert 100 < follower["lag_seconds"] < 3600
    assert EMAIL not in lagging.text and FIRST not in lagging.text

    _follow_all(store)
    assert ops_client.get("/readyz").json()["status"] == "ready"


def test_follower_lag_counts_entries_and_the_age_of_the_oldest(
    ops_client: TestClient, store: Store
) -> None:
    _, key = add_source(store, "web")
    for n in range(3):
        event = {"userId": f"u-{n}", "event": "Product Viewed", "messageId": f"m-{n}"}
        assert ops_client.post("/v1/track", json=event, auth=(key, "")).status_code == 200
    lag = follower_lag(store, now=datetime.now(UTC) + timedelta(hours=1))
    assert lag.events == 3
    assert 3500 < lag.seconds < 3700
    _follow_all(store)
    assert (
        follower_lag(store)
        == follower_lag(store, now=datetime.now(UTC))
        == (follower_lag(store).__class__(0, 0.0))
    )


# ----------------------------------------------------------------- metrics
def test_metrics_count_requests_events_decisions_mail_and_lag(
    ops_client: TestClient,
    store: Store,
    batch_retailer: Path,
    sent_codes: list[tuple[str, str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _train(store, batch_retailer)
    _, key = add_source(store, "web", trusted=True)  # server-side: its e-mail finds her
    before = _metrics(ops_client)

    assert ops_client.post("/v1/identify", json=IDENTIFY, auth=(key, "")).status_code == 200
    lagging = _metrics(ops_client)
    assert _value(lagging, "kenning_follower_lag_events") == 1
    _follow_all(store)
    found = ops_client.get("/v1/customers/lookup", params={"email": EMAIL})
    assert found.status_code == 200, found.text
    customer = found.json()["customer_id"]
    assert ops_client.get(f"/v1/customers/{customer}").status_code == 200
    assert ops_client.get("/v1/customers/nobody-at-all").status_code == 404
    assert ops_client.post("/v1/accounts", json={"email": EMAIL}).status_code == 200
    assert len(sent_codes) == 1

    after = _metrics(ops_client)

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert grew("kenning_events_accepted_total") == 1
    assert grew("kenning_resolution_decisions_total", decision="placed") >= 1
    assert grew("kenning_resolution_decisions_total", decision="new_customer") >= 1
    assert grew("kenning_mail_sent_total", kind="signup_code") == 1
    # By route template, never the raw path: no e-mail or customer id in a label.
    lookup = {"method": "GET", "route": "/v1/customers/lookup"}
    assert grew("kenning_http_requests_total", **lookup, status="200") == 1
    assert grew("kenning_http_request_duration_seconds_count", **lookup) == 1
    by_id = {"method": "GET", "route": "/v1/customers/{customer_id}"}
    assert grew("kenning_http_requests_total", **by_id, status="200") == 1
    assert grew("kenning_http_requests_total", **by_id, status="404") == 1
    text = ops_client.get("/metrics").text
    assert EMAIL not in text and customer not in text and "nobody-at-all" not in text
    assert _value(after, "kenning_follower_lag_events") == 0
    assert _value(after, "kenning_follower_lag_seconds") == 0
    assert _value(after, "kenning_pool_connections_max") == 2
    assert _value(after, "kenning_pool_connections_in_use") == 0
    assert _value(after, "kenning_store_up") == 1


def test_metrics_count_mail_that_fails(store: Store, store_url: str) -> None:
    def refuse(*_: str) -> None:
        raise OSError("the mail server is down")

    app = create_app(Settings(database_url=store_url, follow_events=False), mail_sender=refuse)
    _, secret = create_key(store, "ops", ["customers:write"])
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        before = _value(_metrics(client), "kenning_mail_failed_total", kind="signup_code")
        assert client.post("/v1/accounts", json={"email": EMAIL}).status_code >= 400
        after = _value(_metrics(client), "kenning_mail_failed_total", kind="signup_code")
    assert after - before == 1


def test_metrics_show_dead_letters_where_the_store_keeps_them(
    ops_client: TestClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(type(store), "count_dead_letters", lambda _: 3, raising=False)
    assert _value(_metrics(ops_client), "kenning_dead_letters") == 3


def test_each_app_counts_its_own_requests(store_url: str) -> None:
    apps = [create_app(Settings(database_url=store_url, follow_events=False)) for _ in range(2)]
    with TestClient(apps[0]) as first, TestClient(apps[1]) as second:
        first.get("/healthz")
        first.get("/healthz")
        second.get("/healthz")
        ok = {"method": "GET", "route": "/healthz", "status": "200"}
        assert _value(_metrics(first), "kenning_http_requests_total", **ok) == 2
        assert _value(_metrics(second), "kenning_http_requests_total", **ok) == 1


# ----------------------------------------------------------------- request log
def test_each_request_is_logged_with_an_id_echoed_in_the_answer(
    ops_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kenning.requests")
    mine = ops_client.get("/healthz", headers={"X-Request-ID": "probe-42"})
    assert mine.headers["x-request-id"] == "probe-42"
    made = ops_client.get("/healthz").headers["x-request-id"]
    forged = ops_client.get("/healthz", headers={"X-Request-ID": "bad\tid"})
    assert forged.headers["x-request-id"] not in ("bad\tid", made)
    lines = [r for r in caplog.records if r.name == "kenning.requests"]
    assert [getattr(r, "request_id", None) for r in lines] == [
        "probe-42",
        made,
        forged.headers["x-request-id"],
    ]
    first = lines[0]
    assert (first.method, first.route, first.status) == ("GET", "/healthz", 200)  # type: ignore[attr-defined]
    assert first.duration_ms >= 0  # type: ignore[attr-defined]


def test_no_email_phone_or_name_in_any_log(
    ops_client: TestClient,
    store: Store,
    batch_retailer: Path,
    sent_codes: list[tuple[str, str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _train(store, batch_retailer)
    _, key = add_source(store, "web")
    assert ops_client.post("/v1/identify", json=IDENTIFY, auth=(key, "")).status_code == 200
    track = {"userId": "w-ops-1", "event": "Signed Up", "context": {"traits": IDENTIFY["traits"]}}
    assert ops_client.post("/v1/track", json=track, auth=(key, "")).status_code == 200
    bad = {"batch": [{"type": "identify", "traits": {"email": EMAIL}}]}  # no user id: refused
    assert ops_client.post("/v1/batch", json=bad, auth=(key, "")).status_code == 400
    _follow_all(store)
    for asked in ({"email": EMAIL}, {"phone": PHONE}, {"email": "no." + EMAIL}):
        assert ops_client.get("/v1/customers/lookup", params=asked).status_code in (200, 404)
    assert ops_client.post("/v1/accounts", json={"email": EMAIL}).status_code == 200
    verification = ops_client.post("/v1/accounts", json={"email": EMAIL.upper()}).json()
    code = sent_codes[-1][1].rsplit(" ", 1)[-1]
    wrong = {"verification_id": verification["verification_id"], "code": "000000"}
    assert ops_client.post("/v1/accounts/verify", json=wrong).status_code in (422, 200)
    right = {"verification_id": verification["verification_id"], "code": code}
    assert ops_client.post("/v1/accounts/verify", json=right).status_code in (200, 409, 429)

    # The test's own HTTP client logs the URLs it asks for: not Kenning's logs.
    logged = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    requests = [r for r in logged if r.name == "kenning.requests"]
    assert {getattr(r, "route", None) for r in requests} >= {
        "/v1/identify",
        "/v1/customers/lookup",
        "/v1/accounts",
        "/v1/accounts/verify",
    }
    text = "\n".join(
        record.getMessage() + (f"\n{record.exc_text}" if record.exc_text else "")
        for record in logged
    )
    digits = PHONE.replace(" ", "")
    for secret in (EMAIL, EMAIL.upper(), "fastmail", digits, digits[3:], FIRST, LAST):
        assert secret.lower() not in text.lower()


def test_scrub_masks_emails_and_phones_only() -> None:
    refused = "{'jane.doe+shop@example.com': (550, b'5.1.1 <jane.doe+shop@example.com> unknown')}"
    assert "jane" not in scrub(refused)
    assert scrub("call +44 7700 900123 or 07700-900-123") == "call [phone] or [phone]"
    kept = "could not send mail through 127.0.0.1:8025: [Errno 111] at 2026-12-05 19:22:01 seq 42"
    assert scrub(kept) == kept


# ----------------------------------------------------------------- documentation
def test_docs_pages_load_only_the_packages_own_files(ops_client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = ops_client.get(page)
        assert html.status_code == 200
        assert "cdn.jsdelivr.net" not in html.text and "googleapis" not in html.text
        assert "https://" not in html.text and "http://" not in html.text
    docs, redoc = ops_client.get("/docs").text, ops_client.get("/redoc").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs
    assert "/static/vendor/redoc/redoc.standalone.js" in redoc
    for asset, kind in (
        ("/static/vendor/swagger-ui/swagger-ui-bundle.js", "javascript"),
        ("/static/vendor/swagger-ui/swagger-ui.css", "css"),
        ("/static/vendor/swagger-ui/favicon-32x32.png", "png"),
        ("/static/vendor/redoc/redoc.standalone.js", "javascript"),
    ):
        answer = ops_client.get(asset)
        assert answer.status_code == 200 and kind in answer.headers["content-type"]
        assert len(answer.content) > 500


def test_openapi_shows_the_error_shape_and_each_routes_errors(ops_client: TestClient) -> None:
    document = ops_client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    error = schemas["ErrorPublic"]
    assert set(error["required"]) == {"code", "message"}
    assert set(error["properties"]["code"]["enum"]) == set(get_args(errors.ErrorCode))
    ref = {"$ref": "#/components/schemas/ErrorPublic"}

    def answers(path: str, method: str) -> dict[str, Any]:
        found: dict[str, Any] = document["paths"][path][method]["responses"]
        for status, answer in found.items():
            if status.startswith("4"):
                assert answer["content"]["application/json"]["schema"] == ref, (path, status)
        return found

    assert {"401", "403", "404", "422"} <= set(answers("/v1/customers/{customer_id}", "get"))
    assert "404" not in answers("/v1/identity/changes", "get")
    lookup = answers("/v1/customers/lookup", "get")
    assert {"401", "403", "409", "422"} <= set(lookup)
    assert {"400", "401", "413"} <= set(answers("/v1/batch", "post"))
    assert {"401", "403", "409", "413", "422", "429"} <= set(answers("/v1/accounts", "post"))
    assert "409" not in answers("/v1/batch", "post")
    reservations = [
        (path, method)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if any(p.get("name") == "Idempotency-Key" for p in op.get("parameters", []))
    ]
    assert reservations
    for path, method in reservations:
        assert {"400", "409", "413"} <= set(answers(path, method))
    assert set(answers("/healthz", "get")) == {"200"}
    assert set(answers("/readyz", "get")) == {"200", "503"}


def test_every_error_code_is_in_the_error_type() -> None:
    """The codes answered (api/errors.py's STATUS and the HTTP ones) are ErrorCode's."""
    codes = set(get_args(errors.ErrorCode))
    assert set(errors.STATUS) <= codes
    assert set(errors._HTTP_CODES.values()) | {"http_error", "internal"} <= codes
