"""The ledger's pure rules: zero-sum transactions, lots, earn rules, tiers, refund reversal."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kenning.commerce.ledger.cards import canonical, code_hash, last4, new_code
from kenning.commerce.ledger.errors import LedgerError
from kenning.commerce.ledger.lots import Lot, allocate, next_expiry, spendable, spending_order
from kenning.commerce.ledger.loyalty import (
    Campaign,
    EarnLine,
    EarnRule,
    Programme,
    Tier,
    earn,
    programme_from_dict,
    tier_for,
)
from kenning.commerce.ledger.postings import (
    Posting,
    check_postings,
    system_account_id,
    unbalanced_units,
)
from kenning.commerce.ledger.refunds import cap_debits, reversal

NOW = "2026-11-27T10:00:00.000000Z"
LATER = "2027-01-01T00:00:00.000000Z"
SOON = "2026-12-01T00:00:00.000000Z"
PAST = "2026-11-01T00:00:00.000000Z"


def test_postings_must_sum_to_zero_in_every_unit() -> None:
    card, issue = "gc_1", system_account_id("issuance", "GBP")
    assert len(check_postings([Posting(card, "GBP", 500), Posting(issue, "GBP", -500)])) == 2
    with pytest.raises(LedgerError, match="sum to zero"):
        check_postings([Posting(card, "GBP", 500), Posting(issue, "GBP", -499)])
    # Balanced in total but not per unit.
    with pytest.raises(LedgerError, match="every unit"):
        check_postings([Posting(card, "GBP", 5), Posting(issue, "USD", -5)])
    with pytest.raises(LedgerError, match="at least two"):
        check_postings([Posting(card, "GBP", 0)])
    with pytest.raises(LedgerError, match="moves nothing"):
        check_postings([Posting(card, "GBP", 0), Posting(issue, "GBP", 0)])
    with pytest.raises(LedgerError, match="whole numbers"):
        check_postings([Posting(card, "GBP", 1.5), Posting(issue, "GBP", -1.5)])  # type: ignore[arg-type]


def test_lots_spend_soonest_expiring_first_and_never_expired_value() -> None:
    lots = [
        Lot("never", 100, None, "2026-01-01"),
        Lot("later", 100, LATER, "2026-01-02"),
        Lot("soon", 50, SOON, "2026-01-03"),
        Lot("gone", 70, PAST, "2026-01-04"),
    ]
    assert [lot.id for lot in spending_order(lots)] == ["gone", "soon", "later", "never"]
    assert allocate(lots, 120, NOW) == [("soon", 50), ("later", 70)]
    assert allocate(lots, 250, NOW) == [("soon", 50), ("later", 100), ("never", 100)]
    assert spendable(lots, NOW) == 250
    with pytest.raises(LedgerError) as short:
        allocate(lots, 251, NOW)
    assert short.value.code == "insufficient_funds"
    assert next_expiry(lots, NOW) == (SOON, 50)
    assert next_expiry([Lot("never", 5, None)], NOW) is None


PROGRAMME = Programme(
    rules=(
        EarnRule(1),
        EarnRule(2, channel="web"),
        EarnRule(3, category="luggage"),
        EarnRule(5, channel="web", category="luggage"),
    ),
    campaigns=(
        Campaign("double bags", PAST, LATER, multiplier_percent=200, category="bags"),
        Campaign("triple web", PAST, LATER, multiplier_percent=300, channel="web"),
        Campaign("welcome", PAST, LATER, bonus_points=50, channel="store"),
        Campaign("over", "2020-01-01", "2020-02-01", multiplier_percent=1000),
    ),
    tiers=(Tier("silver", 50_000, 125), Tier("gold", 200_000, 150)),
)


def test_the_most_specific_rule_and_the_best_campaign_apply() -> None:
    lines = [
        EarnLine("SUITCASE", 12_999, "luggage"),  # £129.99
        EarnLine("BAG", 5_050, "bags"),
        EarnLine("TAG", 99, "tags"),  # under £1: no points
    ]
    store = earn(PROGRAMME, lines, channel="store", currency="GBP", at=NOW)
    # luggage rule 3/£: 389; bags default 1/£ doubled: 100; tags 0; store bonus 50.
    assert [(ln.base, ln.points, ln.campaign) for ln in store.lines] == [
        (389, 389, None),
        (50, 100, "double bags"),
        (0, 0, None),
    ]
    assert store.bonuses == (("welcome", 50),)
    assert store.points == 539 and store.tier is None
    web = earn(PROGRAMME, lines, channel="web", currency="GBP", at=NOW)
    # web+luggage 5/£ = 649 tripled; bags 2/£ = 101, best of double and triple; tag 1.
    assert [ln.points for ln in web.lines] == [1947, 303, 3]
    assert web.points == 2253


def test_tiers_come_from_rolling_spend_and_multiply_points() -> None:
    assert tier_for(PROGRAMME.tiers, 49_999) is None
    assert tier_for(PROGRAMME.tiers, 50_000) == Tier("silver", 50_000, 125)
    assert tier_for(PROGRAMME.tiers, 10**9) == Tier("gold", 200_000, 150)
    line = [EarnLine("TAG", 1_000, "tags")]
    gold = earn(PROGRAMME, line, channel="phone", currency="GBP", at=NOW, spend=250_000)
    assert gold.tier == "gold" and gold.points == 15  # 10 * 150 %
    # Zero-decimal currencies: 1,000 yen earn 1,000 points at 1 per yen.
    yen = earn(Programme(), [EarnLine("TAG", 1_000)], channel="store", currency="JPY", at=NOW)
    assert yen.points == 1_000


def test_a_programme_round_trips_as_data() -> None:
    assert programme_from_dict(PROGRAMME.to_dict()) == PROGRAMME
    with pytest.raises(LedgerError):
        programme_from_dict({"rules": [{"points": 1}]})
    with pytest.raises(LedgerError, match="ends before"):
        programme_from_dict({"campaigns": [{"name": "x", "starts_at": LATER, "ends_at": NOW}]})


HOLDINGS = [
    ("gc_1", "GBP", "lot_a", -3_000),  # the order spent £30 from a gift card
    ("system:redemption:GBP", "GBP", None, 3_000),
    ("loyalty_points:PTS:c1", "PTS", "lot_p", 101),  # and earned 101 points
    ("system:rewards:PTS", "PTS", None, -101),
]


def test_a_full_refund_reverses_everything_the_order_earned_and_spent() -> None:
    back = reversal(HOLDINGS, None, None)
    assert back == [
        Posting("gc_1", "GBP", 3_000, "lot_a"),  # value goes back to its lot
        Posting("system:redemption:GBP", "GBP", -3_000),
        Posting("loyalty_points:PTS:c1", "PTS", -101),  # points taken soonest-expiring first
        Posting("system:rewards:PTS", "PTS", 101),
    ]
    check_postings(back)


def test_a_partial_refund_reverses_its_share_and_still_balances() -> None:
    back = reversal(HOLDINGS, 1_000, 3_000)  # a third
    assert [p.amount for p in back] == [1_000, -1_000, -33, 33]
    check_postings(back)
    with pytest.raises(LedgerError, match="between 1 and 3000"):
        reversal(HOLDINGS, 3_001, 3_000)
    with pytest.raises(LedgerError, match="order's total"):
        reversal(HOLDINGS, 10, None)


def test_points_already_spent_are_forgiven_not_taken_below_zero() -> None:
    capped, short = cap_debits(reversal(HOLDINGS, None, None), {"loyalty_points:PTS:c1": 40})
    assert [p.amount for p in capped if p.unit == "PTS"] == [-40, 40]
    assert short == {"loyalty_points:PTS:c1": 61}
    check_postings(capped)


def test_gift_card_codes_are_random_and_typed_any_way() -> None:
    code = new_code()
    assert len(code) == 19 and code.count("-") == 3 and code != new_code()
    assert canonical(code.lower().replace("-", " ")) == code.replace("-", "")
    assert code_hash(code) == code_hash(code.lower()) and last4(code) == code[-4:]
    with pytest.raises(LedgerError):
        canonical("0000-1111")


@given(
    st.lists(
        st.tuples(st.integers(1, 10_000), st.sampled_from([None, PAST, SOON, LATER])),
        min_size=1,
        max_size=8,
    ),
    st.integers(1, 80_000),
)
def test_allocation_takes_exactly_the_amount_from_unexpired_lots(
    lots: list[tuple[int, str | None]], amount: int
) -> None:
    given_lots = [Lot(f"l{i}", n, e) for i, (n, e) in enumerate(lots)]
    by_id = {lot.id: lot for lot in given_lots}
    if amount > spendable(given_lots, NOW):
        with pytest.raises(LedgerError):
            allocate(given_lots, amount, NOW)
        return
    taken = allocate(given_lots, amount, NOW)
    assert sum(n for _, n in taken) == amount
    assert all(0 < n <= by_id[lot].remaining and not by_id[lot].expired(NOW) for lot, n in taken)


@given(st.integers(1, 50_000), st.integers(0, 5_000), st.integers(1, 60_000))
def test_any_partial_refund_balances(spent: int, points: int, total: int) -> None:
    holdings = [
        ("gc_1", "GBP", "lot_a", -spent),
        ("system:redemption:GBP", "GBP", None, spent),
        ("loyalty_points:PTS:c1", "PTS", "lot_p", points),
        ("system:rewards:PTS", "PTS", None, -points),
    ]
    for amount in {1, total // 3 or 1, total}:
        back = reversal(holdings, amount, total)
        assert not unbalanced_units(back)
        held = {(a, u): n for a, u, _, n in holdings}
        assert all(abs(p.amount) <= abs(held[(p.account_id, p.unit)]) for p in back)
