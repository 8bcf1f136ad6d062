"""Lots: every credit to a holder account is a lot with its own expiry; a debit spends the
soonest-expiring lots first (lots that never expire last), and a lot past its expiry is never
spent: the expiry job moves what is left in it to the expiry account."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kenning.commerce.ledger.errors import LedgerError


@dataclass(frozen=True, slots=True)
class Lot:
    id: str
    remaining: int
    expires_at: str | None  # UTC stamp of fixed width (compares as text); None: never
    created_at: str = ""

    def expired(self, now: str) -> bool:
        return self.expires_at is not None and self.expires_at <= now


def spending_order(lots: Iterable[Lot]) -> list[Lot]:
    """Soonest expiry first, never-expiring last; ties oldest first, then by id."""
    return sorted(
        lots, key=lambda lot: (lot.expires_at is None, lot.expires_at or "", lot.created_at, lot.id)
    )


def spendable(lots: Iterable[Lot], now: str) -> int:
    return sum(lot.remaining for lot in lots if not lot.expired(now) and lot.remaining > 0)


def allocate(lots: Sequence[Lot], amount: int, now: str) -> list[tuple[str, int]]:
    """(lot id, amount taken) covering ``amount`` from unexpired lots, soonest-expiring
    first; LedgerError insufficient_funds when they hold less."""
    taken: list[tuple[str, int]] = []
    left = amount
    for lot in spending_order(lots):
        if left == 0:
            break
        if lot.remaining <= 0 or lot.expired(now):
            continue
        take = min(left, lot.remaining)
        taken.append((lot.id, take))
        left -= take
    if left:
        raise LedgerError(
            "insufficient_funds", f"{amount - left} of {amount} available before expiry"
        )
    return taken


def next_expiry(lots: Iterable[Lot], now: str) -> tuple[str, int] | None:
    """When the soonest unexpired lot expires, and how much expires then."""
    due: dict[str, int] = {}
    for lot in lots:
        if lot.expires_at is not None and lot.remaining > 0 and not lot.expired(now):
            due[lot.expires_at] = due.get(lot.expires_at, 0) + lot.remaining
    if not due:
        return None
    first = min(due)
    return first, due[first]
