"""Price books: prices per SKU, market and channel, with effective dates and a currency.

Which price wins, for one SKU in one market at one moment (``resolve_price``):

1. only entries in effect (``starts_at <= now < ends_at``, an open end never ends) for the
   market, for the channel or for every channel (``channel`` empty), and — for a group
   price — for one of the customer's groups count;
2. the kind decides first: **sale** beats **group** beats **channel** beats **base**
   (``PRECEDENCE``), whatever the amounts;
3. within a kind, an entry for this very channel beats one for every channel, then the one
   that started latest wins, then the lowest price (so the answer never depends on load
   order).

A ``channel`` price must name its channel; every other kind may.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from kenning.commerce.pricing.errors import PricingError

PriceKind = Literal["base", "channel", "sale", "group"]
PRECEDENCE: tuple[PriceKind, ...] = ("sale", "group", "channel", "base")
_RANK = {kind: n for n, kind in enumerate(PRECEDENCE)}
CHANNELS = ("web", "pos", "shelf")


@dataclass(frozen=True, slots=True)
class PriceEntry:
    sku: str
    market: str
    currency: str
    price: Decimal
    kind: PriceKind = "base"
    channel: str = ""  # empty: every channel
    customer_group: str = ""  # only for kind "group"
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    def key(self) -> tuple[str, str, str, str, str, str]:
        """What makes an entry itself: loading it again replaces it."""
        start = "" if self.starts_at is None else self.starts_at.isoformat()
        return (self.sku, self.market, self.channel, self.kind, self.customer_group, start)

    def in_effect(self, now: datetime) -> bool:
        return (self.starts_at is None or self.starts_at <= now) and (
            self.ends_at is None or now < self.ends_at
        )


def check_entry(entry: PriceEntry) -> PriceEntry:
    if entry.kind not in _RANK:
        raise PricingError("invalid", f"price kind must be one of {', '.join(PRECEDENCE)}")
    if not entry.sku or not entry.market or len(entry.currency) != 3:
        raise PricingError("invalid", "a price needs a sku, a market and a 3-letter currency")
    if entry.kind == "channel" and not entry.channel:
        raise PricingError("invalid", "a channel price must name its channel")
    if (entry.kind == "group") != bool(entry.customer_group):
        raise PricingError("invalid", "a group price, and only a group price, names a group")
    if any(t is not None and t.tzinfo is None for t in (entry.starts_at, entry.ends_at)):
        raise PricingError("invalid", "times must carry a time zone")
    if entry.starts_at and entry.ends_at and entry.ends_at <= entry.starts_at:
        raise PricingError("invalid", "a price must end after it starts")
    if entry.price < 0:
        raise PricingError("invalid", "a price cannot be negative")
    return entry


@dataclass(frozen=True, slots=True)
class PriceChoice:
    entry: PriceEntry
    why: str  # e.g. "sale price for every channel (beats 2 other prices)"


def _order(entry: PriceEntry, channel: str) -> tuple[int, int, float, Decimal]:
    start = entry.starts_at.timestamp() if entry.starts_at else float("-inf")
    return (_RANK[entry.kind], 0 if entry.channel == channel else 1, -start, entry.price)


def resolve_price(
    entries: Iterable[PriceEntry],
    channel: str,
    groups: Iterable[str],
    now: datetime,
) -> PriceChoice | None:
    """The winning price among one SKU's entries in one market, or None if none applies."""
    wanted = frozenset(groups)
    live = [
        e
        for e in entries
        if (not e.channel or e.channel == channel)
        and (e.kind != "group" or e.customer_group in wanted)
        and e.in_effect(now)
    ]
    if not live:
        return None
    best = min(live, key=lambda e: _order(e, channel))
    where = f"for {best.channel}" if best.channel else "for every channel"
    group = f" ({best.customer_group})" if best.customer_group else ""
    others = len(live) - 1
    beaten = f" (beats {others} other price{'s' if others != 1 else ''})" if others else ""
    return PriceChoice(best, f"{best.kind} price{group} {where}{beaten}")


class PriceBook:
    """Entries indexed by (sku, market) for quick resolution."""

    def __init__(self, entries: Sequence[PriceEntry] = ()) -> None:
        self._by_key: dict[tuple[str, str], list[PriceEntry]] = {}
        for entry in entries:
            self._by_key.setdefault((entry.sku, entry.market), []).append(entry)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_key.values())

    def entries(self, sku: str, market: str) -> list[PriceEntry]:
        return self._by_key.get((sku, market), [])

    def has_channel_rules(self) -> bool:
        return any(e.channel for v in self._by_key.values() for e in v)
