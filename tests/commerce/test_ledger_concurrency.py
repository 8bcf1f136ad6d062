"""Concurrent writers on both backends: one gift card never overspent, one key posts once,
transfers both ways never deadlock, one order refunded once."""

from __future__ import annotations

from ledger_data import NOW, books_balance

from concurrent_clients import all_at_once
from kenning.commerce.ledger.errors import LedgerError
from kenning.commerce.ledger.loyalty import EarnLine
from kenning.services import ledger, loyalty
from kenning.store import Store


def test_fifty_concurrent_redemptions_never_overspend_one_gift_card(
    store: Store, store_url: str
) -> None:
    card = ledger.issue_gift_card(store, 10_000, "GBP", now=NOW)  # £100
    assert card.code is not None
    code = card.code

    def shopper(own: Store) -> str:
        try:
            ledger.redeem_gift_card(own, code, 700, key=f"till-{id(own)}", now=NOW)  # £7 each
            return "ok"
        except LedgerError as exc:
            return exc.code

    outcomes = all_at_once(store_url, 50, shopper)
    assert outcomes.count("ok") == 14  # 14 × £7 = £98 ≤ £100 < 15 × £7
    assert outcomes.count("insufficient_funds") == 36
    assert ledger.get_account(store, card.account_id).balance == 200
    assert ledger.get_account(store, "system:redemption:GBP").balance == 9_800
    assert books_balance(store)


def test_concurrent_retries_of_one_redemption_post_once(store: Store, store_url: str) -> None:
    card = ledger.issue_gift_card(store, 5_000, "GBP", now=NOW)
    assert card.code is not None
    code = card.code
    answers = all_at_once(
        store_url, 8, lambda own: ledger.redeem_gift_card(own, code, 1_500, key="pay-1", now=NOW)
    )
    assert all(a == answers[0] for a in answers)
    assert ledger.get_account(store, card.account_id).balance == 3_500
    assert books_balance(store)


def test_transfers_both_ways_at_once_never_deadlock(store: Store, store_url: str) -> None:
    a = ledger.issue_gift_card(store, 10_000, "GBP", now=NOW).account_id
    b = ledger.issue_gift_card(store, 10_000, "GBP", now=NOW).account_id
    counter = iter(range(1000))

    def mover(own: Store) -> int:
        n = next(counter)
        source, target = (a, b) if n % 2 else (b, a)
        for step in range(5):
            ledger.transfer(own, source, target, 100, "GBP", key=f"t-{n}-{step}", now=NOW)
        return n

    assert len(all_at_once(store_url, 8, mover)) == 8
    total = ledger.get_account(store, a).balance + ledger.get_account(store, b).balance
    assert total == 20_000 and books_balance(store)


def test_concurrent_refunds_of_one_order_refund_it_once(store: Store, store_url: str) -> None:
    card = ledger.issue_gift_card(store, 10_000, "GBP", customer_id="c1", now=NOW)
    assert card.code is not None
    ledger.redeem_gift_card(store, card.code, 4_000, order_id="o1", now=NOW)
    loyalty.earn_for_order(
        store, "o1", "c1", [EarnLine("BAG", 4_000)], channel="web", currency="GBP", now=NOW
    )

    def refund(own: Store) -> str:
        try:
            loyalty.refund_order(own, "o1", key=f"refund-{id(own)}", now=NOW)
            return "ok"
        except LedgerError as exc:
            return exc.code

    outcomes = all_at_once(store_url, 6, refund)
    assert sorted(outcomes) == ["conflict"] * 5 + ["ok"]
    assert ledger.get_account(store, card.account_id).balance == 10_000
    assert ledger.get_account(store, loyalty.points_account_id("c1")).balance == 0
    assert books_balance(store)


def test_concurrent_spending_on_a_merged_customer_never_overspends(
    store: Store, store_url: str
) -> None:
    for customer in ("cus_a", "cus_b", "cus_c"):
        ledger.issue_to_customer(store, customer, "store_credit", 1_000, "GBP", now=NOW)
    with store.transaction():
        store.append_identity_changes([("merge", "cus_a", {"others": ["cus_b", "cus_c"]})])

    counter = iter(range(1000))

    def shopper(own: Store) -> str:
        # Most spend as the survivor (following the merge at once), some as a merged id.
        who = "cus_b" if next(counter) % 5 == 0 else "cus_a"
        try:
            ledger.redeem_customer(own, who, "store_credit", "GBP", 400, now=NOW)
            return "ok"
        except LedgerError as exc:
            return exc.code

    outcomes = all_at_once(store_url, 20, shopper)
    assert set(outcomes) <= {"ok", "insufficient_funds"}
    assert outcomes.count("ok") * 400 <= 3_000
    left = sum(
        ledger.get_account(store, f"store_credit:GBP:{c}").balance
        for c in ("cus_a", "cus_b", "cus_c")
    )
    assert left == 3_000 - outcomes.count("ok") * 400 and left < 400
    assert books_balance(store)
