"""The ledger tests' clock and helpers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from kenning.store import Store, open_store

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
T = TypeVar("T")


def all_at_once(store_url: str, clients: int, act: Callable[[Store], T]) -> list[T]:
    """``act`` from ``clients`` threads released together, each with its own connection."""
    stores = [open_store(store_url, migrate=False) for _ in range(clients)]
    start = threading.Barrier(clients)
    results: list[T] = []
    lock = threading.Lock()

    def client(own: Store) -> None:
        start.wait()
        result = act(own)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=client, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    return results


def books_balance(store: Store) -> bool:
    from kenning.services.ledger import verify

    return not any(verify(store).values())
