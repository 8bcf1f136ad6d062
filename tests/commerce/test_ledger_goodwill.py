"""Goodwill discount coupons on both backends: an associate gives a customer a single-use
coupon with a reason; only that customer's basket takes it, once; it is in the audit trail
with the other goodwill, and a retry with the same key gives the same coupon."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pricing_data import ENTRIES, NOW

from kenning.api.app import create_app
from kenning.commerce.pricing.engine import Basket, BasketLine
from kenning.commerce.pricing.errors import PricingError
from kenning.domain.refusals import Refusal
from kenning.services import ledger, loyalty
from kenning.services.keys import create_key
from kenning.services.pricing import price, redeem_coupon, save_prices
from kenning.settings import Settings
from kenning.store import Store


def _basket(customer: str | None, code: str) -> Basket:
    return Basket((BasketLine("BAG-1", 1),), "pos", "GB", customer_id=customer, coupons=(code,))


def _give(store: Store, key: str, **more: Any) -> loyalty.GoodwillCoupon:
    more.setdefault("percent_off", Decimal(15))
    return loyalty.goodwill_coupon(
        store, "c1", reason="lost the repair", associate_id="assoc-4", key=key, now=NOW, **more
    )


def test_a_goodwill_coupon_is_for_its_customer_once(store: Store) -> None:
    save_prices(store, ENTRIES)
    coupon = _give(store, "gw-c1", expires_at=NOW + timedelta(days=30))
    assert coupon.customer_id == "c1" and coupon.code
    assert _give(store, "gw-c1", expires_at=NOW + timedelta(days=30)) == coupon
    assert len(store.promotion_rows()) == 1
    mine = price(store, _basket("c1", coupon.code.lower()), NOW)
    assert mine.total == Decimal("85.00") and mine.coupons_applied == (coupon.code.lower(),)
    theirs = price(store, _basket("c2", coupon.code), NOW)
    assert theirs.total == Decimal("100.00")
    assert theirs.coupons_rejected == ((coupon.code, "for another customer"),)
    anyone = price(store, _basket(None, coupon.code), NOW)
    assert anyone.total == Decimal("100.00")
    with pytest.raises(PricingError, match="another customer"):
        redeem_coupon(store, coupon.code, "c2", "o-2", "use-2", NOW)
    redeem_coupon(store, coupon.code, "c1", "o-1", "use-1", NOW)
    used = price(store, _basket("c1", coupon.code), NOW)
    assert used.total == Decimal("100.00") and used.coupons_rejected[0][1] == "no uses left"
    with pytest.raises(Refusal) as again:
        redeem_coupon(store, coupon.code, "c1", "o-3", "use-3", NOW)
    assert again.value.code == "coupon_exhausted"
    late = price(store, _basket("c1", coupon.code), NOW + timedelta(days=31))
    assert late.coupons_rejected[0][1] in ("no uses left", "not in effect now")
    trail = ledger.audit_trail(store, "c1")
    assert [(a["actor"], a["action"], a["reason"]) for a in trail] == [
        ("assoc-4", "coupon.goodwill", "lost the repair")
    ]
    assert trail[0]["details"]["code"] == coupon.code
    assert trail[0]["details"]["percent_off"] == "15"


def test_an_amount_off_coupon_and_refusals(store: Store) -> None:
    save_prices(store, ENTRIES)
    coupon = _give(store, "gw-a", percent_off=None, amount_off=1_250, currency="GBP")
    assert price(store, _basket("c1", coupon.code), NOW).total == Decimal("87.50")
    with pytest.raises(Refusal) as other:
        _give(store, "gw-a", percent_off=None, amount_off=1_000, currency="GBP")
    assert other.value.code == "idempotency_mismatch"
    for wrong in (
        {"percent_off": Decimal(0)},
        {"percent_off": Decimal(101)},
        {"percent_off": Decimal(5), "amount_off": 100, "currency": "GBP"},
        {"percent_off": None, "amount_off": 100},
        {"expires_at": NOW - timedelta(days=1)},
    ):
        with pytest.raises(Refusal) as refused:
            _give(store, f"gw-{len(str(wrong))}", **wrong)
        assert refused.value.code == "invalid"
    with pytest.raises(Refusal, match="reason"):
        loyalty.goodwill_coupon(
            store, "c1", percent_off=Decimal(5), reason=" ", associate_id="a", now=NOW
        )
    assert len(store.promotion_rows()) == 1 and len(store.audit_rows("c1")) == 1


@pytest.fixture
def client(store: Store, store_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=store_url, pool_size=2), clock=lambda: NOW)
    _, secret = create_key(store, "desk", ["ledger:write", "pricing:read"])
    with TestClient(app) as test_client:
        test_client.headers["Authorization"] = f"Bearer {secret}"
        yield test_client


def test_goodwill_coupons_over_http(client: TestClient, store: Store) -> None:
    save_prices(store, ENTRIES)
    body = {
        "customer_id": "c7",
        "kind": "coupon",
        "percent_off": "20",
        "reason": "order arrived damaged",
        "associate_id": "assoc-9",
        "expires_at": (NOW + timedelta(days=14)).isoformat(),
    }
    given = client.post("/v1/goodwill", json=body, headers={"Idempotency-Key": "gw-h1"})
    assert given.status_code == 201, given.text
    assert given.json()["transaction"] is None and given.json()["card"] is None
    coupon = given.json()["coupon"]
    assert coupon["customer_id"] == "c7" and coupon["percent_off"] == "20"
    retry = client.post("/v1/goodwill", json=body, headers={"Idempotency-Key": "gw-h1"})
    assert retry.json() == given.json()
    basket = {"lines": [{"sku": "BAG-1"}], "channel": "web", "market": "GB"}
    for customer, total in (("c7", "80.00"), ("c8", "100.00")):
        asked = {**basket, "customer_id": customer, "coupons": [coupon["code"]]}
        priced = client.post("/v1/price", json=asked)
        assert priced.status_code == 200, priced.text
        assert priced.json()["total"] == total
    both = {**body, "amount": 500, "currency": "GBP"}
    assert client.post("/v1/goodwill", json=both, headers={"Idempotency-Key": "x"}).status_code == (
        422
    )
    neither = {**body, "percent_off": None}
    assert client.post(
        "/v1/goodwill", json=neither, headers={"Idempotency-Key": "y"}
    ).status_code == (422)
    credit = {**body, "kind": "store_credit", "percent_off": None, "amount": 500, "currency": "GBP"}
    kept = client.post("/v1/goodwill", json=credit, headers={"Idempotency-Key": "gw-h2"})
    assert kept.status_code == 201 and kept.json()["coupon"] is None
    trail = client.get("/v1/ledger/audit", params={"customer_id": "c7"}).json()
    assert [(a["actor"], a["action"]) for a in trail] == [
        ("assoc-9", "store_credit.goodwill"),
        ("assoc-9", "coupon.goodwill"),
    ]
    assert trail[1]["details"]["code"] == coupon["code"]


def test_a_coupon_given_to_an_id_merged_away_is_the_survivors(store: Store) -> None:
    save_prices(store, ENTRIES)
    coupon = _give(store, "gw-m1")  # for c1
    with store.transaction():  # resolution merges c1 into c9
        store.append_identity_changes([("merge", "c9", {"others": ["c1"], "records": []})])
    mine = price(store, _basket("c9", coupon.code), NOW)
    assert mine.total == Decimal("85.00") and mine.coupons_applied == (coupon.code,)
    assert price(store, _basket("c2", coupon.code), NOW).total == Decimal("100.00")
    with pytest.raises(PricingError):
        redeem_coupon(store, coupon.code, "c2", "o-2", "use-m2", NOW)
    assert redeem_coupon(store, coupon.code, "c9", "o-1", "use-m1", NOW).uses == 1
