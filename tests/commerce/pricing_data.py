"""The pricing tests' world: a clock, a small GB price book and a helper for baskets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from kenning.commerce.pricing.engine import Basket, BasketLine
from kenning.commerce.pricing.pricebook import PriceBook, PriceEntry

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)

ENTRIES = [
    PriceEntry("BAG-1", "GB", "GBP", Decimal("100.00")),
    PriceEntry("TAG-2", "GB", "GBP", Decimal("10.00")),
    PriceEntry("PURSE-3", "GB", "GBP", Decimal("33.33")),
    PriceEntry("BAG-1", "US", "USD", Decimal("120.00")),
]
BOOK = PriceBook(ENTRIES)


def basket(*lines: tuple[str, int], channel: str = "web", **more: Any) -> Basket:
    more.setdefault("market", "GB")
    return Basket(tuple(BasketLine(s, q) for s, q in lines), channel, **more)
