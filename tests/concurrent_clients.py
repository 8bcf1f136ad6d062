"""Many clients at once, each with its own database connection: the concurrency tests'
one way of racing writers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from kenning.store import Store, open_store

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
