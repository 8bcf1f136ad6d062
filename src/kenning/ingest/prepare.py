"""Turn read rows into ready-to-write records: the CPU-heavy, store-free half of an import.

Kept apart from the writer so it can run in worker processes while the one writer writes;
rows go in and plain tuples come out, which are cheap to send between processes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from kenning.domain.normalised import normalise_record
from kenning.domain.records import RecordError, SourceRecord, build_record, content_hash
from kenning.ingest.readers import Row, RowError
from kenning.store.base import RecordRow

# The record's row as the store writes it, and the (field, verdict) of values dropped.
Prepared = tuple[RecordRow, tuple[tuple[str, str], ...]]
# (line, reason)
Rejected = tuple[int, str]


def prepare_record(record: SourceRecord, markets: tuple[str, ...] = ()) -> Prepared:
    body = record.canonical_json()
    norm = normalise_record(record, markets)
    row = (record.source, record.record_id, content_hash(body), *norm.values(), body.decode())
    return row, tuple((name, verdict.value) for name, verdict in norm.dropped)


def prepare_rows(
    items: Sequence[tuple[int, Row | RowError]],
    source: str | None,
    country: str | None,
    markets: tuple[str, ...] = (),
) -> tuple[list[Prepared], list[Rejected]]:
    prepared: list[Prepared] = []
    rejected: list[Rejected] = []
    for line, item in items:
        if isinstance(item, RowError):
            rejected.append((line, str(item)))
            continue
        try:
            record = build_record(item, source, country)
        except RecordError as exc:
            rejected.append((line, str(exc)))
            continue
        prepared.append(prepare_record(record, markets))
    return prepared, rejected


def prepare_payloads(
    payloads: Iterable[dict[str, Any]], markets: tuple[str, ...] = ()
) -> list[Prepared]:
    """Records as the event log holds them, for a replay."""
    return [prepare_record(SourceRecord.from_payload(p), markets) for p in payloads]
