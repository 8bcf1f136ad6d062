"""Events from Segment's libraries into the event log: durable once acknowledged, each
message once however often it is retried. Resolution follows the log (services/follow.py)."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from kenning.domain.segment import Message
from kenning.services.telemetry import EVENTS_ACCEPTED
from kenning.store import Store
from kenning.store.realtime import CollectedRow

# Event kinds of collected messages in the log: "segment.identify", "segment.track", …
KIND_PREFIX = "segment."


def collected_rows(source: str, messages: Sequence[Message]) -> list[CollectedRow]:
    return [
        (
            KIND_PREFIX + m.type,
            source,
            m.user_id,
            m.anonymous_id,
            m.message_id,
            orjson.dumps(m.payload).decode(),
        )
        for m in messages
    ]


def collect(store: Store, source: str, messages: Sequence[Message]) -> int:
    """Log the messages in one transaction; returns how many were new (not retries)."""
    with store.transaction():
        accepted = store.append_collected(collected_rows(source, messages))
    EVENTS_ACCEPTED.inc(accepted)
    return accepted
