"""Helpers the profile tests share."""

from __future__ import annotations

from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any, TypeVar

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
