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
    return _prepared(record, record.canonical_json(), markets)


def _prepared(record: SourceRecord, body: bytes, markets: tuple[str, ...]) -> Prepared:
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
        body = record.canonical_json()
        # PostgreSQL cannot hold a NUL in text or JSON, SQLite can: a row with one is
        # rejected on both, so both stores hold the same records. JSON writes NUL as \u0000,
        # so one cheap look at the bytes clears nearly every row.
        if b"\\u0000" in body and (where := _nul_in(_columns(record))):
            rejected.append((line, f"{where} holds a NUL byte"))
            continue
        prepared.append(_prepared(record, body, markets))
    return prepared, rejected


def _columns(record: SourceRecord) -> dict[str, Any]:
    return {
        "source": record.source,
        "record_id": record.record_id,
        **record.fields,
        **record.attributes,
    }


def _nul_in(value: Any, where: str = "") -> str | None:
    """Where in a payload a NUL character is (a column name), or None."""
    if isinstance(value, str):
        return (where or "a value") if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            name = where or f"column {key!r}"
            if "\x00" in str(key):
                return name
            if found := _nul_in(item, name):
                return found
    elif isinstance(value, list | tuple):
        for item in value:
            if found := _nul_in(item, where):
                return found
    return None


def prepare_payloads(
    payloads: Iterable[dict[str, Any]], markets: tuple[str, ...] = ()
) -> list[Prepared]:
    """Records as the event log holds them, for a replay."""
    return [prepare_record(SourceRecord.from_payload(p), markets) for p in payloads]
