"""Rebuild the derived record state from the event log alone.

The log is the source of truth: replaying it through the same writer that imports files
gives the same records, so a change to the normalisers can be applied to everything ever
received, and a damaged derived table can be restored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kenning.ingest.importer import RECORD_KINDS, ImportReport, RecordWriter
from kenning.ingest.prepare import prepare_payloads
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
    with store.transaction():
        store.delete_all_records()
        batch: list[dict[str, Any]] = []
        for event in store.iter_events():
            if event.kind not in RECORD_KINDS:
                continue
            batch.append(event.payload)
            if len(batch) >= batch_size:
                writer.write(prepare_payloads(batch, markets), log=False)
                if progress:
                    progress(len(batch))
                batch = []
        writer.write(prepare_payloads(batch, markets), log=False)
        if progress:
            progress(len(batch))
    return report
