"""Accounts, postings and transactions: amounts are integers in minor units (pence, cents)
or whole points, never floats; the postings of a transaction sum to zero in every unit.

A posting's amount is what it adds to its account's balance: positive puts value in,
negative takes it out. Holder accounts (gift cards, store credit, loyalty points) can never
go below zero; system accounts (one per purpose and unit) are the other side of every
movement and may: issuance goes negative as value is given out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from kenning.commerce.ledger.errors import LedgerError

AccountKind = Literal["gift_card", "store_credit", "loyalty_points", "system"]
HOLDER_KINDS: tuple[AccountKind, ...] = ("gift_card", "store_credit", "loyalty_points")
TransactionKind = Literal[
    "issue", "redeem", "earn", "refund", "transfer", "expire", "goodwill", "adjust"
]
KINDS: tuple[TransactionKind, ...] = (
    "issue",
    "redeem",
    "earn",
    "refund",
    "transfer",
    "expire",
    "goodwill",
    "adjust",
)
# The other side of movements: value given out, spent on orders, lost to expiry (breakage),
# given as goodwill, given as loyalty rewards, corrected by hand.
SYSTEM_PURPOSES = ("issuance", "redemption", "expiry", "goodwill", "rewards", "adjustment")
POINTS = "PTS"  # the unit of loyalty points
# Minor units per currency unit, as 10 ** exponent; currencies not named have 2.
_EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3}


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency, 2)


def check_unit(unit: str, kind: AccountKind) -> str:
    """``PTS`` for points, a three-letter upper-case currency code for money."""
    if kind == "loyalty_points":
        if unit != POINTS:
            raise LedgerError("invalid", f"loyalty points are counted in {POINTS}, not {unit!r}")
        return unit
    if unit != POINTS and (len(unit) != 3 or not unit.isalpha() or not unit.isupper()):
        raise LedgerError("invalid", f"a currency is a three-letter code such as GBP, not {unit!r}")
    if unit == POINTS and kind != "system":
        raise LedgerError("invalid", f"a {kind} account holds money, not points")
    return unit


def system_account_id(purpose: str, unit: str) -> str:
    if purpose not in SYSTEM_PURPOSES:
        raise LedgerError("invalid", f"system accounts are one of {SYSTEM_PURPOSES}")
    return f"system:{purpose}:{unit}"


def customer_account_id(kind: AccountKind, customer_id: str, unit: str) -> str:
    """The one store credit account per customer and currency, and points account per
    customer: their ids are derived, so any channel finds them without a lookup."""
    if kind not in ("store_credit", "loyalty_points"):
        raise LedgerError("invalid", f"a customer has one {kind} account per unit")
    if not customer_id.strip():
        raise LedgerError("invalid", "a customer id cannot be blank")
    return f"{kind}:{unit}:{customer_id}"


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    kind: AccountKind
    unit: str
    customer_id: str | None
    balance: int  # for a system account: the sum of its postings
    last4: str | None = None  # a gift card's code ends with these

    @property
    def holder(self) -> bool:
        return self.kind != "system"


@dataclass(frozen=True, slots=True)
class Posting:
    """``lot_id`` on a debit takes from that lot only (expiry); on a credit, gives back to
    that lot (a refunded redemption). Without it a debit takes soonest-expiring first and a
    credit opens a new lot expiring at ``expires_at`` (None: never)."""

    account_id: str
    unit: str
    amount: int
    lot_id: str | None = None
    expires_at: str | None = None


@dataclass(frozen=True, slots=True)
class Transaction:
    id: str
    kind: TransactionKind
    created_at: str
    postings: tuple[Posting, ...]
    order_id: str | None = None
    customer_id: str | None = None
    spend: int | None = None  # order value that counts towards tiers (negative: refunded)
    currency: str | None = None  # the unit of ``spend``
    memo: str = ""


def check_amount(amount: int, what: str = "amount") -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise LedgerError("invalid", f"{what} must be a positive whole number, got {amount!r}")
    return amount


def check_postings(postings: Iterable[Posting]) -> tuple[Posting, ...]:
    """The postings, if they make a transaction: at least two, none zero, each a whole
    number, and summing to zero in every unit."""
    checked = tuple(postings)
    if len(checked) < 2:
        raise LedgerError("invalid", "a transaction needs at least two postings")
    for posting in checked:
        if isinstance(posting.amount, bool) or not isinstance(posting.amount, int):
            raise LedgerError("invalid", f"amounts are whole numbers, got {posting.amount!r}")
        if posting.amount == 0:
            raise LedgerError("invalid", f"a posting to {posting.account_id} moves nothing")
    unbalanced = unbalanced_units(checked)
    if unbalanced:
        raise LedgerError("invalid", f"postings must sum to zero in every unit: {unbalanced}")
    return checked


def unbalanced_units(postings: Iterable[Posting]) -> dict[str, int]:
    """Units whose postings do not sum to zero, with their sum (empty when balanced)."""
    totals: dict[str, int] = {}
    for posting in postings:
        totals[posting.unit] = totals.get(posting.unit, 0) + posting.amount
    return {unit: total for unit, total in totals.items() if total}
