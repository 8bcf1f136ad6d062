"""Broken and hostile bodies on the collection API: a 400 or 413 naming what is wrong, never
a 500, on both backends; the size of a body is checked while it is read."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from kenning.api.app import create_app
from kenning.api.limits import COLLECTION_BODY_LIMIT, DEFAULT_BODY_LIMIT
from kenning.domain.refusals import Refusal
from kenning.domain.segment import parse_message
from kenning.domain.segment_ecommerce import REPAIR_STATUSES
from kenning.services import activity
from kenning.services.activity import record_activity
from kenning.services.sources import add_source
from kenning.settings import Settings
from kenning.store import Store
from kenning.store.realtime import LoggedEvent

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def write_key(store: Store) -> str:
    return add_source(store, "web")[1]


def _logged(store: Store) -> list[str | None]:
    sql = "SELECT record_id FROM events WHERE kind LIKE ? ORDER BY seq"
    rows = store._query(sql, ("segment.%",))
    return [r for (r,) in rows]


def _nested(levels: int) -> dict[str, Any]:
    inner: dict[str, Any] = {}
    for _ in range(levels):
        inner = {"a": inner}
    return inner


# --------------------------------------------------------------------- size, read as it comes
def _post_streamed(
    path: str, chunks: int, chunk: bytes, headers: list[tuple[bytes, bytes]]
) -> tuple[int, dict[str, Any], int]:
    """POSTs ``chunks`` chunks straight to the ASGI app; returns the status, the answer and
    how many body bytes the app took from the stream."""
    app = create_app(Settings(database_url="sqlite:///:memory:", follow_events=False))
    taken = 0
    sent = 0
    answer: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        nonlocal taken, sent
        sent += 1
        taken += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": sent < chunks}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] = answer.get("body", b"") + message.get("body", b"")

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"test"), *headers],
        "client": ("127.0.0.1", 1), "server": ("test", 80),
    }  # fmt: skip
    asyncio.run(app(scope, receive, send))
    return answer["status"], orjson.loads(answer["body"]), taken


@pytest.mark.parametrize(
    ("path", "limit"),
    [("/v1/batch", COLLECTION_BODY_LIMIT), ("/v1/track", COLLECTION_BODY_LIMIT),
     ("/v1/reservations", DEFAULT_BODY_LIMIT), ("/v1/identity/links", DEFAULT_BODY_LIMIT)],
)  # fmt: skip
def test_a_huge_unauthenticated_body_costs_only_the_limit(path: str, limit: int) -> None:
    # 300 MB in 64 KB chunks, no Content-Length, no key: refused once the limit is passed.
    chunk = b" " * 65536
    status, answer, taken = _post_streamed(path, 300 * 16, chunk, [])
    assert (status, answer["code"]) == (413, "too_large")
    assert answer["message"]
    assert taken <= limit + len(chunk)


def test_a_content_length_over_the_limit_is_refused_unread() -> None:
    length = str(300 * 1024 * 1024).encode()
    status, answer, taken = _post_streamed(
        "/v1/batch", 4800, b" " * 65536, [(b"content-length", length)]
    )
    assert (status, answer["code"], taken) == (413, "too_large", 0)


# --------------------------------------------------------------------- malformed messages
def test_deep_nesting_is_a_400_naming_the_message(
    app_client: TestClient, store: Store, write_key: str
) -> None:
    auth = (write_key, "")
    deep = {"userId": "u", "event": "e", "properties": _nested(300)}
    answer = app_client.post("/v1/track", json=deep, auth=auth)
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_request")
    assert "nested too deeply" in answer.json()["message"]
    batch = {"batch": [{"type": "track", "userId": "ok", "event": "e"}, {"type": "track", **deep}]}
    answer = app_client.post("/v1/batch", json=batch, auth=auth)
    assert answer.status_code == 400 and "batch[1]" in answer.json()["message"]
    # A batch's context is merged into every message: it is held to the same limit.
    shared = {"batch": [{"type": "track", "userId": "x", "event": "e"}], "context": _nested(300)}
    answer = app_client.post("/v1/batch", json=shared, auth=auth)
    assert answer.status_code == 400 and "context" in answer.json()["message"]
    assert _logged(store) == ["ok"]


def test_a_timestamp_that_cannot_be_corrected_is_a_400(
    app_client: TestClient, store: Store, write_key: str
) -> None:
    cases = [
        {"timestamp": "9999-12-31T00:00:00Z", "sentAt": "0001-01-01T00:00:00Z"},
        {"timestamp": "0001-01-01T00:00:00Z", "sentAt": "9999-12-31T00:00:00Z"},
        {"timestamp": "9999-12-31T23:59:59-05:00"},
    ]
    for times in cases:
        body = {"userId": "u", "event": "e", **times}
        answer = app_client.post("/v1/track", json=body, auth=(write_key, ""))
        assert (answer.status_code, answer.json()["code"]) == (400, "invalid_request"), times
        assert "timestamp" in answer.json()["message"]
    assert _logged(store) == []


def test_a_nul_character_costs_only_its_message(
    app_client: TestClient, store: Store, write_key: str
) -> None:
    auth = (write_key, "")
    batch = {
        "batch": [
            {"type": "track", "userId": "first", "event": "e"},
            {"type": "track", "userId": "u", "event": "e", "properties": {"note": "a\u0000b"}},
            {"type": "identify", "userId": "u\u0000", "traits": {}},
            {"type": "track", "userId": "u", "event": "e", "properties": {"k\u0000": 1}},
            # An escaped backslash before u0000 is text, not a NUL.
            {"type": "track", "userId": "last", "event": "e", "properties": {"x": "\\u0000"}},
        ]
    }
    answer = app_client.post("/v1/batch", json=batch, auth=auth)
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_request")
    message = answer.json()["message"]
    assert "3 message(s) refused, 2 accepted" in message
    assert all(f"batch[{i}]: a message holds a NUL" in message for i in (1, 2, 3))
    assert _logged(store) == ["first", "last"]
    answer = app_client.post("/v1/track", content=b'{"userId": "\\u0000", "event": "e"}', auth=auth)
    assert answer.status_code == 400
    # A Segment library does not retry a 400; a 500 it would retry for ever.
    assert _logged(store) == ["first", "last"]


# --------------------------------------------------------------------- e-commerce properties
REFUSED: list[tuple[str, dict[str, Any], str]] = [
    ("Order Completed", {"products": [{"quantity": "lots"}]},
     "properties.products[0].quantity must be a number"),
    ("Order Completed", {"products": [{"sku": "a"}, {"quantity": None}]},
     "properties.products[1].quantity must be a number"),
    ("Order Completed", {"products": [{"quantity": 1.5}]}, "products[0].quantity must be a whole"),
    ("Order Completed", {"products": [{"quantity": -1}]}, "products[0].quantity must be a whole"),
    ("Order Completed", {"products": [{"quantity": 5e22}]}, "products[0].quantity must be a whole"),
    ("Order Completed", {"products": [{"quantity": True}]}, "[0].quantity must be a number"),
    ("Order Completed", {"products": [{"price": "free"}]}, "products[0].price must be a number"),
    ("Order Completed", {"products": [{"price": None}]}, "products[0].price must be a number"),
    ("Order Completed", {"products": [{"price": 1e20}]}, "products[0].price must be a number no"),
    ("Order Completed", {"products": [{"price": 9e11, "quantity": 10}]},
     "properties.products add up to more than"),
    ("Order Completed", {"products": {"sku": "a"}}, "properties.products must be an array"),
    ("Order Completed", {"products": ["sku-1"]}, "properties.products[0] must be an object"),
    ("Order Completed", {"products": [{"product_id": {"id": 1}}]},
     "products[0].product_id must be a string or a number"),
    ("Order Completed", {"order_id": ["o-1"]}, "properties.order_id must be a string or a number"),
    ("Order Completed", {"revenue": "lots"}, "properties.revenue must be a number"),
    ("Order Completed", {"total": 5e22}, "properties.total must be a number no larger"),
    ("Order Refunded", {"order_id": "o", "price": "x", "sku": "a"}, "properties.price must be"),
    ("Product Viewed", {"products": [{"quantity": "2"}]}, "products[0].quantity must be a number"),
    ("Product Added", {"value": []}, "properties.value must be a number"),
    ("Checkout Started", {"products": [{"price": {}}]}, "products[0].price must be a number"),
    ("Repair Status Changed", {"status": "ready_for_pickup"}, "properties.repair_id is required"),
    ("Repair Status Changed", {"repair_id": "r1"}, "properties.status must be one of"),
    ("Repair Status Changed", {"repair_id": "r1", "status": "lost"}, "status must be one of"),
    ("Repair Status Changed", {"repair_id": {"a": 1}, "status": "shipped"},
     "repair_id must be a string or a number"),
    ("Product Registered", {"sku": "a"}, "properties.serial_number is required"),
    ("Product Registered", {"serial_number": ["x"]}, "serial_number must be a string or a"),
]  # fmt: skip

ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("Order Completed", {"order_id": "o-1", "revenue": "12.50", "currency": "GBP",
                         "products": [{"product_id": 7, "quantity": 2.0, "price": "3.25"},
                                      {"sku": "b", "price": 4}, {"sku": "c", "quantity": 0}]}),
    ("Order Completed", {"order_id": 12, "total": None,
                         "products": [{"sku": "a", "price": 2.5, "quantity": 3}]}),
    ("Order Completed", {"order_id": "o-2", "products": []}),
    ("Order Completed", {"order_id": "o-3", "products": None, "value": 0}),
    ("Order Refunded", {"order_id": "o-1", "products": [{"sku": "a", "price": 1, "quantity": 1}]}),
    ("Order Refunded", {"order_id": "o-1", "sku": "a", "price": "2.00"}),
    ("Order Refunded", {"order_id": "o-1", "total": 3}),
    ("Product Viewed", {"product_id": "p-1", "price": 9.99, "quantity": 1}),
    ("Product Added", {"cart_id": "c-1", "products": [{"sku": "a", "quantity": 1}]}),
    ("Checkout Started", {"checkout_id": "k-1", "revenue": 10, "products": [{"sku": "a"}]}),
    ("Repair Received", {"repair_id": "r-1", "serial_number": "SN-1"}),
    ("Repair Status Changed", {"repair_id": 17, "status": "ready_for_pickup"}),
    ("Product Registered", {"serial_number": "SN-2", "sku": "a"}),
    ("Product Registered", {"serial_number": 123456}),
    ("Email Opened", {"campaign_id": "m-1"}),
]  # fmt: skip


def test_malformed_ecommerce_properties_are_a_400_naming_the_message(
    app_client: TestClient, store: Store, write_key: str
) -> None:
    good = {"type": "track", "userId": "ok", "event": "Order Completed"}
    batch = [good] + [
        {"type": "track", "userId": "u", "event": event, "properties": properties}
        for event, properties, _ in REFUSED
    ]
    answer = app_client.post("/v1/batch", json={"batch": batch}, auth=(write_key, ""))
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_request")
    assert answer.json()["message"].startswith(f"{len(REFUSED)} message(s) refused, 1 accepted")
    assert _logged(store) == ["ok"]
    for n, (event, properties, problem) in enumerate(REFUSED, 1):
        with pytest.raises(Refusal) as refused:
            parse_message({"userId": "u", "event": event, "properties": properties}, NOW,
                          type_="track")  # fmt: skip
        assert problem in refused.value.message, (n, event, properties)


def test_what_is_accepted_at_the_door_can_be_applied(store: Store) -> None:
    """The door checks exactly what the activity tables need: every message it lets through
    is recorded without an error, on both backends."""
    events = []
    for seq, (event, properties) in enumerate(ACCEPTED, 1):
        raw = {"userId": f"u{seq}", "event": event, "properties": properties}
        message = parse_message(raw, NOW, type_="track")
        events.append(
            LoggedEvent(seq, "segment.track", "web", message.user_id, None, None,
                        message.payload, NOW.isoformat())
        )  # fmt: skip
    with store.transaction():
        changed = record_activity(store, events)
    assert sorted(changed) == ["17", "r-1"]
    assert store._query("SELECT count(*) FROM activity_orders")[0][0] == 4


def test_the_door_knows_the_repair_statuses_activity_applies() -> None:
    assert REPAIR_STATUSES == activity.REPAIR_STATUSES
