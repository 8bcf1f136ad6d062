"""Properties over generated baskets and promotions: one price in every channel, and
amounts that always add up."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from pricing_data import NOW

from kenning.commerce.pricing.engine import (
    Basket,
    BasketLine,
    PricedBasket,
    discounted_units,
    price_basket,
)
from kenning.commerce.pricing.money import ZERO, allocate
from kenning.commerce.pricing.pricebook import CHANNELS, PriceBook, PriceEntry
from kenning.commerce.pricing.promotions import STAGE, Promotion, Target

SKUS = [f"S{n}" for n in range(8)]
cents = st.integers(min_value=0, max_value=50_000).map(lambda c: Decimal(c).scaleb(-2))


@st.composite
def price_books(draw: st.DrawFn) -> PriceBook:
    entries = [PriceEntry(sku, "GB", "GBP", draw(cents)) for sku in SKUS]
    for sku in draw(st.lists(st.sampled_from(SKUS), max_size=4)):
        entries.append(PriceEntry(sku, "GB", "GBP", draw(cents), "sale"))
    for sku in draw(st.lists(st.sampled_from(SKUS), max_size=3)):
        entries.append(PriceEntry(sku, "GB", "GBP", draw(cents), "group", customer_group="vip"))
    return PriceBook(entries)


@st.composite
def promotions(draw: st.DrawFn) -> Promotion:
    kind = draw(st.sampled_from(sorted(STAGE)))
    amount_kind = kind in ("amount_off", "fixed_price", "basket_amount_off")
    value = draw(cents) if amount_kind else Decimal(draw(st.integers(0, 100)))
    threshold = draw(st.none() | cents)
    skus = draw(st.frozensets(st.sampled_from(SKUS), max_size=3))
    return Promotion(
        id=f"P{draw(st.integers(0, 10_000))}",
        kind=kind,  # type: ignore[arg-type]
        value=value,
        priority=draw(st.integers(0, 3)),
        stackable=draw(st.booleans()),
        exclusive=draw(st.integers(0, 5)) == 0,
        buy=draw(st.integers(1, 3)),
        get=draw(st.integers(1, 2)),
        max_applications=draw(st.none() | st.integers(1, 3)),
        max_quantity=draw(st.none() | st.integers(1, 3)),
        min_subtotal=threshold,
        currency="GBP",
        target=Target(skus=skus, segments=draw(st.sampled_from([frozenset(), frozenset({"vip"})]))),
    )


baskets = st.builds(
    lambda lines, vip, shipping: Basket(
        tuple(BasketLine(s, q) for s, q in lines),
        "web",
        "GB",
        segments=frozenset({"vip"}) if vip else frozenset(),
        shipping=shipping,
    ),
    st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 6)), min_size=1, max_size=8),
    st.booleans(),
    st.sampled_from([ZERO, Decimal("4.95")]),
)


def _in(basket: Basket, channel: str) -> Basket:
    return Basket(
        basket.lines,
        channel,
        basket.market,
        segments=basket.segments,
        shipping=basket.shipping,
        store="LDN",
    )


def _adds_up(priced: PricedBasket) -> None:
    assert priced.total == sum((line.total for line in priced.lines), ZERO) + (
        priced.shipping - priced.shipping_discount
    )
    for line in priced.lines:
        assert ZERO <= line.discount <= line.subtotal
        assert line.total == line.subtotal - line.discount
        assert line.discount == sum((a.amount for a in line.adjustments), ZERO)
        assert all(
            a.amount > 0 and a.amount == a.amount.quantize(Decimal("0.01"))
            for a in line.adjustments
        )
    assert ZERO <= priced.shipping_discount <= priced.shipping


@settings(max_examples=200, deadline=None)
@given(price_books(), st.lists(promotions(), max_size=12, unique_by=lambda p: p.id), baskets)
def test_same_basket_same_total_in_every_channel(
    book: PriceBook, promos: list[Promotion], basket: Basket
) -> None:
    priced = [price_basket(_in(basket, channel), book, promos, NOW) for channel in CHANNELS]
    first = priced[0]
    _adds_up(first)
    for other in priced[1:]:
        assert other.total == first.total
        assert [line.total for line in other.lines] == [line.total for line in first.lines]
        assert other.adjustments == first.adjustments


@settings(max_examples=200, deadline=None)
@given(
    cents,
    st.lists(st.integers(0, 100_000).map(lambda c: Decimal(c).scaleb(-2)), min_size=1, max_size=20),
)
def test_allocation_sums_exactly_and_stays_proportional(
    total: Decimal, weights: list[Decimal]
) -> None:
    parts = allocate(total, weights, "GBP")
    assert sum(parts, ZERO) == total
    whole = sum(weights, ZERO)
    if whole > 0:
        for part, weight in zip(parts, weights, strict=True):
            assert abs(part - total * weight / whole) < Decimal("0.01")


def test_a_channel_rule_on_purpose_makes_a_difference() -> None:
    book = PriceBook([PriceEntry("S0", "GB", "GBP", Decimal(10))])
    till_only = Promotion(
        "t", "percent_off", Decimal(10), target=Target(channels=frozenset({"pos"}))
    )
    basket = Basket((BasketLine("S0", 1),), "web", "GB")
    totals = {ch: price_basket(_in(basket, ch), book, [till_only], NOW).total for ch in CHANNELS}
    assert totals == {"web": Decimal(10), "pos": Decimal(9), "shelf": Decimal(10)}


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 9), st.integers(1, 500)), min_size=1, max_size=6),
    st.integers(1, 4),
    st.integers(1, 3),
    st.none() | st.integers(1, 5),
)
def test_buy_x_get_y_counts_like_laying_out_every_unit(
    lines: list[tuple[int, int]], buy: int, get: int, cap: int | None
) -> None:
    qty = [q for q, _ in lines]
    left = [Decimal(q * unit) for q, unit in lines]
    order = sorted(range(len(qty)), key=lambda k: (-(left[k] / qty[k]), k))
    units = [k for k in order for _ in range(qty[k])]
    groups = len(units) // (buy + get) if cap is None else min(cap, len(units) // (buy + get))
    naive = [0] * len(qty)
    for g in range(groups):
        for k in units[g * (buy + get) + buy : (g + 1) * (buy + get)]:
            naive[k] += 1
    assert discounted_units(qty, left, buy, get, cap) == naive
