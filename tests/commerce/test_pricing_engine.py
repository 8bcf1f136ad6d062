"""The pricing engine: price precedence, each promotion kind, the order, rounding."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pricing_data import BOOK, DAY, ENTRIES, NOW, basket

from kenning.commerce.pricing.engine import price_basket
from kenning.commerce.pricing.errors import PricingError
from kenning.commerce.pricing.money import allocate, parse_amount, round_money
from kenning.commerce.pricing.pricebook import PriceBook, PriceEntry, check_entry, resolve_price
from kenning.commerce.pricing.promotions import Coupon, Promotion, Target, check_promotion

D = Decimal


def test_money_rounds_per_currency_and_allocates_exactly() -> None:
    assert round_money(D("1.005"), "GBP") == D("1.01")
    assert round_money(D("1234.5"), "JPY") == D("1235")
    assert round_money(D("1.0005"), "KWD") == D("1.001")
    parts = allocate(D("10.00"), [D(1), D(1), D(1)], "GBP")
    assert parts == [D("3.34"), D("3.33"), D("3.33")] and sum(parts) == D("10.00")
    assert sum(allocate(D("0.05"), [D("33.33"), D("10"), D("0.01")], "GBP")) == D("0.05")
    with pytest.raises(PricingError):
        parse_amount("1.001", "GBP")
    with pytest.raises(PricingError):
        parse_amount("-1", "GBP")


def test_price_precedence_and_effective_dates() -> None:
    entries = [
        PriceEntry("X", "GB", "GBP", D("50")),
        PriceEntry("X", "GB", "GBP", D("45"), "channel", channel="web"),
        PriceEntry("X", "GB", "GBP", D("47"), "group", customer_group="staff"),
        PriceEntry("X", "GB", "GBP", D("49"), "sale", starts_at=NOW - DAY, ends_at=NOW + DAY),
        PriceEntry("X", "GB", "GBP", D("30"), "sale", starts_at=NOW + DAY),
    ]
    choose = lambda ch, groups, at=NOW: resolve_price(entries, ch, groups, at)  # noqa: E731
    sale = choose("pos", ["staff"])
    assert sale is not None and sale.entry.price == D("49") and "sale" in sale.why
    # Explicit precedence: the sale wins even where the channel price is lower.
    assert choose("web", [])  # type: ignore[union-attr]
    assert choose("web", []).entry.price == D("49")  # type: ignore[union-attr]
    after = NOW + 2 * DAY
    assert choose("web", [], after).entry.price == D("30")  # type: ignore[union-attr]
    without_sale = entries[:3]
    assert resolve_price(without_sale, "web", ["staff"], NOW).entry.price == D("47")  # type: ignore[union-attr]
    assert resolve_price(without_sale, "web", [], NOW).entry.price == D("45")  # type: ignore[union-attr]
    assert resolve_price(without_sale, "pos", [], NOW).entry.price == D("50")  # type: ignore[union-attr]
    assert resolve_price(entries, "pos", [], NOW - 3 * DAY).entry.price == D("50")  # type: ignore[union-attr]


def test_no_price_is_refused() -> None:
    with pytest.raises(PricingError) as refused:
        price_basket(basket(("NOPE", 1)), BOOK, [], NOW)
    assert refused.value.code == "not_found"


def _total(promotions: list[Promotion], *lines: tuple[str, int], **more: object) -> Decimal:
    return price_basket(basket(*lines, **more), BOOK, promotions, NOW).total  # type: ignore[arg-type]


def test_each_item_kind() -> None:
    pct = Promotion("p", "percent_off", D(10), target=Target(skus=frozenset({"BAG-1"})))
    assert _total([pct], ("BAG-1", 2), ("TAG-2", 1)) == D("190.00")
    amount = Promotion("a", "amount_off", D(3), currency="GBP", max_quantity=2)
    assert _total([amount], ("TAG-2", 3)) == D("24.00")
    fixed = Promotion("f", "fixed_price", D(8), currency="GBP")
    assert _total([fixed], ("TAG-2", 2), ("PURSE-3", 1)) == D("24.00")  # 8 + 8 + 8
    b2g1 = Promotion("b", "buy_x_get_y", D(100), buy=2, get=1, max_applications=2)
    # 7 units: two whole groups (capped at 2), the cheapest of each group free.
    priced = price_basket(basket(("BAG-1", 3), ("TAG-2", 4)), BOOK, [b2g1], NOW)
    assert priced.discount == D("110.00")  # one bag (3rd dearest) + one tag free
    half = Promotion("h", "buy_x_get_y", D(50), buy=1, get=1)
    assert _total([half], ("TAG-2", 4)) == D("30.00")


def test_basket_kinds_thresholds_and_shipping() -> None:
    tenner = Promotion("t", "basket_amount_off", D(10), currency="GBP", min_subtotal=D(100))
    assert _total([tenner], ("TAG-2", 9)) == D("90.00")  # 90 < 100: nothing
    priced = price_basket(basket(("PURSE-3", 3), ("TAG-2", 1)), BOOK, [tenner], NOW)
    assert priced.total == D("99.99")
    parts = [a.amount for a in priced.adjustments]
    assert sum(parts) == D("10.00") and len(parts) == 2
    assert all(line.total == line.subtotal - line.discount for line in priced.lines)
    ship = Promotion("s", "free_shipping", min_subtotal=D(50), currency="GBP")
    with_ship = basket(("TAG-2", 5), shipping=D("4.95"))
    assert price_basket(with_ship, BOOK, [ship], NOW).total == D("50.00")
    # The threshold counts after the item discounts before it.
    pct = Promotion("p", "percent_off", D(10))
    assert price_basket(with_ship, BOOK, [ship, pct], NOW).total == D("49.95")


def test_order_stacking_and_exclusivity() -> None:
    a = Promotion("a", "percent_off", D(10), priority=2)
    b = Promotion("b", "percent_off", D(10), priority=1)
    assert _total([a, b], ("BAG-1", 1)) == D("81.00")  # compounding, in priority order
    lone = Promotion("c", "percent_off", D(15), priority=5, stackable=False)
    priced = price_basket(basket(("BAG-1", 1)), BOOK, [a, b, lone], NOW)
    assert priced.total == D("85.00")
    assert [x.promotion_id for x in priced.adjustments] == ["c"]
    exclusive = Promotion("x", "percent_off", D(25), exclusive=True)
    assert _total([a, b, exclusive], ("BAG-1", 1)) == D("75.00")
    weak = Promotion("w", "percent_off", D(5), exclusive=True)
    priced = price_basket(basket(("BAG-1", 1)), BOOK, [a, b, weak], NOW)
    assert priced.total == D("81.00") and "passed over" in priced.notes[0]
    basket_once = Promotion("y", "basket_percent_off", D(10), stackable=False, priority=9)
    basket_too = Promotion("z", "basket_amount_off", D(5), currency="GBP")
    assert _total([basket_once, basket_too], ("BAG-1", 1)) == D("90.00")


def test_targeting() -> None:
    only_pos = Promotion("p", "percent_off", D(50), target=Target(channels=frozenset({"pos"})))
    assert _total([only_pos], ("TAG-2", 1)) == D("10.00")
    assert _total([only_pos], ("TAG-2", 1), channel="pos") == D("5.00")
    store = Promotion("s", "percent_off", D(50), target=Target(stores=frozenset({"LDN"})))
    assert _total([store], ("TAG-2", 1), store="LDN") == D("5.00")
    assert _total([store], ("TAG-2", 1), store="MAN") == D("10.00")
    vip = Promotion("v", "percent_off", D(50), target=Target(segments=frozenset({"vip"})))
    assert _total([vip], ("TAG-2", 1), segments=frozenset({"vip"})) == D("5.00")
    trait = Promotion("t", "percent_off", D(50), target=Target(traits={"tier": "gold"}))
    assert _total([trait], ("TAG-2", 1), traits={"tier": "gold"}) == D("5.00")
    assert _total([trait], ("TAG-2", 1), traits={"tier": "blue"}) == D("10.00")
    later = Promotion("l", "percent_off", D(50), starts_at=NOW + DAY)
    assert _total([later], ("TAG-2", 1)) == D("10.00")
    hers = Promotion("h", "percent_off", D(50), target=Target(customers=frozenset({"c1"})))
    assert _total([hers], ("TAG-2", 1), customer_id="c1") == D("5.00")
    assert _total([hers], ("TAG-2", 1), customer_id="c2") == D("10.00")
    assert _total([hers], ("TAG-2", 1)) == D("10.00")


def test_coupons_need_their_code_and_uses_left() -> None:
    promo = Promotion("c", "percent_off", D(20), coupon=Coupon("SAVE20", total_limit=10))
    assert _total([promo], ("TAG-2", 1)) == D("10.00")
    priced = price_basket(basket(("TAG-2", 1), coupons=("save20", "BOGUS")), BOOK, [promo], NOW)
    assert priced.total == D("8.00") and priced.coupons_applied == ("save20",)
    assert priced.coupons_rejected == (("BOGUS", "unknown coupon"),)
    spent = price_basket(
        basket(("TAG-2", 1), coupons=("SAVE20",)), BOOK, [promo], NOW, {"SAVE20": "used up"}
    )
    assert spent.total == D("10.00") and spent.coupons_rejected == (("SAVE20", "used up"),)


def test_currency_and_checks() -> None:
    assert _total([], ("BAG-1", 1), market="US") == D("120.00")
    gbp_off = Promotion("g", "amount_off", D(5), currency="GBP")
    assert _total([gbp_off], ("BAG-1", 1), market="US") == D("120.00")
    with pytest.raises(PricingError):
        check_promotion(Promotion("x", "buy_x_get_y", D(100)))
    with pytest.raises(PricingError):
        check_promotion(Promotion("x", "amount_off", D(5)))
    with pytest.raises(PricingError):
        price_basket(basket(("BAG-1", 1), currency="EUR"), PriceBook(ENTRIES), [], NOW)


def test_an_exclusive_coupon_that_saves_less_is_explained() -> None:
    ten = Promotion("ten", "percent_off", D(10))
    five = Promotion("five", "percent_off", D(5), exclusive=True, coupon=Coupon("FIVE"))
    priced = price_basket(basket(("BAG-1", 1), coupons=("FIVE",)), BOOK, [ten, five], NOW)
    assert priced.total == D("90.00")
    assert priced.coupons_rejected == (
        ("FIVE", "exclusive, and saves less than the other promotions"),
    )


def test_times_without_a_zone_are_refused() -> None:
    naive = NOW.replace(tzinfo=None)
    with pytest.raises(PricingError):
        check_promotion(Promotion("x", "percent_off", D(5), starts_at=naive))
    with pytest.raises(PricingError):
        check_entry(PriceEntry("X", "GB", "GBP", D(1), ends_at=naive))
    with pytest.raises(PricingError):
        price_basket(basket(("BAG-1", 1)), BOOK, [], naive)
