"""The ledger tests' clock and helpers."""

from __future__ import annotations

from datetime import UTC, datetime

from kenning.store import Store

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def books_balance(store: Store) -> bool:
    from kenning.services.ledger import verify

    return not any(verify(store).values())
