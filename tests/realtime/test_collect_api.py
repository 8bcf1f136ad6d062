"""The collection API keeps Segment's contract: paths, write keys, bodies, limits, retries."""

from __future__ import annotations

import base64
import gzip
from datetime import UTC, datetime

import orjson
import pytest
from fastapi.testclient import TestClient

from kenning.domain.refusals import Refusal
from kenning.domain.segment import identity_fields, parse_message
from kenning.services.sources import add_source
from kenning.store import Store


@pytest.fixture
def write_key(store: Store) -> str:
    return add_source(store, "web")[1]


def _logged(store: Store) -> list[tuple[str, str | None, str | None]]:
    rows = store._query(
        "SELECT kind, record_id, anonymous_id FROM events WHERE kind LIKE ? ORDER BY seq",
        ("segment.%",),
    )
    return [(k, r, a) for k, r, a in rows]


def test_every_path_and_way_of_sending_the_key(
    app_client: TestClient, store: Store, write_key: str
) -> None:
    basic = {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}
    bearer = {"Authorization": f"Bearer {write_key}"}
    sent = [
        ("/v1/identify", {"userId": "u1", "traits": {"email": "a@b.co"}}, basic),
        ("/v1/t", {"userId": "u1", "event": "Product Viewed"}, bearer),
        ("/v1/page", {"anonymousId": "v1", "name": "Home", "writeKey": write_key}, {}),
        ("/v1/s", {"userId": "u1", "name": "Cart"}, basic),
        ("/v1/group", {"userId": "u1", "groupId": "g1"}, basic),
        ("/v1/a", {"userId": "u1", "previousId": "v1"}, basic),
    ]
    for path, body, headers in sent:
        # Browsers send text/plain; the body is JSON whatever the Content-Type says.
        answer = app_client.post(
            path,
            content=orjson.dumps(body),
            headers={
                **headers,
                "Content-Type": "text/plain",
                "Authorization": headers.get("Authorization", ""),
            },
        )
        assert answer.status_code == 200, (path, answer.text)
        assert answer.json() == {"success": True}
    batch = {"batch": [{"type": "track", "userId": "u2", "event": "Order Completed"}]}
    zipped = gzip.compress(orjson.dumps(batch))
    answer = app_client.post(
        "/v1/import", content=zipped, headers={**basic, "Content-Encoding": "gzip"}
    )
    assert answer.status_code == 200
    assert [k for k, _, _ in _logged(store)] == [
        "segment.identify", "segment.track", "segment.page", "segment.screen",
        "segment.group", "segment.alias", "segment.track",
    ]  # fmt: skip


def test_bad_requests_get_400_with_code_and_message(
    app_client: TestClient, store: Store, write_key: str
) -> None:
    auth = (write_key, "")
    cases = [
        (b"{not json", "invalid_request"),
        (orjson.dumps({"event": "x"}), "invalid_request"),  # neither userId nor anonymousId
        (orjson.dumps({"userId": "u", "properties": {"x": "y" * 33_000}}), "too_large"),
    ]
    for body, code in cases:
        answer = app_client.post("/v1/track", content=body, auth=auth)
        assert answer.status_code == (413 if code == "too_large" else 400), answer.text
        assert answer.json()["code"] == code and answer.json()["message"]
    many = {"batch": [{"type": "track", "userId": "u", "event": "e"}] * 2501}
    answer = app_client.post("/v1/batch", json=many, auth=auth)
    assert (answer.status_code, answer.json()["code"]) == (413, "too_large")
    big = {"batch": [{"type": "track", "userId": "u", "event": "e", "properties": {
        "x": "y" * 30_000}}] * 20}  # fmt: skip
    answer = app_client.post("/v1/batch", json=big, auth=auth)
    assert (answer.status_code, answer.json()["code"]) == (413, "too_large")
    # A small body that inflates beyond the limit is refused without inflating it all.
    bomb = gzip.compress(b'{"batch": [' + b" " * 50_000_000 + b"]}")
    answer = app_client.post(
        "/v1/batch", content=bomb, auth=auth, headers={"Content-Encoding": "gzip"}
    )
    assert (answer.status_code, answer.json()["code"]) == (413, "too_large")
    answer = app_client.post("/v1/track", json={"userId": "u", "event": "e"}, auth=("nope", ""))
    assert (answer.status_code, answer.json()["code"]) == (401, "unauthorized")
    assert _logged(store) == []
    # One bad message costs only itself: the others are kept and the 400 names it.
    mixed = {"batch": [{"type": "track", "userId": "u", "event": "e"}, {"type": "track"}]}
    answer = app_client.post("/v1/batch", json=mixed, auth=auth)
    assert answer.status_code == 400 and "batch[1]" in answer.json()["message"]
    assert "1 accepted" in answer.json()["message"]
    assert _logged(store) == [("segment.track", "u", None)]


def test_browsers_may_send_from_another_origin(app_client: TestClient) -> None:
    preflight = app_client.options(
        "/v1/t",
        headers={
            "Origin": "https://shop.example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"


def test_retries_are_logged_once(app_client: TestClient, store: Store, write_key: str) -> None:
    message = {"userId": "u1", "event": "Order Completed", "messageId": "m-1"}
    for _ in range(3):
        assert app_client.post("/v1/track", json=message, auth=(write_key, "")).status_code == 200
    assert _logged(store) == [("segment.track", "u1", None)]


def test_timestamps_are_corrected_by_sent_at() -> None:
    received = datetime(2026, 11, 27, 12, 0, 10, tzinfo=UTC)
    # The device clock is an hour fast: it says the event was 5 s before sending.
    message = parse_message(
        {"userId": "u", "event": "e", "timestamp": "2026-11-27T13:00:00Z",
         "sentAt": "2026-11-27T13:00:05Z"},
        received,
        type_="track",
    )  # fmt: skip
    assert message.payload["timestamp"] == "2026-11-27T12:00:05.000Z"
    assert message.payload["originalTimestamp"] == "2026-11-27T13:00:00Z"
    with pytest.raises(Refusal):
        parse_message({"userId": "u", "type": "page"}, received, type_="track")


def test_identifiers_come_from_traits_context_and_external_ids() -> None:
    message = parse_message(
        {
            "userId": "u",
            "event": "Order Completed",
            "traits": {"email": "not@used.com"},  # a track's own traits are not the person's
            "context": {
                "traits": {"firstName": "Ann", "address": {"postalCode": "N1 9GU"}},
                "externalIds": [{"id": "L-77", "type": "loyalty_id", "collection": "users"}],
            },
        },
        datetime.now(UTC),
        type_="track",
    )
    assert identity_fields(message) == {
        "first_name": "Ann", "postcode": "N1 9GU", "loyalty_id": "L-77"
    }  # fmt: skip
