"""Rebuild the derived record state from the event log alone.

The log is the source of truth: replaying it through the same writer that imports files
gives the same records, so a change to the normalisers can be applied to everything ever
received, and a damaged derived table can be restored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kenning.ingest.importer import RECORD_COLLECTED, RECORD_KINDS, ImportReport, RecordWriter
from kenning.ingest.prepare import prepare_payloads
from kenning.services.trust import trust_for
from kenning.store.base import Store


def rebuild_records(
    store: Store,
    *,
    markets: tuple[str, ...] = (),
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Replace every source record by replaying the log; one transaction. ``markets``: as
    for an import (see normalise_record)."""
    report = ImportReport(files=["<event log>"])
    writer = RecordWriter(store, report)

    def write(batch: list[tuple[str, dict[str, Any]]]) -> None:
        prepared = prepare_payloads([payload for _, payload in batch], markets)
        # What a public key's events claimed stays withheld, as the follower wrote it.
        keys = [(str(row[0]), str(row[1])) for row, _ in prepared]
        trust = trust_for(store, keys, ())
        writer.write(
            [
                trust.withhold_claims(p) if kind == RECORD_COLLECTED else p
                for (kind, _), p in zip(batch, prepared, strict=True)
            ],
            log=False,
        )
        if progress:
            progress(len(batch))

    with store.transaction():
        store.delete_all_records()
        batch: list[tuple[str, dict[str, Any]]] = []
        for event in store.iter_events():
            if event.kind not in RECORD_KINDS:
                continue
            batch.append((event.kind, event.payload))
            if len(batch) >= batch_size:
                write(batch)
                batch = []
        write(batch)
    return report
