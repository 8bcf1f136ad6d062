"""Balances follow identity, on both backends: when resolution merges customers, the
survivor's balances include the accounts opened under the merged ids, and spending on the
survivor takes from all of them, soonest-expiring first, without rewriting a posting."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from ledger_data import NOW, books_balance

from kenning.api.app import create_app
from kenning.commerce.ledger.errors import LedgerError
from kenning.services import ledger, loyalty
from kenning.services.aliases import customer_ids, follow_identity_changes
from kenning.services.keys import create_key
from kenning.settings import Settings
from kenning.store import Store

SOON, LATER = NOW + timedelta(days=10), NOW + timedelta(days=100)


def _change(store: Store, kind: str, customer: str, *others: str) -> None:
    with store.transaction():
        store.append_identity_changes([(kind, customer, {"others": list(others), "records": []})])


def _credit(store: Store, customer: str, amount: int, expires: datetime | None = None) -> None:
    ledger.issue_to_customer(
        store, customer, "store_credit", amount, "GBP", expires_at=expires, now=NOW
    )


def _held(store: Store, customer: str) -> dict[str, int]:
    view = loyalty.customer_balances(store, customer, NOW)
    return {a.account_id: a.available for a in view.accounts}


def test_the_survivor_holds_and_spends_what_the_merged_ids_hold(store: Store) -> None:
    _credit(store, "cus_a", 1_000, LATER)
    _credit(store, "cus_b", 500, SOON)
    ledger.issue_to_customer(store, "cus_b", "loyalty_points", 300, "PTS", now=NOW)
    assert _held(store, "cus_a") == {"store_credit:GBP:cus_a": 1_000}
    before = store._query("SELECT id, account_id, amount FROM ledger_postings ORDER BY id")
    _change(store, "merge", "cus_a", "cus_b")
    assert _held(store, "cus_a") == {
        "store_credit:GBP:cus_a": 1_000,
        "loyalty_points:PTS:cus_b": 300,
        "store_credit:GBP:cus_b": 500,
    }
    assert follow_identity_changes(store) == 0  # followed once, by the balances
    spent = ledger.redeem_customer(
        store, "cus_a", "store_credit", "GBP", 700, order_id="o1", key="pay-1", now=NOW
    )
    # The 500 expiring in 10 days first (under the merged id), then 200 of the survivor's.
    assert [(p.account_id, p.amount) for p in spent.postings] == [
        ("store_credit:GBP:cus_a", -200),
        ("store_credit:GBP:cus_b", -500),
        ("system:redemption:GBP", 700),
    ]
    assert spent.customer_id == "cus_a"
    again = ledger.redeem_customer(
        store, "cus_a", "store_credit", "GBP", 700, order_id="o1", key="pay-1", now=NOW
    )
    assert again == spent
    with pytest.raises(LedgerError) as short:
        ledger.redeem_customer(store, "cus_a", "store_credit", "GBP", 801, now=NOW)
    assert short.value.code == "insufficient_funds"
    # Points only the merged id ever had are the survivor's to spend too.
    points = ledger.redeem_customer(store, "cus_a", "loyalty_points", "PTS", 100, now=NOW)
    assert points.postings[0].account_id == "loyalty_points:PTS:cus_b"
    assert _held(store, "cus_a") == {
        "store_credit:GBP:cus_a": 800,
        "loyalty_points:PTS:cus_b": 200,
        "store_credit:GBP:cus_b": 0,
    }
    # A refund gives back to the lots the redemption took from.
    loyalty.refund_order(store, "o1", order_total=700, now=NOW)
    assert _held(store, "cus_a")["store_credit:GBP:cus_b"] == 500
    after = store._query("SELECT id, account_id, amount FROM ledger_postings ORDER BY id")
    assert after[: len(before)] == before  # nothing rewritten
    assert books_balance(store)


def test_merges_chain_and_splits_give_nothing_back(store: Store) -> None:
    for customer in ("cus_a", "cus_b", "cus_c"):
        _credit(store, customer, 100)
    _change(store, "merge", "cus_a", "cus_b")
    _change(store, "merge", "cus_c", "cus_a")
    assert follow_identity_changes(store, limit=1) == 2
    assert customer_ids(store, "cus_c") == ["cus_c", "cus_a", "cus_b"]
    assert customer_ids(store, "cus_a") == ["cus_a"]
    _change(store, "split", "cus_c", "cus_d")
    assert customer_ids(store, "cus_c") == ["cus_c", "cus_a", "cus_b"]
    assert customer_ids(store, "cus_d") == ["cus_d"]
    # An id merged away and then surviving a merge again is a customer of its own.
    _change(store, "merge", "cus_a", "cus_e")
    assert customer_ids(store, "cus_a") == ["cus_a", "cus_e"]
    assert customer_ids(store, "cus_c") == ["cus_c", "cus_b"]
    spent = ledger.redeem_customer(store, "cus_c", "store_credit", "GBP", 200, now=NOW)
    assert sorted(p.account_id for p in spent.postings if p.amount < 0) == [
        "store_credit:GBP:cus_b",
        "store_credit:GBP:cus_c",
    ]
    with pytest.raises(LedgerError) as none:
        ledger.redeem_customer(store, "cus_d", "store_credit", "GBP", 1, now=NOW)
    assert none.value.code == "not_found"
    assert books_balance(store)


def test_balances_and_spending_over_http_follow_a_merge(store: Store, store_url: str) -> None:
    _credit(store, "cus_a", 1_000)
    ledger.issue_to_customer(store, "cus_b", "loyalty_points", 250, "PTS", now=NOW)
    _change(store, "merge", "cus_a", "cus_b")
    app = create_app(Settings(database_url=store_url, pool_size=2), clock=lambda: NOW)
    _, secret = create_key(store, "till", ["ledger:write"])
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        use = {"amount": 200, "idempotency_key": "pts-1"}
        spent = client.post("/v1/customers/cus_a/points/redeem", json=use)
        assert spent.status_code == 201, spent.text
        view = client.get("/v1/customers/cus_a/balances").json()
    held = {a["account_id"]: a["balance"] for a in view["accounts"]}
    assert held == {"store_credit:GBP:cus_a": 1_000, "loyalty_points:PTS:cus_b": 50}
    assert books_balance(store)
