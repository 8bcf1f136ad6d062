"""Money as Decimal, never float: amounts rounded to their currency's minor unit, and
amounts split across lines so the parts always add up to the whole."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from kenning.commerce.pricing.errors import PricingError

ZERO = Decimal(0)
HUNDRED = Decimal(100)
# ISO 4217 currencies whose minor unit is not a hundredth; every other has two decimals.
_MINOR_DIGITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip


@cache
def minor_unit(currency: str) -> Decimal:
    """The smallest amount of ``currency``: 0.01 for GBP, 1 for JPY, 0.001 for KWD."""
    return Decimal(1).scaleb(-_MINOR_DIGITS.get(currency, 2))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """``amount`` to the currency's minor unit, halves away from zero (the till's rule)."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def parse_amount(text: str | int | Decimal, currency: str) -> Decimal:
    """A non-negative amount from text, refused if it is not a number or has more decimals
    than the currency allows."""
    try:
        amount = Decimal(str(text).strip())
    except InvalidOperation:
        raise PricingError("invalid", f"{text!r} is not an amount") from None
    if not amount.is_finite() or amount < 0:
        raise PricingError("invalid", f"{text!r} is not a non-negative amount")
    if amount != round_money(amount, currency):
        raise PricingError("invalid", f"{text!r} has more decimals than {currency} allows")
    return round_money(amount, currency)


def allocate(total: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """Split ``total`` (already rounded) in proportion to ``weights``, by largest remainder:
    each part is rounded down to the minor unit, and the units left over go one each to the
    parts that lost most (first part first on ties), so the parts sum to ``total`` exactly."""
    unit = minor_unit(currency)
    whole = sum(weights, ZERO)
    if not weights:
        return []
    if whole <= 0:
        shares = [ZERO] * len(weights)
        shares[0] = total
        return shares
    exact = [total * w / whole for w in weights]
    parts = [e.quantize(unit, rounding=ROUND_FLOOR) for e in exact]
    left = int((total - sum(parts, ZERO)) / unit)
    order = sorted(range(len(parts)), key=lambda i: (parts[i] - exact[i], i))
    for i in order[:left]:
        parts[i] += unit
    return parts
