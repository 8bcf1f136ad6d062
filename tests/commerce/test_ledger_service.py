"""The ledger's services on both backends: gift cards, idempotency, lots and expiry,
earning, refunds, goodwill and its audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ledger_data import NOW, books_balance

from kenning.commerce.ledger.errors import LedgerError
from kenning.commerce.ledger.loyalty import Campaign, EarnLine, EarnRule, Programme, Tier
from kenning.commerce.ledger.postings import Posting
from kenning.domain.refusals import Refusal
from kenning.services import ledger, loyalty
from kenning.store import Store


def _balance(store: Store, account_id: str) -> int:
    return ledger.get_account(store, account_id).balance


def test_a_gift_card_is_issued_redeemed_and_never_overdrawn(store: Store) -> None:
    card = ledger.issue_gift_card(store, 5_000, "GBP", customer_id="c1", now=NOW)
    assert card.code is not None and card.last4 == card.code[-4:]
    spent = ledger.redeem_gift_card(store, card.code, 1_250, order_id="o1", now=NOW)
    assert [(p.account_id, p.amount) for p in spent.postings] == [
        (card.account_id, -1_250),
        ("system:redemption:GBP", 1_250),
    ]
    assert ledger.get_transaction(store, spent.id) == spent
    with pytest.raises(LedgerError) as short:
        ledger.redeem_gift_card(store, card.code, 3_751, now=NOW)
    assert short.value.code == "insufficient_funds"
    assert _balance(store, card.account_id) == 3_750
    assert _balance(store, "system:issuance:GBP") == -5_000
    with pytest.raises(LedgerError, match="no gift card"):
        ledger.redeem_gift_card(store, "AAAA-BBBB-CCCC-DDDD", 1, now=NOW)
    # Only the code's hash is kept.
    assert not store._query("SELECT 1 FROM ledger_accounts WHERE code_hash = ?", (card.code,))
    assert books_balance(store)


def test_a_retried_redemption_with_the_same_key_posts_once(store: Store) -> None:
    card = ledger.issue_gift_card(store, 5_000, "GBP", now=NOW, key="sell-1")
    assert card.code is not None
    first = ledger.redeem_gift_card(store, card.code, 2_000, key="pay-1", now=NOW)
    again = ledger.redeem_gift_card(store, card.code, 2_000, key="pay-1", now=NOW)
    assert again == first
    assert _balance(store, card.account_id) == 3_000
    assert store.ledger_counts()[2] == 4  # issue and one redemption: two postings each
    with pytest.raises(Refusal) as mismatch:
        ledger.redeem_gift_card(store, card.code, 2_500, key="pay-1", now=NOW)
    assert mismatch.value.code == "idempotency_mismatch"
    # The retried issue answers with the same card, but the code is shown only once.
    repeat = ledger.issue_gift_card(store, 5_000, "GBP", now=NOW, key="sell-1")
    assert repeat.account_id == card.account_id and repeat.code is None
    answers = store._query("SELECT response FROM idempotency_keys")
    assert all(card.code not in str(row[0]) for row in answers)
    # A refusal is the first answer too.
    with pytest.raises(LedgerError, match="holds 3000"):
        ledger.redeem_gift_card(store, card.code, 9_000, key="pay-2", now=NOW)
    with pytest.raises(Refusal, match="holds 3000"):
        ledger.redeem_gift_card(store, card.code, 9_000, key="pay-2", now=NOW)


def test_store_credit_spends_soonest_expiring_first_and_the_rest_expires(store: Store) -> None:
    soon, later = NOW + timedelta(days=10), NOW + timedelta(days=100)
    ledger.issue_to_customer(store, "c1", "store_credit", 1_000, "GBP", expires_at=later, now=NOW)
    ledger.issue_to_customer(store, "c1", "store_credit", 500, "GBP", expires_at=soon, now=NOW)
    ledger.issue_to_customer(store, "c1", "store_credit", 300, "GBP", now=NOW)  # never expires
    account = ledger.customer_account(store, "c1", "store_credit", "GBP")
    spent = ledger.redeem(store, account, 700, now=NOW + timedelta(days=1))
    # 500 from the lot expiring in 10 days, then 200 from the one in 100 days.
    assert [p.amount for p in spent.postings if p.account_id == account.id] == [-500, -200]
    # Past 100 days, 800 is left in the expired lot: not spendable, then moved out.
    late = NOW + timedelta(days=101)
    with pytest.raises(LedgerError, match="300 of 400 available before expiry"):
        ledger.redeem(store, ledger.get_account(store, account.id), 400, now=late)
    view = ledger.account_balance(store, ledger.get_account(store, account.id), late)
    assert (view.balance, view.available, view.next_expiry) == (1_100, 300, None)
    assert ledger.expire_due(store, late) == 1
    assert ledger.expire_due(store, late) == 0
    assert _balance(store, account.id) == 300
    assert _balance(store, "system:expiry:GBP") == 800
    assert books_balance(store)


PROGRAMME = Programme(
    rules=(EarnRule(1), EarnRule(2, category="luggage")),
    campaigns=(
        Campaign("black friday", "2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z", 200, 0, "web"),
    ),
    tiers=(Tier("gold", 20_000, 150),),
    points_expire_days=365,
)


def test_points_are_earned_by_the_rules_and_tiers_come_from_spend(store: Store) -> None:
    loyalty.save_programme(store, PROGRAMME, NOW)
    assert loyalty.load_programme(store) == PROGRAMME
    lines = [EarnLine("SUITCASE", 15_000, "luggage"), EarnLine("TAG", 1_000, "tags")]
    first = loyalty.earn_for_order(
        store, "o1", "c1", lines, channel="store", currency="GBP", now=NOW, key="e1"
    )
    assert first.earned.points == 310 and first.earned.tier is None
    with pytest.raises(LedgerError, match="already earned"):
        loyalty.earn_for_order(store, "o1", "c1", lines, channel="store", currency="GBP", now=NOW)
    # £160 spent so far; the next £100 on the web during the campaign.
    web = loyalty.earn_for_order(
        store, "o2", "c1", [EarnLine("BAG", 10_000, "bags")], channel="web", currency="GBP", now=NOW
    )
    assert web.earned.points == 200 and web.earned.tier is None
    balances = loyalty.customer_balances(store, "c1", NOW)
    assert balances.rolling_spend == 26_000 and balances.tier == "gold"
    [points] = balances.accounts
    assert (points.kind, points.balance, points.available) == ("loyalty_points", 510, 510)
    assert points.next_expiry is not None and points.next_expiry.startswith("2027-11-27")
    # Gold now: 150 % of the base points.
    third = loyalty.earn_for_order(
        store, "o3", "c1", [EarnLine("TAG", 1_000)], channel="store", currency="GBP", now=NOW
    )
    assert third.earned.tier == "gold" and third.earned.points == 15
    # A year on, the window has moved past the spend and the points have expired.
    later = NOW + timedelta(days=366)
    assert loyalty.customer_balances(store, "c1", later).tier is None
    assert ledger.expire_due(store, later) == 3
    assert _balance(store, loyalty.points_account_id("c1")) == 0
    assert books_balance(store)


def test_a_refund_reverses_what_the_order_earned_and_spent(store: Store) -> None:
    card = ledger.issue_gift_card(store, 10_000, "GBP", customer_id="c1", now=NOW)
    assert card.code is not None
    ledger.redeem_gift_card(store, card.code, 6_000, order_id="o1", now=NOW)
    loyalty.earn_for_order(
        store, "o1", "c1", [EarnLine("BAG", 9_000)], channel="store", currency="GBP", now=NOW
    )
    points = loyalty.points_account_id("c1")
    assert _balance(store, points) == 90
    # A third of the order comes back: £20 to the card, 30 points back.
    third = loyalty.refund_order(store, "o1", amount=3_000, now=NOW, key="r1")
    assert third.refunded == 3_000 and third.forgiven == {}
    assert _balance(store, card.account_id) == 6_000 and _balance(store, points) == 60
    assert loyalty.refund_order(store, "o1", amount=3_000, now=NOW, key="r1") == third
    # The customer spends 50 of the 60 points left; the rest of the order is refunded.
    ledger.redeem(store, ledger.get_account(store, points), 50, now=NOW)
    rest = loyalty.refund_order(store, "o1", now=NOW)
    assert rest.refunded == 6_000 and rest.forgiven == {points: 50}
    assert _balance(store, card.account_id) == 10_000 and _balance(store, points) == 0
    assert loyalty.customer_balances(store, "c1", NOW).rolling_spend == 0
    with pytest.raises(LedgerError, match="nothing left"):
        loyalty.refund_order(store, "o1", now=NOW)
    with pytest.raises(LedgerError, match="no ledger transactions"):
        loyalty.refund_order(store, "nope", now=NOW)
    assert books_balance(store)


def test_goodwill_is_given_with_a_reason_and_audited(store: Store) -> None:
    gift = loyalty.goodwill(
        store,
        "c1",
        "gift_card",
        2_500,
        "GBP",
        reason="suitcase handle broke on first trip",
        associate_id="assoc-17",
        now=NOW,
    )
    assert gift.card is not None and gift.card.code is not None
    assert gift.transaction.kind == "goodwill"
    credit = loyalty.goodwill(
        store,
        "c1",
        "store_credit",
        1_000,
        "GBP",
        reason="late delivery",
        associate_id="a-2",
        now=NOW,
    )
    assert _balance(store, "system:goodwill:GBP") == -3_500
    trail = store.audit_rows("c1")
    assert [(r[1], r[2], r[6]) for r in trail] == [
        ("a-2", "store_credit.goodwill", "late delivery"),
        ("assoc-17", "gift_card.goodwill", "suitcase handle broke on first trip"),
    ]
    assert trail[0][5] == credit.transaction.id
    kinds = {a.kind for a in loyalty.customer_balances(store, "c1", NOW).accounts}
    assert kinds == {"gift_card", "store_credit"}
    with pytest.raises(LedgerError, match="reason"):
        loyalty.goodwill(store, "c1", "store_credit", 1, "GBP", reason=" ", associate_id="a")


def test_generic_transactions_and_transfers_must_balance(store: Store) -> None:
    card = ledger.issue_gift_card(store, 1_000, "GBP", now=NOW).account_id
    ledger.issue_to_customer(store, "c1", "store_credit", 1, "GBP", now=NOW)
    credit = ledger.customer_account(store, "c1", "store_credit", "GBP").id
    ledger.transfer(store, card, credit, 400, "GBP", now=NOW, actor="a-1", reason="merge")
    assert (_balance(store, card), _balance(store, credit)) == (600, 401)
    with pytest.raises(LedgerError, match="sum to zero"):
        ledger.post_transaction(
            store, "adjust", [Posting(card, "GBP", -1), Posting("system:adjustment:GBP", "GBP", 2)]
        )
    with pytest.raises(LedgerError, match="holds GBP, not USD"):
        ledger.transfer(store, card, credit, 1, "USD", now=NOW)
    with pytest.raises(LedgerError, match="no account"):
        ledger.transfer(store, card, "gc_nope", 1, "GBP", now=NOW)
    with pytest.raises(LedgerError, match="system accounts are one of"):
        ledger.post_transaction(
            store, "adjust", [Posting(card, "GBP", -1), Posting("system:bank:GBP", "GBP", 1)]
        )
    with pytest.raises(LedgerError, match="is not in GBP"):
        ledger.post_transaction(
            store, "adjust", [Posting(card, "GBP", -1), Posting("system:adjustment:USD", "GBP", 1)]
        )
    assert (_balance(store, card), _balance(store, credit)) == (600, 401)
    assert books_balance(store)
