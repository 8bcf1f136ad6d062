"""Numbers and times out of any real range are a 422 with ``{code, message}`` on every
route and both backends, never a 500 from the database or from date arithmetic."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kenning.api import errors
from kenning.api.app import create_app
from kenning.services.keys import create_key
from kenning.settings import Settings
from kenning.store import Store

HUGE = 9507211872499520241664
FAR = "9999-12-31T00:00:00Z"
EARLY = "0001-01-01T00:00:00Z"


@pytest.fixture
def admin(inventory: Store, store_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=store_url, pool_size=2, follow_events=False))
    _, secret = create_key(inventory, "admin", ["admin"])
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        yield client


def _line(quantity: Any) -> dict[str, Any]:
    return {"sku": "SKU-1", "location_id": "LDN", "quantity": quantity}


GETS = [
    f"/v1/identity/changes?since={HUGE}",
    f"/v1/identity/changes?since=-{HUGE}",
    f"/v1/customers/c-1/events?before={HUGE}",
    "/v1/identity/changes?limit=100000000000000000000",
]
POSTS: list[tuple[str, dict[str, Any]]] = [
    ("/v1/reservations", {"lines": [_line(5e22)]}),
    ("/v1/reservations", {"lines": [_line(HUGE)]}),
    ("/v1/reservations", {"lines": [_line(1)], "ttl_seconds": HUGE}),
    ("/v1/sourcing/reservations", {"lines": [_line(HUGE)]}),
    ("/v1/adjustments", {"sku": "SKU-1", "location_id": "LDN", "delta": 5e22}),
    ("/v1/receipts", {"sku": "SKU-1", "location_id": "LDN", "quantity": HUGE}),
    ("/v1/transfers", {"sku": "SKU-1", "from_location": "LDN", "to_location": "MAN",
                       "quantity": 1, "expected_arrival": FAR}),
    ("/v1/sourcing/plans", {"lines": [{"sku": "SKU-1", "quantity": HUGE}],
                            "pickup_store": "LDN"}),
    ("/v1/sourcing/plans", {"lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": 1e300}],
                            "pickup_store": "LDN"}),
    ("/v1/gift-cards", {"amount": 500, "currency": "GBP", "expires_at": FAR}),
    ("/v1/gift-cards", {"amount": 500, "currency": "GBP", "expires_at": EARLY}),
    ("/v1/gift-cards", {"amount": HUGE, "currency": "GBP"}),
    ("/v1/customers/c-1/store-credit", {"amount": 500, "currency": "GBP", "reason": "r",
                                        "expires_at": "9999-12-31T23:59:59-05:00"}),
    ("/v1/price-book", {"entries": [{"sku": "SKU-1", "market": "GB", "currency": "GBP",
                                     "price": "1", "starts_at": EARLY}]}),
    ("/v1/price", {"lines": [{"sku": "SKU-1"}], "channel": "web", "at": FAR}),
    ("/v1/prices/audit", {"observations": [{"channel": "web", "sku": "SKU-1", "price": "1e30",
                                            "observed_at": "2026-01-01T00:00:00Z"}]}),
    ("/v1/prices/audit", {"observations": [{"channel": "web", "sku": "SKU-1", "price": "1",
                                            "observed_at": FAR}]}),
]  # fmt: skip


def test_out_of_range_numbers_and_dates_are_422(admin: TestClient) -> None:
    answers = [(path, admin.get(path)) for path in GETS]
    answers += [
        (path, admin.post(path, json=body, headers={"Idempotency-Key": f"k-{n}"}))
        for n, (path, body) in enumerate(POSTS)
    ]
    for path, answer in answers:
        assert answer.status_code == 422, (path, answer.status_code, answer.text)
        assert answer.json()["code"] == "validation_error" and answer.json()["message"], path


@pytest.mark.parametrize(
    "refused",
    [OverflowError("Python int too large to convert to SQLite INTEGER"),
     psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"),
     psycopg.errors.NumericValueOutOfRange("bigint out of range")],
)  # fmt: skip
def test_a_value_the_database_refuses_is_422_not_500(refused: Exception) -> None:
    """What the door's checks miss and the database refuses is still the client's error."""
    app = FastAPI()
    errors.install(app)

    @app.get("/boom")
    async def boom() -> None:
        raise refused

    @app.get("/bug")
    async def bug() -> None:
        raise KeyError("a real bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/boom")
        assert (answer.status_code, answer.json()["code"]) == (422, "invalid")
        assert "NUL" not in answer.json()["message"]  # the database's words stay in the log
        # Anything else is still a 500, and logged.
        assert client.get("/bug").status_code == 500


def test_a_nul_in_the_url_is_the_same_400_on_both_backends(admin: TestClient) -> None:
    # PostgreSQL refuses NUL in text; SQLite would have looked it up and found nothing.
    for path in ["/v1/customers/lookup?email=a%00b@x.org", "/v1/customers/c%00/events",
                 "/v1/gift-cards/%00", "/v1/stock/SKU%001"]:  # fmt: skip
        answer = admin.get(path)
        assert (answer.status_code, answer.json()["code"]) == (400, "invalid_request"), path


def test_a_wrong_method_says_which_are_allowed(admin: TestClient) -> None:
    answer = admin.request("TRACE", "/v1/batch")
    assert (answer.status_code, answer.headers["allow"]) == (405, "POST")
    assert answer.json()["code"] == "method_not_allowed"
