"""Promotions and coupons: what each kind takes off, and who and what it targets.

Kinds, by the stage they apply at (see engine.py for the order):

- item stage — ``percent_off`` (``value`` per cent of each targeted line), ``amount_off``
  (``value`` off each unit), ``fixed_price`` (each unit for ``value``), ``buy_x_get_y``
  (for every ``buy`` units bought, ``get`` more at ``value`` per cent off, 100 = free,
  cheapest units first; repeats for multiples, at most ``max_applications`` times);
  ``max_quantity`` caps the units of a line the first three discount;
- basket stage — ``basket_percent_off`` and ``basket_amount_off`` of the targeted lines'
  subtotal, shared across those lines in proportion to their amounts;
- shipping stage — ``free_shipping``.

Any kind may need a basket threshold: ``min_subtotal`` (the targeted lines' amount when the
promotion's turn comes) and ``min_quantity`` (their units). ``target`` narrows it to
channels, stores, markets, a product set (SKUs), customer segments (any of), traits
(all of) and customer ids (a coupon given to one customer); an empty field targets
everything. A promotion with a ``coupon`` applies only when the basket carries its code
(case does not matter) and the code has uses left.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

from kenning.commerce.pricing.errors import PricingError

PromotionKind = Literal[
    "percent_off",
    "amount_off",
    "fixed_price",
    "buy_x_get_y",
    "basket_percent_off",
    "basket_amount_off",
    "free_shipping",
]
ITEM_KINDS = frozenset({"percent_off", "amount_off", "fixed_price", "buy_x_get_y"})
BASKET_KINDS = frozenset({"basket_percent_off", "basket_amount_off"})
# Stage of each kind: item promotions first, then the basket, then shipping.
STAGE = {**dict.fromkeys(ITEM_KINDS, 0), **dict.fromkeys(BASKET_KINDS, 1), "free_shipping": 2}
_FORBID: dict[str, Any] = {"extra": "forbid"}


@dataclass(frozen=True, slots=True)
class Target:
    __pydantic_config__: ClassVar[dict[str, Any]] = _FORBID
    channels: frozenset[str] = frozenset()
    stores: frozenset[str] = frozenset()
    markets: frozenset[str] = frozenset()
    skus: frozenset[str] = frozenset()
    segments: frozenset[str] = frozenset()
    traits: Mapping[str, str] = field(default_factory=dict)
    customers: frozenset[str] = frozenset()

    def channel_specific(self) -> bool:
        return bool(self.channels)


@dataclass(frozen=True, slots=True)
class Coupon:
    __pydantic_config__: ClassVar[dict[str, Any]] = _FORBID
    code: str
    total_limit: int | None = None  # uses in all, None: no limit
    per_customer_limit: int | None = None


@dataclass(frozen=True, slots=True)
class Promotion:
    __pydantic_config__: ClassVar[dict[str, Any]] = _FORBID
    id: str
    kind: PromotionKind
    value: Decimal = Decimal(0)
    name: str = ""
    priority: int = 0  # higher goes first within its stage
    stackable: bool = True
    exclusive: bool = False
    buy: int = 0
    get: int = 0
    max_applications: int | None = None
    max_quantity: int | None = None
    min_subtotal: Decimal | None = None
    min_quantity: int = 0
    currency: str | None = None  # amounts (value, min_subtotal) are in this currency
    target: Target = field(default_factory=Target)
    coupon: Coupon | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    @property
    def stage(self) -> int:
        return STAGE[self.kind]

    @property
    def label(self) -> str:
        return self.name or self.id

    def in_effect(self, now: datetime) -> bool:
        return (self.starts_at is None or self.starts_at <= now) and (
            self.ends_at is None or now < self.ends_at
        )


def check_promotion(promotion: Promotion) -> Promotion:
    """Refuse a promotion whose numbers make no sense for its kind."""
    p = promotion
    if not p.id:
        raise PricingError("invalid", "a promotion needs an id")
    if p.kind not in STAGE:
        raise PricingError("invalid", f"unknown promotion kind {p.kind!r}")
    if p.value < 0:
        raise PricingError("invalid", f"{p.id}: value cannot be negative")
    if p.kind in ("percent_off", "basket_percent_off", "buy_x_get_y") and p.value > 100:
        raise PricingError("invalid", f"{p.id}: a percentage is at most 100")
    if p.kind == "buy_x_get_y" and (p.buy < 1 or p.get < 1):
        raise PricingError("invalid", f"{p.id}: buy_x_get_y needs buy >= 1 and get >= 1")
    needs_currency = p.kind in ("amount_off", "fixed_price", "basket_amount_off")
    if (needs_currency or p.min_subtotal is not None) and not p.currency:
        raise PricingError("invalid", f"{p.id}: amounts need a currency")
    for limit in (p.max_applications, p.max_quantity):
        if limit is not None and limit < 1:
            raise PricingError("invalid", f"{p.id}: limits are at least 1")
    if p.coupon is not None:
        if not p.coupon.code.strip():
            raise PricingError("invalid", f"{p.id}: a coupon needs a code")
        for limit in (p.coupon.total_limit, p.coupon.per_customer_limit):
            if limit is not None and limit < 1:
                raise PricingError("invalid", f"{p.id}: coupon limits are at least 1")
    if any(t is not None and t.tzinfo is None for t in (p.starts_at, p.ends_at)):
        raise PricingError("invalid", f"{p.id}: times must carry a time zone")
    if p.starts_at and p.ends_at and p.ends_at <= p.starts_at:
        raise PricingError("invalid", f"{p.id}: a promotion must end after it starts")
    return p


def application_order(p: Promotion) -> tuple[int, int, str]:
    """Stage, then highest priority, then id: the order promotions apply in."""
    return (p.stage, -p.priority, p.id)


def coupon_code(code: str) -> str:
    """Codes compare without case or surrounding space."""
    return code.strip().upper()
