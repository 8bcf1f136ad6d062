"""The pricing API in-process (FastAPI's TestClient over httpx), on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pricing_data import NOW

from kenning.api.app import create_app
from kenning.services.keys import create_key
from kenning.settings import Settings
from kenning.store import Store

PRICES = [
    {"sku": "BAG-1", "market": "GB", "currency": "GBP", "price": "100.00"},
    {"sku": "TAG-2", "market": "GB", "currency": "GBP", "price": 10},
    {"sku": "BAG-1", "market": "GB", "currency": "GBP", "price": "80", "kind": "group",
     "customer_group": "staff"},
]  # fmt: skip
PROMOTIONS = [
    {"id": "tags", "kind": "buy_x_get_y", "value": 100, "buy": 2, "get": 1,
     "target": {"skus": ["TAG-2"]}},
    {"id": "ldn", "kind": "basket_amount_off", "value": "5", "currency": "GBP",
     "min_subtotal": "50", "target": {"stores": ["LDN"]}},
    {"id": "welcome", "kind": "percent_off", "value": 10, "coupon": {"code": "HELLO",
     "total_limit": 2, "per_customer_limit": 1}},
    {"id": "ship", "kind": "free_shipping", "min_subtotal": "100", "currency": "GBP"},
]  # fmt: skip


@pytest.fixture
def client(inventory: Store, store_url: str) -> Iterator[TestClient]:
    facts = {"cust-staff": (frozenset({"staff"}), {})}
    app = create_app(
        Settings(database_url=store_url, pool_size=2),
        clock=lambda: NOW,
        customer_facts=lambda _, customer: facts.get(customer, (frozenset(), {})),
    )
    _, secret = create_key(inventory, "pricing", ["pricing:write"])
    with TestClient(app) as test_client:
        test_client.headers["Authorization"] = f"Bearer {secret}"
        assert test_client.post("/v1/price-book", json={"entries": PRICES}).json() == {"written": 3}
        loaded = test_client.post("/v1/promotions", json={"promotions": PROMOTIONS})
        assert loaded.status_code == 200, loaded.text
        yield test_client


def _price(client: TestClient, **body: Any) -> Any:
    body.setdefault("lines", [{"sku": "BAG-1", "quantity": 1}, {"sku": "TAG-2", "quantity": 3}])
    answer = client.post("/v1/price", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_scopes(client: TestClient, inventory: Store) -> None:
    _, other = create_key(inventory, "stock", ["inventory:write"])
    denied = client.post(
        "/v1/price", json={"lines": [{"sku": "BAG-1"}], "channel": "web", "market": "GB"},
        headers={"Authorization": f"Bearer {other}"},
    )  # fmt: skip
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    _, reader = create_key(inventory, "till", ["pricing:read"])
    refused = client.post(
        "/v1/promotions",
        json={"promotions": PROMOTIONS},
        headers={"Authorization": f"Bearer {reader}"},
    )
    assert refused.status_code == 403


def test_one_price_in_every_channel_explained(client: TestClient) -> None:
    answers = [
        _price(client, channel=ch, store="LDN", shipping="4.95") for ch in ("web", "pos", "shelf")
    ]
    assert len({a["total"] for a in answers}) == 1
    first = answers[0]
    # 100 + 30, one tag free (-10), then 5 off the basket at LDN, free shipping over 100.
    assert first["subtotal"] == "130.00" and first["total"] == "115.00"
    assert [a["promotion_id"] for a in first["adjustments"]] == ["tags", "ldn", "ldn", "ship"]
    assert first["lines"][0]["price_reason"].startswith("base price")
    assert sum(float(a["amount"]) for a in first["adjustments"] if a["promotion_id"] == "ldn") == 5
    elsewhere = _price(client, channel="web", market="GB", shipping="4.95")
    assert elsewhere["total"] == "120.00"  # no store discount; still free shipping
    staff = _price(client, channel="pos", store="MAN", customer_id="cust-staff")
    assert staff["lines"][0]["unit_price"] == "80.00" and staff["lines"][0]["price_kind"] == "group"


def test_coupons_are_redeemed_once_per_key_within_limits(client: TestClient) -> None:
    with_coupon = _price(client, channel="web", market="GB", coupons=["hello"], customer_id="a")
    assert with_coupon["coupons_applied"] == ["hello"]
    body = {"customer_id": "a", "reference": "order-1"}
    first = client.post(
        "/v1/coupons/hello/redemptions", json=body, headers={"Idempotency-Key": "r1"}
    )
    again = client.post(
        "/v1/coupons/HELLO/redemptions", json=body, headers={"Idempotency-Key": "r1"}
    )
    assert first.status_code == 200 and again.json() == first.json()
    assert first.json()["uses"] == 1 and first.json()["total_limit"] == 2
    mine = client.post("/v1/coupons/HELLO/redemptions", json={**body, "idempotency_key": "r2"})
    assert mine.status_code == 409 and mine.json()["code"] == "coupon_exhausted"
    no_key = client.post("/v1/coupons/HELLO/redemptions", json={"customer_id": "b"})
    assert no_key.status_code == 400
    spent = _price(client, channel="web", market="GB", coupons=["HELLO"], customer_id="a")
    assert spent["coupons_rejected"] == [
        {"code": "HELLO", "reason": "no uses left for this customer"}
    ]


def test_audit_and_errors(client: TestClient) -> None:
    at = NOW.isoformat()
    seen = [
        {"channel": "shelf", "store": "LDN", "sku": "BAG-1", "observed_at": at, "price": "95"},
        {"channel": "pos", "store": "MAN", "sku": "TAG-2", "observed_at": at, "price": "10",
         "quantity": 3},
        {"channel": "web", "market": "GB", "sku": "GHOST", "observed_at": at, "price": "1"},
    ]  # fmt: skip
    report = client.post("/v1/prices/audit", json={"observations": seen}).json()
    assert report["checked"] == 3 and len(report["unpriced"]) == 1
    (wrong,) = report["discrepancies"]
    assert (wrong["store"], wrong["sku"], wrong["observed"], wrong["expected"]) == (
        "MAN", "TAG-2", "30.00", "20.00",
    )  # fmt: skip
    assert wrong["difference"] == "10.00" and "buy 2 get 1" in wrong["explanation"]
    missing = client.post(
        "/v1/price", json={"lines": [{"sku": "GHOST"}], "channel": "web", "market": "GB"}
    )
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    bad = client.post("/v1/price", json={"lines": [], "channel": "web"})
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
    nowhere = client.post("/v1/price", json={"lines": [{"sku": "BAG-1"}], "channel": "web"})
    assert nowhere.status_code == 422 and "market" in nowhere.json()["message"]
    listed = client.get("/v1/promotions").json()
    assert {p["id"] for p in listed} == {"tags", "ldn", "welcome", "ship"}
