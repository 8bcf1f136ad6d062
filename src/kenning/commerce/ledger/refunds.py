"""Refunds: the postings that reverse what an order earned and spent.

Handed what the order's transactions still hold per (account, lot) — the sum of its earn,
redemption and earlier refund postings — a refund reverses all of it, or the share
``amount / remaining`` of it for a partial refund (rounded towards zero, the rounding left
on the system side so every unit still sums to zero). Value spent comes back to the lot it
was taken from; points earned are taken back soonest-expiring first, never more than the
customer still has (``cap_debits``): the rest is forgiven, and said so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kenning.commerce.ledger.errors import LedgerError
from kenning.commerce.ledger.postings import Posting, unbalanced_units

Holding = tuple[str, str, str | None, int]  # (account, unit, lot, net amount)


def _system(account_id: str) -> bool:
    return account_id.startswith("system:")


def reversal(
    holdings: Sequence[Holding], amount: int | None, remaining: int | None
) -> list[Posting]:
    """Postings reversing ``amount`` of an order worth ``remaining`` still unrefunded
    (``amount`` None: all of it)."""
    if amount is not None:
        if remaining is None or remaining <= 0:
            raise LedgerError("invalid", "a partial refund needs the order's total")
        if amount <= 0 or amount > remaining:
            raise LedgerError("invalid", f"refund between 1 and {remaining}, got {amount}")
    postings: list[Posting] = []
    for account, unit, lot, net in holdings:
        if net == 0:
            continue
        back = -net if amount is None else -_towards_zero(net * amount, remaining or 1)
        if back:
            # A debit takes points back wherever they are now; a credit restores the lot.
            postings.append(Posting(account, unit, back, lot if back > 0 else None))
    return _settle(postings)


def _towards_zero(numerator: int, denominator: int) -> int:
    share = abs(numerator) // denominator
    return share if numerator >= 0 else -share


def _settle(postings: list[Posting]) -> list[Posting]:
    """Leave any rounding difference on the unit's first system posting."""
    for unit, off in unbalanced_units(postings).items():
        index = next(
            (i for i, p in enumerate(postings) if p.unit == unit and _system(p.account_id)), None
        )
        if index is None:
            raise LedgerError("invalid", f"cannot balance {unit}: no system posting")
        posting = postings[index]
        postings[index] = Posting(posting.account_id, unit, posting.amount - off)
    return [p for p in postings if p.amount]


def cap_debits(
    postings: Sequence[Posting], available: Mapping[str, int]
) -> tuple[list[Posting], dict[str, int]]:
    """Debits of holder accounts cut to what each holds, the system side cut to match;
    returns the postings and, per account, what could not be taken back."""
    capped: list[Posting] = []
    short: dict[str, int] = {}
    for posting in postings:
        if posting.amount < 0 and not _system(posting.account_id):
            have = max(0, available.get(posting.account_id, 0))
            if -posting.amount > have:
                short[posting.account_id] = -posting.amount - have
                posting = Posting(posting.account_id, posting.unit, -have)
        capped.append(posting)
    return _settle(capped), short
