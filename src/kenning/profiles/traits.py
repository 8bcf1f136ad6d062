"""Computed traits: what a customer's activity adds up to, computed from her orders, returns,
registrations, repairs, e-mail engagement and addresses at the moment asked. Amounts are
whole minor units per currency; there is no exchange rate, so scores that need one amount
use her main currency (the one she spent most in)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

CLOSED_REPAIR = ("collected", "shipped")  # shipped home: nothing more to collect
_RECENCY_DAYS = (30, 90, 180, 365)  # ≤ each: score 5, 4, 3, 2; older: 1
_FREQUENCY = (12, 7, 4, 2)  # orders ≥ each: score 5, 4, 3, 2; fewer: 1
_MONETARY = (150_000, 70_000, 30_000, 10_000)  # minor units ≥ each: 5, 4, 3, 2


@dataclass(frozen=True, slots=True)
class Line:
    sku: str
    quantity: int
    unit_price: int
    serial_number: str
    category: str


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    channel: str
    store_id: str
    associate_id: str
    at: str
    currency: str
    total: int
    lines: tuple[Line, ...] = ()
    returned: int = 0  # minor units refunded
    returned_skus: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Owned:
    serial_number: str
    sku: str
    name: str
    category: str
    store_id: str
    registered_at: str


@dataclass(frozen=True, slots=True)
class Repair:
    repair_id: str
    serial_number: str
    store_id: str
    received_at: str
    history: tuple[tuple[str, str, str], ...]  # (status, at, store_id), oldest first

    @property
    def status(self) -> str:
        return self.history[-1][0] if self.history else "received"

    @property
    def open(self) -> bool:
        return self.status not in CLOSED_REPAIR


@dataclass(frozen=True, slots=True)
class Shop:
    store_id: str
    name: str
    city: str
    country: str


@dataclass
class Activity:
    """A customer's activity, as the profile service gathers it."""

    orders: list[Order] = field(default_factory=list)
    owned: list[Owned] = field(default_factory=list)
    repairs: list[Repair] = field(default_factory=list)
    email: dict[str, tuple[int, str]] = field(default_factory=dict)  # event → (count, last)
    # Addresses she gave (city, country, postcode, given at), newest first.
    addresses: list[tuple[str, str, str, str]] = field(default_factory=list)
    loyalty: dict[str, str] = field(default_factory=dict)  # loyalty_id, tier, enrolled_at


def _money(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"


def _score(value: float, thresholds: Sequence[float], higher_is_better: bool) -> int:
    for i, t in enumerate(thresholds):
        if (value >= t) if higher_is_better else (value <= t):
            return 5 - i
    return 1


def _days(since: str, now: datetime) -> int:
    at = datetime.fromisoformat(since.replace("Z", "+00:00"))
    if at.tzinfo is None:
        at = at.replace(tzinfo=now.tzinfo)
    return (now - at).days


def spend(orders: Sequence[Order]) -> dict[str, int]:
    """Net spend (orders less refunds) per currency, in minor units."""
    totals: Counter[str] = Counter()
    for o in orders:
        totals[o.currency] += o.total - o.returned
    return dict(totals)


def owned_by_category(activity: Activity) -> dict[str, int]:
    """What she owns by category: every registered serial, every serialised item bought and
    kept (once however many times it is registered), and unserialised items kept."""
    serials: dict[str, str] = {
        o.serial_number: o.category for o in activity.owned if o.serial_number
    }
    counts: Counter[str] = Counter()
    for order in activity.orders:
        returned = Counter(order.returned_skus)
        for line in order.lines:
            qty = line.quantity
            if returned[line.sku]:
                returned[line.sku] -= 1
                continue
            if line.serial_number:
                serials.setdefault(line.serial_number, line.category)
            elif line.category:
                counts[line.category] += qty
    for category in serials.values():
        counts[category or "other"] += 1
    return dict(counts.most_common())


def favourite_stores(orders: Sequence[Order], shops: dict[str, Shop], n: int = 3) -> list[Shop]:
    """Stores she bought in most (ties: the more recent first)."""
    counts: Counter[str] = Counter()
    last: dict[str, str] = {}
    for o in orders:
        if o.store_id:
            counts[o.store_id] += 1
            last[o.store_id] = max(last.get(o.store_id, ""), o.at)
    ranked = sorted(counts, key=lambda s: (-counts[s], _neg(last[s]), s))
    return [shops.get(s, Shop(s, s, "", "")) for s in ranked[:n]]


def _neg(text: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in text)


def price_range(orders: Sequence[Order], currency: str) -> dict[str, str] | None:
    """The middle half of the unit prices she paid in ``currency`` (25th–75th percentile)."""
    prices = sorted(line.unit_price for o in orders if o.currency == currency for line in o.lines)
    if not prices:
        return None
    n = len(prices)
    q1 = prices[max(0, -(-n // 4) - 1)]  # nearest rank
    q3 = prices[max(0, -(-3 * n // 4) - 1)]
    return {"currency": currency, "low": _money(q1), "high": _money(q3)}


def email_engagement(email: dict[str, tuple[int, str]]) -> dict[str, Any]:
    sends = email.get("send", (0, ""))[0]
    opens = email.get("open", (0, ""))[0]
    clicks = email.get("click", (0, ""))[0]
    rate = opens / sends if sends else 0.0
    level = "none" if not sends else "high" if rate >= 0.5 else "medium" if rate >= 0.2 else "low"
    return {
        "sends": sends,
        "opens": opens,
        "clicks": clicks,
        "open_rate": round(rate, 3),
        "click_rate": round(clicks / sends, 3) if sends else 0.0,
        "last_open": email.get("open", (0, None))[1],
        "last_click": email.get("click", (0, None))[1],
        "level": level,
    }


def likely_moved(activity: Activity, favourites: Sequence[Shop]) -> bool:
    """A newer address in another town than the one before, and away from every town she
    usually shops in (towns, not distances: addresses carry no coordinates)."""
    if len(activity.addresses) < 2:
        return False
    newest_city, newest_country = activity.addresses[0][0], activity.addresses[0][1]
    before = {(c.casefold(), k) for c, k, _, _ in activity.addresses[1:]}
    if (newest_city.casefold(), newest_country) in before:
        return False
    shop_towns = {(s.city.casefold(), s.country) for s in favourites if s.city}
    return bool(shop_towns) and (newest_city.casefold(), newest_country) not in shop_towns


def traits(
    activity: Activity, shops: dict[str, Shop], now: datetime, lapsed_days: int
) -> dict[str, Any]:
    """Every computed trait of a customer, at ``now``."""
    orders = sorted(activity.orders, key=lambda o: o.at)
    totals = spend(orders)
    main = max(totals, key=lambda c: totals[c]) if totals else None
    channels: dict[str, dict[str, Any]] = {}
    for o in orders:
        c = channels.setdefault(o.channel, {"orders": 0, "spend": Counter()})
        c["orders"] += 1
        c["spend"][o.currency] += o.total - o.returned
    favourites = favourite_stores(orders, shops)
    last = orders[-1].at if orders else None
    since = _days(last, now) if last else None
    monetary = totals.get(main, 0) if main else 0
    return {
        "lifetime_spend": {cur: _money(v) for cur, v in sorted(totals.items())},
        "main_currency": main,
        "orders": len(orders),
        "by_channel": {
            ch: {
                "orders": v["orders"],
                "spend": {k: _money(m) for k, m in sorted(v["spend"].items())},
            }
            for ch, v in sorted(channels.items())
        },
        "first_purchase": orders[0].at if orders else None,
        "last_purchase": last,
        "days_since_purchase": since,
        "rfm": {
            "recency": _score(since, _RECENCY_DAYS, False) if since is not None else 1,
            "frequency": _score(len(orders), _FREQUENCY, True),
            "monetary": _score(monetary, _MONETARY, True),
        },
        "favourite_stores": [s.store_id for s in favourites],
        "owned_by_category": owned_by_category(activity),
        "open_repairs": sum(1 for r in activity.repairs if r.open),
        "email_engagement": email_engagement(activity.email),
        "price_range": price_range(orders, main) if main else None,
        "lapsed": since is not None and since > lapsed_days,
        "likely_moved": likely_moved(activity, favourites),
        "loyalty": dict(activity.loyalty) or None,
    }
