"""Helpers the profile tests share."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any, TypeVar

from kenning.store import Store, open_store

T = TypeVar("T")


def theresa_keys(retailer: Path) -> list[tuple[str, str]]:
    lines = (retailer / "truth.csv").read_text(encoding="utf-8").splitlines()[1:]
    return sorted(
        (parts[0], parts[1])
        for parts in (line.split(",") for line in lines)
        if parts[2] == "P-THERESA"
    )


@dataclass
class Inbox:
    """What a local SMTP server received (an aiosmtpd handler)."""

    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def all_at_once(store_url: str, clients: int, act: Callable[[Store], T]) -> list[T]:
    """``act`` from ``clients`` threads released together, each with its own connection
    (as tests/commerce/concurrent_clients.py does for the ledger)."""
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
