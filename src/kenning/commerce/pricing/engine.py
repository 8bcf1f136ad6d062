"""The one pricing function every channel calls: ``price_basket``.

The order, always the same:

1. **Prices.** Each line's unit price comes from the price book (pricebook.py: sale, then
   customer-group, then channel, then base price). Line subtotal = unit price × quantity,
   rounded to the currency's minor unit.
2. **Eligibility.** A promotion counts if it is in effect at ``now``, its currency is the
   basket's, its target matches the basket (channel, store, market, segments, traits, customer) and,
   for a coupon promotion, the basket carries the code and the code has uses left.
3. **Exclusivity.** An *exclusive* promotion never combines with any other. The engine
   prices the basket once with every non-exclusive promotion and once with each exclusive
   promotion alone, and keeps the plan that saves the customer most (ties: the
   non-exclusive plan, then exclusive promotions in stage/priority order).
4. **Stages.** Within a plan, promotions apply stage by stage — item promotions, then basket
   promotions, then shipping — and within a stage by ``priority`` (highest first), then id.
   Each one works on the amounts left by those before it (so 10 % then 10 % is 19 %).
   A promotion that is not *stackable* applies only to lines no other promotion of its
   stage has discounted, and no later promotion of its stage touches them (basket stage:
   the basket as a whole). Thresholds are checked when a promotion's turn comes.
5. **Rounding.** Every discount is rounded to the minor unit (halves away from zero) and
   never exceeds what is left of the line; basket discounts are split across the targeted
   lines in proportion to their amounts by largest remainder, so lines sum exactly to the
   basket.

The channel is an input to targeting and to channel prices only: with no channel price and
no channel-targeted promotion, the same basket costs the same in every channel. Every
adjustment is listed on its line and in the basket's list, in the order applied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from kenning.commerce.pricing.errors import PricingError
from kenning.commerce.pricing.money import HUNDRED, ZERO, allocate, round_money
from kenning.commerce.pricing.pricebook import PriceBook, PriceChoice, resolve_price
from kenning.commerce.pricing.promotions import Promotion, application_order, coupon_code


@dataclass(frozen=True, slots=True)
class BasketLine:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Basket:
    lines: tuple[BasketLine, ...]
    channel: str
    market: str
    currency: str | None = None  # None: the currency of the lines' prices
    store: str | None = None
    customer_id: str | None = None
    segments: frozenset[str] = frozenset()  # also the customer's price groups
    traits: Mapping[str, str] = field(default_factory=dict)
    coupons: tuple[str, ...] = ()
    shipping: Decimal = ZERO
    # Ids identity resolution merged into the customer: what was offered to them is hers.
    customer_aliases: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Adjustment:
    promotion_id: str
    name: str
    kind: str
    amount: Decimal  # taken off, never negative
    line: int | None  # index of the line; None for shipping or a basket summary
    detail: str


@dataclass(frozen=True, slots=True)
class PricedLine:
    sku: str
    quantity: int
    unit_price: Decimal
    price_kind: str
    price_reason: str
    subtotal: Decimal
    discount: Decimal
    total: Decimal
    adjustments: tuple[Adjustment, ...]


@dataclass(frozen=True, slots=True)
class PricedBasket:
    currency: str
    channel: str
    lines: tuple[PricedLine, ...]
    subtotal: Decimal
    discount: Decimal
    shipping: Decimal
    shipping_discount: Decimal
    total: Decimal
    adjustments: tuple[Adjustment, ...]
    coupons_applied: tuple[str, ...]
    coupons_rejected: tuple[tuple[str, str], ...]  # (code, why)
    notes: tuple[str, ...]


@dataclass
class _Plan:
    """The running amounts of one way of applying promotions."""

    left: list[Decimal]  # each line's amount after the discounts so far
    adjustments: list[Adjustment] = field(default_factory=list)
    shipping_off: Decimal = ZERO
    touched: set[tuple[int, int]] = field(default_factory=set)  # (stage, line)
    closed: set[tuple[int, int]] = field(default_factory=set)
    applied: list[Promotion] = field(default_factory=list)

    def saving(self) -> Decimal:
        return sum((a.amount for a in self.adjustments if a.line is not None), ZERO) + (
            self.shipping_off
        )


def _targets(p: Promotion, basket: Basket) -> str | None:
    """Why ``p`` does not target the basket, or None if it does."""
    t = p.target
    if t.channels and basket.channel not in t.channels:
        return "not for this channel"
    if t.stores and basket.store not in t.stores:
        return "not for this store"
    if t.markets and basket.market not in t.markets:
        return "not for this market"
    if t.segments and not (t.segments & basket.segments):
        return "not for this customer's segments"
    if any(basket.traits.get(k) != v for k, v in t.traits.items()):
        return "not for this customer's traits"
    mine = {basket.customer_id} | basket.customer_aliases
    if t.customers and t.customers.isdisjoint(mine):
        return "for another customer"
    return None


class _Pricer:
    def __init__(self, basket: Basket, currency: str, subtotals: list[Decimal]) -> None:
        self.basket = basket
        self.currency = currency
        self.subtotals = subtotals

    def run(self, plan_promotions: Sequence[Promotion]) -> _Plan:
        plan = _Plan(left=list(self.subtotals))
        for p in plan_promotions:
            if p.kind == "free_shipping":
                self._shipping(plan, p)
            else:
                self._discount(plan, p)
        return plan

    def _lines(self, plan: _Plan, p: Promotion) -> list[int]:
        skus = p.target.skus
        stage = p.stage
        return [
            i
            for i, line in enumerate(self.basket.lines)
            if (not skus or line.sku in skus)
            and (stage, i) not in plan.closed
            and (p.stackable or (stage, i) not in plan.touched)
            and plan.left[i] > 0
        ]

    def _meets_threshold(self, plan: _Plan, p: Promotion, lines: Sequence[int]) -> bool:
        if p.min_quantity and sum(self.basket.lines[i].quantity for i in lines) < p.min_quantity:
            return False
        if p.min_subtotal is not None:
            return sum((plan.left[i] for i in lines), ZERO) >= p.min_subtotal
        return True

    def _discount(self, plan: _Plan, p: Promotion) -> None:
        lines = self._lines(plan, p)
        if p.stage == 1 and not p.stackable and any(s == 1 for s, _ in plan.touched):
            return
        if not lines or not self._meets_threshold(plan, p, lines):
            return
        offs = self._amounts(plan, p, lines)
        got = False
        detail = self._detail(p)
        for i, off in zip(lines, offs, strict=True):
            off = min(off, plan.left[i])
            if off <= 0:
                continue
            got = True
            plan.left[i] -= off
            plan.touched.add((p.stage, i))
            if not p.stackable:
                plan.closed.add((p.stage, i))
            plan.adjustments.append(Adjustment(p.id, p.label, p.kind, off, i, detail))
        if got:
            plan.applied.append(p)
            if p.stage == 1 and not p.stackable:
                plan.closed.update((1, i) for i in range(len(self.basket.lines)))

    def _amounts(self, plan: _Plan, p: Promotion, lines: list[int]) -> list[Decimal]:
        cur = self.currency
        qty = [self.basket.lines[i].quantity for i in lines]
        left = [plan.left[i] for i in lines]
        if p.kind in ("basket_percent_off", "basket_amount_off"):
            whole = sum(left, ZERO)
            if p.kind == "basket_percent_off":
                off = round_money(whole * p.value / HUNDRED, cur)
            else:
                off = min(round_money(p.value, cur), whole)
            return allocate(off, left, cur)
        if p.kind == "buy_x_get_y":
            return self._buy_x_get_y(p, qty, left)
        offs: list[Decimal] = []
        for q, amount in zip(qty, left, strict=True):
            units = min(q, p.max_quantity or q)
            share = amount * units / q
            if p.kind == "percent_off":
                offs.append(round_money(share * p.value / HUNDRED, cur))
            elif p.kind == "amount_off":
                offs.append(round_money(p.value * units, cur))
            else:  # fixed_price
                offs.append(max(ZERO, round_money(share - p.value * units, cur)))
        return offs

    def _buy_x_get_y(self, p: Promotion, qty: list[int], left: list[Decimal]) -> list[Decimal]:
        """Units dearest first in groups of buy + get; each group's last ``get`` units (its
        cheapest) are discounted, for as many whole groups as there are (up to the cap)."""
        free = discounted_units(qty, left, p.buy, p.get, p.max_applications)
        return [
            round_money(left[k] * free[k] / qty[k] * p.value / HUNDRED, self.currency)
            for k in range(len(qty))
        ]

    def _shipping(self, plan: _Plan, p: Promotion) -> None:
        lines = [
            i
            for i, line in enumerate(self.basket.lines)
            if not p.target.skus or line.sku in p.target.skus
        ]
        left = self.basket.shipping - plan.shipping_off
        if left <= 0 or not lines or not self._meets_threshold(plan, p, lines):
            return
        if not p.stackable and plan.shipping_off > 0:
            return
        plan.shipping_off += left
        plan.applied.append(p)
        plan.adjustments.append(Adjustment(p.id, p.label, p.kind, left, None, "free shipping"))

    def _detail(self, p: Promotion) -> str:
        v = f"{p.value.normalize():f}"
        return {
            "percent_off": f"{v}% off",
            "amount_off": f"{v} {p.currency} off each unit",
            "fixed_price": f"each for {v} {p.currency}",
            "buy_x_get_y": f"buy {p.buy} get {p.get} at {v}% off",
            "basket_percent_off": f"{v}% off the basket (shared across lines)",
            "basket_amount_off": f"{v} {p.currency} off the basket (shared across lines)",
        }.get(p.kind, p.kind)


def discounted_units(
    qty: Sequence[int], left: Sequence[Decimal], buy: int, get: int, cap: int | None
) -> list[int]:
    """How many units of each line a buy-``buy``-get-``get`` gives away: lay the units out
    dearest first (by what is left per unit; ties by line order) and cut them into groups of
    buy + get; in each whole group (at most ``cap``) the last ``get`` are given. Counted by
    arithmetic over each line's run of units, so a line of 10,000 units costs no more than
    a line of one."""
    size = buy + get
    groups = sum(qty) // size
    if cap is not None:
        groups = min(groups, cap)
    end = groups * size

    def given_before(n: int) -> int:  # units given among the first n positions
        n = min(n, end)
        return (n // size) * get + max(0, n % size - buy)

    free = [0] * len(qty)
    at = 0
    for k in sorted(range(len(qty)), key=lambda k: (-(left[k] / qty[k]), k)):
        free[k] = given_before(at + qty[k]) - given_before(at)
        at += qty[k]
    return free


def price_basket(
    basket: Basket,
    book: PriceBook,
    promotions: Sequence[Promotion],
    now: datetime,
    spent_coupons: Mapping[str, str] | None = None,
) -> PricedBasket:
    """Price ``basket`` at ``now``. ``spent_coupons``: code -> why it cannot be used (no
    uses left), as the caller's records say. Raises PricingError if a line has no price."""
    if not basket.lines:
        raise PricingError("invalid", "a basket needs at least one line")
    if now.tzinfo is None:
        raise PricingError("invalid", "times must carry a time zone")
    choices: list[PriceChoice] = []
    for line in basket.lines:
        if line.quantity < 1:
            raise PricingError("invalid", f"{line.sku}: quantity must be at least 1")
        choice = resolve_price(
            book.entries(line.sku, basket.market), basket.channel, basket.segments, now
        )
        if choice is None:
            raise PricingError("not_found", f"no price for {line.sku} in {basket.market} now")
        choices.append(choice)
    currency = basket.currency or choices[0].entry.currency
    wrong = [c.entry.sku for c in choices if c.entry.currency != currency]
    if wrong:
        raise PricingError("invalid", f"no {currency} price for {', '.join(wrong)}")
    subtotals = [
        round_money(c.entry.price * line.quantity, currency)
        for c, line in zip(choices, basket.lines, strict=True)
    ]
    spent = {coupon_code(k): v for k, v in (spent_coupons or {}).items()}
    codes = {coupon_code(c): c for c in basket.coupons}
    rejected: dict[str, str] = {}
    eligible: list[Promotion] = []
    known: set[str] = set()
    for p in promotions:
        code = coupon_code(p.coupon.code) if p.coupon else None
        if code is not None:
            known.add(code)
            if code not in codes:
                continue
        why = None
        if not p.in_effect(now):
            why = "not in effect now"
        elif p.currency is not None and p.currency != currency:
            why = f"only for {p.currency}"
        elif code is not None and code in spent:
            why = spent[code]
        else:
            why = _targets(p, basket)
        if why is None:
            eligible.append(p)
        elif code is not None:
            rejected[codes[code]] = why
    for code, given in codes.items():
        if code not in known:
            rejected[given] = "unknown coupon"
    eligible.sort(key=application_order)
    pricer = _Pricer(basket, currency, subtotals)
    shared = [p for p in eligible if not p.exclusive]
    best = pricer.run(shared)
    notes: list[str] = []
    for p in (p for p in eligible if p.exclusive):
        alone = pricer.run([p])
        if alone.saving() > best.saving():
            notes.append(f"exclusive {p.id} saves {alone.saving()}, more than {best.saving()}")
            best = alone
        else:
            notes.append(f"exclusive {p.id} passed over: saves {alone.saving()}, not more")
    applied = {p.id for p in best.applied}
    for p in eligible:
        if p.coupon and p.id not in applied:
            why = "exclusive, and saves less than the other promotions" if p.exclusive else ""
            rejected.setdefault(codes[coupon_code(p.coupon.code)], why or "conditions not met")
    used = tuple(codes[coupon_code(p.coupon.code)] for p in best.applied if p.coupon)
    return _result(basket, currency, choices, subtotals, best, used, rejected, notes)


def _result(
    basket: Basket,
    currency: str,
    choices: Sequence[PriceChoice],
    subtotals: list[Decimal],
    plan: _Plan,
    used: tuple[str, ...],
    rejected: dict[str, str],
    notes: list[str],
) -> PricedBasket:
    by_line: list[list[Adjustment]] = [[] for _ in basket.lines]
    for adjustment in plan.adjustments:
        if adjustment.line is not None:
            by_line[adjustment.line].append(adjustment)
    lines = []
    for i, (line, choice, subtotal) in enumerate(
        zip(basket.lines, choices, subtotals, strict=True)
    ):
        mine = tuple(by_line[i])
        off = sum((a.amount for a in mine), ZERO)
        entry = choice.entry
        lines.append(
            PricedLine(
                line.sku,
                line.quantity,
                entry.price,
                entry.kind,
                choice.why,
                subtotal,
                off,
                subtotal - off,
                mine,
            )
        )
    subtotal = sum(subtotals, ZERO)
    discount = sum((line.discount for line in lines), ZERO)
    shipping = round_money(basket.shipping, currency)
    return PricedBasket(
        currency=currency,
        channel=basket.channel,
        lines=tuple(lines),
        subtotal=subtotal,
        discount=discount,
        shipping=shipping,
        shipping_discount=plan.shipping_off,
        total=subtotal - discount + shipping - plan.shipping_off,
        adjustments=tuple(plan.adjustments),
        coupons_applied=used,
        coupons_rejected=tuple(sorted(rejected.items())),
        notes=tuple(notes),
    )
