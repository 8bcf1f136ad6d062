"""Price books, promotions and coupon uses in the store, on both backends: limits hold
under concurrency, and a retry with the same idempotency key counts nothing again."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from pricing_data import ENTRIES, NOW

from concurrent_clients import all_at_once
from kenning.commerce.pricing.engine import Basket, BasketLine
from kenning.commerce.pricing.errors import PricingError
from kenning.commerce.pricing.promotions import Coupon, Promotion
from kenning.domain.refusals import Refusal
from kenning.services.pricing import price, redeem_coupon, save_prices, save_promotions
from kenning.store import Store

SAVE = Promotion("save", "percent_off", Decimal(10), coupon=Coupon("SAVE10", 5, 2))


@pytest.fixture
def priced(store: Store) -> Store:
    save_prices(store, ENTRIES)
    save_promotions(store, [SAVE], NOW)
    return store


def _basket(customer: str | None = None) -> Basket:
    return Basket((BasketLine("BAG-1", 1),), "pos", "GB", customer_id=customer, coupons=("save10",))


def test_coupon_limits_and_idempotent_redemption(priced: Store) -> None:
    assert price(priced, _basket("c1"), NOW).total == Decimal("90.00")
    first = redeem_coupon(priced, "save10", "c1", "order-1", "k1", NOW)
    again = redeem_coupon(priced, "SAVE10", "c1", "order-1", "k1", NOW)
    assert again == first and first.uses == 1
    with pytest.raises(Refusal) as mismatch:
        redeem_coupon(priced, "SAVE10", "c2", "order-9", "k1", NOW)
    assert mismatch.value.code == "idempotency_mismatch"
    redeem_coupon(priced, "SAVE10", "c1", "order-2", "k2", NOW)
    with pytest.raises(PricingError) as refused:
        redeem_coupon(priced, "SAVE10", "c1", "order-3", "k3", NOW)
    assert refused.value.code == "coupon_exhausted"
    # The refusal is the key's answer; the customer's coupon no longer prices.
    with pytest.raises(Refusal) as replayed:
        redeem_coupon(priced, "SAVE10", "c1", "order-3", "k3", NOW)
    assert replayed.value.code == "coupon_exhausted"
    spent = price(priced, _basket("c1"), NOW)
    assert spent.total == Decimal("100.00")
    assert spent.coupons_rejected == (("save10", "no uses left for this customer"),)
    assert price(priced, _basket("c2"), NOW).total == Decimal("90.00")
    with pytest.raises(PricingError) as unknown:
        redeem_coupon(priced, "NOPE", None, None, "k4", NOW)
    assert unknown.value.code == "not_found"
    assert priced.coupon_redemption_count("SAVE10") == 2


def test_total_limit_holds_under_concurrency(priced: Store, store_url: str) -> None:
    numbers = itertools.count()

    def client(own: Store) -> list[str]:
        n = next(numbers)
        outcome: list[str] = []
        for attempt in range(2):  # each client retries its own key once
            try:
                redeem_coupon(own, "SAVE10", f"c{n}", f"o{n}", f"key-{n}", NOW)
                outcome.append("ok")
            except Refusal as exc:
                outcome.append(exc.code)
            except Exception as exc:
                if not own.is_transient(exc) or attempt:
                    raise
        return outcome

    results = all_at_once(store_url, 12, client)
    assert len(results) == 12
    # A retry answers as the first time; exactly the limit succeeded, and was counted once.
    assert all(len(set(r)) == 1 for r in results)
    assert sum(r[0] == "ok" for r in results) == 5
    assert priced.coupon_redemption_count("SAVE10") == 5
    assert price(priced, _basket("c99"), NOW).coupons_rejected == (("save10", "no uses left"),)


def test_catalogue_follows_writes(priced: Store) -> None:
    assert price(priced, _basket(), NOW).total == Decimal("90.00")
    save_promotions(
        priced, [Promotion("save", "percent_off", Decimal(20), coupon=SAVE.coupon)], NOW
    )
    assert price(priced, _basket(), NOW).total == Decimal("80.00")
    # The coupon keeps its uses when its promotion is loaded again.
    redeem_coupon(priced, "SAVE10", None, None, None, NOW)
    save_promotions(priced, [SAVE], NOW)
    assert priced.coupon_uses(["SAVE10"], None)[0][1] == 1
