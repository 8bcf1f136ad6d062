"""The ledger API in-process (FastAPI's TestClient over httpx), on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ledger_data import NOW, books_balance

from kenning.api.app import create_app
from kenning.services.keys import create_key
from kenning.settings import Settings
from kenning.store import Store


@pytest.fixture
def client(store: Store, store_url: str) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=store_url, pool_size=2), clock=lambda: NOW)
    _, secret = create_key(store, "till", ["ledger:write"])
    with TestClient(app) as test_client:
        test_client.headers["Authorization"] = f"Bearer {secret}"
        yield test_client


def _post(client: TestClient, path: str, body: dict[str, Any], key: str) -> Any:
    return client.post(path, json=body, headers={"Idempotency-Key": key})


def test_gift_cards_from_any_channel(client: TestClient, store: Store) -> None:
    sold = _post(client, "/v1/gift-cards", {"amount": 5_000, "currency": "GBP"}, "sell-1")
    assert sold.status_code == 201, sold.text
    card = sold.json()
    code = card["code"]
    assert card["last4"] == code[-4:] and card["transaction"]["kind"] == "issue"
    retry = _post(client, "/v1/gift-cards", {"amount": 5_000, "currency": "GBP"}, "sell-1")
    assert retry.json()["account_id"] == card["account_id"] and retry.json()["code"] is None
    spend = _post(client, f"/v1/gift-cards/{code}/redeem", {"amount": 1_999}, "pay-1")
    assert spend.status_code == 201
    again = _post(client, f"/v1/gift-cards/{code}/redeem", {"amount": 1_999}, "pay-1")
    assert again.json() == spend.json()
    other = _post(client, f"/v1/gift-cards/{code}/redeem", {"amount": 1}, "pay-1")
    assert other.status_code == 409 and other.json()["code"] == "idempotency_mismatch"
    short = _post(client, f"/v1/gift-cards/{code}/redeem", {"amount": 5_000}, "pay-2")
    assert short.status_code == 409 and short.json()["code"] == "insufficient_funds"
    seen = client.get(f"/v1/gift-cards/{code.lower()}").json()
    assert (seen["balance"], seen["available"], seen["last4"]) == (3_001, 3_001, code[-4:])
    assert client.get("/v1/gift-cards/AAAA-BBBB-CCCC-DDDD").status_code == 404
    unkeyed = client.post(f"/v1/gift-cards/{code}/redeem", json={"amount": 1})
    assert unkeyed.status_code == 400 and unkeyed.json()["code"] == "idempotency_key_required"
    floats = _post(client, f"/v1/gift-cards/{code}/redeem", {"amount": 1.5}, "pay-3")
    assert floats.status_code == 422
    txn = client.get(f"/v1/ledger/transactions/{spend.json()['id']}").json()
    assert txn == spend.json()
    assert books_balance(store)


def test_earn_refund_and_balances(client: TestClient, store: Store) -> None:
    programme = client.get("/v1/loyalty/programme").json()
    programme["tiers"] = [{"name": "gold", "min_spend": 10_000, "earn_percent": 200}]
    assert client.put("/v1/loyalty/programme", json=programme).status_code == 200
    order = {
        "order_id": "web-1",
        "customer_id": "c1",
        "channel": "web",
        "currency": "GBP",
        "lines": [{"sku": "CASE", "amount": 12_000, "category": "luggage"}],
    }
    earned = _post(client, "/v1/loyalty/earn", order, "earn-1")
    assert earned.status_code == 201, earned.text
    assert earned.json()["points"] == 120 and earned.json()["tier"] is None
    credit = {"amount": 2_000, "currency": "GBP", "reason": "price match"}
    assert _post(client, "/v1/customers/c1/store-credit", credit, "sc-1").status_code == 201
    use = {"amount": 500, "currency": "GBP", "order_id": "web-1"}
    assert _post(client, "/v1/customers/c1/store-credit/redeem", use, "sc-2").status_code == 201
    points = {"amount": 20}
    assert _post(client, "/v1/customers/c1/points/redeem", points, "pts-1").status_code == 201
    no_currency = _post(client, "/v1/customers/c1/store-credit/redeem", {"amount": 1}, "sc-3")
    assert no_currency.status_code == 422
    view = client.get("/v1/customers/c1/balances").json()
    assert view["tier"] == "gold" and view["rolling_spend"] == 12_000
    held = {a["kind"]: a["balance"] for a in view["accounts"]}
    assert held == {"loyalty_points": 100, "store_credit": 1_500}
    back = _post(client, "/v1/orders/web-1/refund", {}, "refund-1")
    assert back.status_code == 201, back.text
    # The 20 points spent meanwhile cannot be taken back: they are forgiven.
    assert back.json()["refunded"] == 12_000
    assert back.json()["forgiven"] == {"loyalty_points:PTS:c1": 20}
    held = {
        a["kind"]: a["balance"] for a in client.get("/v1/customers/c1/balances").json()["accounts"]
    }
    assert held == {"loyalty_points": 0, "store_credit": 2_000}
    assert client.post("/v1/orders/nope/refund", json={"idempotency_key": "x"}).status_code == 404
    assert books_balance(store)


def test_goodwill_and_manual_transactions_are_audited(client: TestClient, store: Store) -> None:
    gift = {
        "customer_id": "c9",
        "kind": "gift_card",
        "amount": 2_500,
        "currency": "GBP",
        "reason": "waited 40 minutes for a repair",
        "associate_id": "assoc-3",
    }
    given = _post(client, "/v1/goodwill", gift, "gw-1")
    assert given.status_code == 201, given.text
    card = given.json()["card"]
    assert card["code"] and given.json()["transaction"]["kind"] == "goodwill"
    no_reason = _post(client, "/v1/goodwill", {**gift, "reason": ""}, "gw-2")
    assert no_reason.status_code == 422
    move = {
        "kind": "adjust",
        "postings": [
            {"account_id": card["account_id"], "unit": "GBP", "amount": -500},
            {"account_id": "system:adjustment:GBP", "unit": "GBP", "amount": 500},
        ],
        "actor": "assoc-3",
        "reason": "card loaded twice",
    }
    fixed = _post(client, "/v1/ledger/transactions", move, "adj-1")
    assert fixed.status_code == 201, fixed.text
    uneven = {**move, "postings": [{**move["postings"][0], "amount": -1}, move["postings"][1]]}
    bad = _post(client, "/v1/ledger/transactions", uneven, "adj-2")
    assert bad.status_code == 422 and "sum to zero" in bad.json()["message"]
    trail = client.get("/v1/ledger/audit", params={"customer_id": "c9"}).json()
    assert [(a["actor"], a["action"], a["reason"]) for a in trail] == [
        ("assoc-3", "gift_card.goodwill", "waited 40 minutes for a repair")
    ]
    assert [a["action"] for a in client.get("/v1/ledger/audit").json()] == [
        "transaction.adjust",
        "gift_card.goodwill",
    ]
    account = client.get(f"/v1/ledger/accounts/{card['account_id']}").json()
    assert account["balance"] == 2_000
    assert client.get("/v1/ledger/accounts/system:goodwill:GBP").json()["balance"] == -2_500


def test_ledger_scopes(client: TestClient, store: Store) -> None:
    _, reader = create_key(store, "report", ["ledger:read"])
    _, stock = create_key(store, "stock", ["inventory:write"])
    as_reader = {"Authorization": f"Bearer {reader}"}
    assert client.get("/v1/customers/c1/balances", headers=as_reader).status_code == 200
    denied = client.post(
        "/v1/gift-cards",
        json={"amount": 1, "currency": "GBP", "idempotency_key": "k"},
        headers=as_reader,
    )
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    other = client.get("/v1/customers/c1/balances", headers={"Authorization": f"Bearer {stock}"})
    assert other.status_code == 403
