"""Price audit: what each channel actually showed or charged, against the price book and the
promotions in effect at that moment.

An observation is one SKU seen at a store (or on the web) in one channel: a shelf-label
snapshot, a web price, a till line. Its expected amount is what ``price`` gives for that SKU
and quantity alone, in that channel and store, at the moment it was observed — so a till
line for 3 units under "buy 2 get 1 free" is expected at the price of 2. It matches if the
amounts agree or if the unit price shown is the expected total per unit, rounded (a till
that charges 3 for 20.00 at 6.67 each is right). Coupons named on a
till line are applied as they were then (their limits are not checked again).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from kenning.commerce.pricing.engine import Basket, BasketLine, price_basket
from kenning.commerce.pricing.errors import PricingError
from kenning.commerce.pricing.money import round_money
from kenning.ingest.readers import RowError
from kenning.services.inventory import FileReport, _csv_rows, _header
from kenning.services.pricing import catalogue, with_market
from kenning.store import Store


@dataclass(frozen=True, slots=True)
class Observation:
    channel: str
    store: str  # a location id; empty for the web shop
    sku: str
    observed_at: datetime
    price: Decimal  # per unit, as shown or charged
    quantity: int = 1
    market: str = ""  # empty: the store's market
    coupons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Discrepancy:
    store: str
    sku: str
    channel: str
    observed_at: datetime
    quantity: int
    currency: str
    observed: Decimal  # price × quantity
    expected: Decimal  # the line's total from the pricing function
    difference: Decimal  # observed - expected: positive means the shopper paid too much
    explanation: str


@dataclass(frozen=True, slots=True)
class AuditReport:
    checked: int
    discrepancies: list[Discrepancy]
    unpriced: list[str]  # observations that could not be priced, and why


def audit(store: Store, observations: Iterable[Observation]) -> AuditReport:
    """Every observation whose amount differs from the pricing function's, by store then
    SKU then time."""
    found = catalogue(store)
    wrong: list[Discrepancy] = []
    unpriced: list[str] = []
    checked = 0
    for seen in observations:
        checked += 1
        basket = Basket(
            (BasketLine(seen.sku, seen.quantity),),
            seen.channel,
            seen.market,
            store=seen.store or None,
            coupons=seen.coupons,
        )
        where = f"{seen.store or '-'}/{seen.sku}/{seen.channel} at {seen.observed_at.isoformat()}"
        try:
            basket = with_market(store, basket)
            priced = price_basket(basket, found.book, found.promotions, seen.observed_at)
        except PricingError as exc:
            unpriced.append(f"{where}: {exc.message}")
            continue
        line = priced.lines[0]
        observed = round_money(seen.price * seen.quantity, priced.currency)
        each = round_money(line.total / seen.quantity, priced.currency)
        if observed == line.total or seen.price == each:  # a till may round per unit
            continue
        why = [line.price_reason, *(f"{a.name} ({a.detail}) -{a.amount}" for a in line.adjustments)]
        wrong.append(
            Discrepancy(
                seen.store,
                seen.sku,
                seen.channel,
                seen.observed_at,
                seen.quantity,
                priced.currency,
                observed,
                line.total,
                observed - line.total,
                f"expected {line.unit_price} each, {'; '.join(why)}",
            )
        )
    wrong.sort(key=lambda d: (d.store, d.sku, d.observed_at, d.channel))
    return AuditReport(checked, wrong, unpriced)


def _amount(text: str) -> Decimal:
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{text!r} is not a non-negative amount")
    return amount


def read_observations(paths: Sequence[Path]) -> tuple[list[Observation], FileReport]:
    """CSV files of channel, store, sku, observed_at (ISO-8601 with a zone), price (per
    unit), and optionally quantity (default 1), market and coupons (separated by ``;``).
    Bad rows are reported by file and line and left out."""
    found: list[Observation] = []
    rejected: list[str] = []
    for path in paths:
        rows = _csv_rows(path)
        _header(rows, path, {"channel", "sku", "observed_at", "price"})
        for number, row in rows:
            if isinstance(row, RowError):
                rejected.append(f"{path.name} line {number}: {row}")
                continue
            try:
                observed_at = datetime.fromisoformat(row["observed_at"])
                if observed_at.tzinfo is None:
                    raise ValueError("observed_at needs a time zone")
                quantity = int(row.get("quantity") or 1)
                if quantity < 1:
                    raise ValueError("quantity must be at least 1")
                codes = tuple(c for c in (row.get("coupons") or "").split(";") if c.strip())
                found.append(
                    Observation(
                        row["channel"],
                        row.get("store", ""),
                        row["sku"],
                        observed_at,
                        _amount(row["price"]),
                        quantity,
                        row.get("market", ""),
                        codes,
                    )
                )
            except ValueError as exc:
                rejected.append(f"{path.name} line {number}: {exc}")
    return found, FileReport(len(found), rejected)


def write_discrepancies(path: Path, found: Sequence[Discrepancy]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(
            [
                "store",
                "sku",
                "channel",
                "observed_at",
                "quantity",
                "currency",
                "observed",
                "expected",
                "difference",
                "explanation",
            ]
        )
        for d in found:
            out.writerow(
                [
                    d.store,
                    d.sku,
                    d.channel,
                    d.observed_at.isoformat(),
                    d.quantity,
                    d.currency,
                    d.observed,
                    d.expected,
                    d.difference,
                    d.explanation,
                ]
            )
