"""The store: one interface, written once in portable SQL; each backend fills a few hooks.

Backends supply connection handling, transactions and the dialect slots of the schema;
everything else — the event log, source records, import runs — is shared SQL with bound
parameters (written with ``?``; a backend that uses another paramstyle rewrites it).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from kenning.domain.normalised import NORMALISED_FIELDS
from kenning.store.access import AccessTables
from kenning.store.activity import ActivityTables
from kenning.store.claims import ClaimTables
from kenning.store.dead_letters import DeadLetterTables
from kenning.store.hooks import by_source, marks
from kenning.store.identity import IdentityTables
from kenning.store.inventory import InventoryTables
from kenning.store.ledger import LedgerTables
from kenning.store.migrations import MIGRATIONS
from kenning.store.pricing import PricingTables
from kenning.store.realtime import RealtimeTables
from kenning.store.resolving import EVERYTHING
from kenning.store.review import ReviewTables

RecordKey = tuple[str, str]
# (source, record_id, content_hash, *NORMALISED_FIELDS values, raw JSON): the bulk write shape.
RecordRow = tuple[str | None, ...]
# (kind, source, record_id, message_id, payload JSON)
EventRow = tuple[str, str, str | None, str | None, str]

NORMALISED_SELECT = "source, record_id, " + ", ".join(NORMALISED_FIELDS)


def in_key_order(table: pa.Table) -> tuple[list[RecordKey], list[pa.Array]]:
    """The keys and normalised columns of records read in any order, sorted by key. Arrow
    compares strings by their UTF-8 bytes, which is code point order, as sorted() does."""
    order = pc.sort_indices(table, sort_keys=[("source", "ascending"), ("record_id", "ascending")])

    def column(name: str) -> pa.Array:
        return table[name].take(order).combine_chunks().cast(pa.large_string())

    # Arrow lets go of the GIL: the columns are gathered on every core.
    with ThreadPoolExecutor() as pool:
        source, record_id, *normalised = pool.map(
            column, ("source", "record_id", *NORMALISED_FIELDS)
        )
    return list(zip(source.to_pylist(), record_id.to_pylist(), strict=True)), normalised


RECORD_COLUMNS = ("source", "record_id", "content_hash", *NORMALISED_FIELDS, "raw")
_UPSERT_RECORD = (
    f"INSERT INTO source_records ({', '.join(RECORD_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in RECORD_COLUMNS)}) "
    "ON CONFLICT (source, record_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in RECORD_COLUMNS[2:])
)
_INSERT_RECORD = (
    f"INSERT INTO source_records ({', '.join(RECORD_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in RECORD_COLUMNS)})"
)
_INSERT_EVENT = (
    "INSERT INTO events (kind, source, record_id, message_id, payload) VALUES (?, ?, ?, ?, ?)"
)
_EVENTS_PAGE = 5000


@dataclass(frozen=True, slots=True)
class RecordState:
    """What the store needs to know to tell a new record from an update, repeat or stale copy."""

    content_hash: str
    updated_at: str | None


@dataclass(frozen=True, slots=True)
class StoredRecord:
    source: str
    record_id: str
    content_hash: str
    normalised: dict[str, str | None]
    raw: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    kind: str
    source: str
    record_id: str | None
    message_id: str | None
    payload: dict[str, Any]
    recorded_at: str


@dataclass(frozen=True, slots=True)
class ImportRun:
    started_at: datetime
    finished_at: datetime
    files: list[str]
    imported: int
    updated: int
    unchanged: int
    stale: int
    rejected: int
    dropped: dict[str, dict[str, int]]  # field -> verdict -> count


def _json(value: Any) -> Any:
    """JSON columns come back as text from SQLite and already decoded from PostgreSQL."""
    if isinstance(value, str | bytes):
        return orjson.loads(value)
    return value


def _stamp(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


class Store(
    IdentityTables,
    InventoryTables,
    PricingTables,
    LedgerTables,
    AccessTables,
    RealtimeTables,
    ActivityTables,
    DeadLetterTables,
    ClaimTables,
    ReviewTables,
):
    """Persistence for Kenning. Use as a context manager or call close()."""

    dialect: str
    url: str

    # ----------------------------------------------------------------- backend hooks
    @abstractmethod
    def _is_conflict(self, exc: Exception) -> bool:
        """Whether a write failed on a unique key."""

    def is_transient(self, exc: BaseException) -> bool:
        """Whether a transaction failed only because of another one (a deadlock, a lock
        timeout) and can simply run again: everything it wrote was rolled back."""
        return False

    def is_unavailable(self, exc: BaseException) -> bool:
        """Whether an operation failed because the database could not be used (the
        connection lost, the server shutting down, the disk full, a lock held too long),
        not because of what it was asked to write: the same work may succeed later."""
        return self.is_transient(exc)

    @abstractmethod
    def _dialect_slots(self) -> dict[str, str]:
        """Values for the ``{pk}``, ``{json}``, ``{ts}`` and ``{now}`` slots of migrations."""

    def _lock_for_migration(self) -> None:
        """Keep two processes from migrating at once (inside the migration transaction)."""

    def yield_to_writers(self) -> None:
        """Let this connection's transactions take the write lock only when it is free, so
        that writers already waiting go first (for a little while at most): a background
        writer (the log's follower) must not hold up requests behind the embedded store's
        single writer."""

    def defer_checkpoints(self, backstop_pages: int = 0) -> None:
        """Leave copying the write-ahead log into the database to `checkpoint`, called
        by someone else, instead of the commit that fills it (the embedded store's); with
        ``backstop_pages``, a commit still copies it once it holds that many pages (so
        that the log stays bounded should that someone be gone)."""

    def checkpoint(self) -> None:
        """Copy what is committed into the database file, without waiting for readers or
        the writer unless the log has grown long (a server database does this itself)."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- schema
    def migrate(self) -> list[int]:
        """Apply the migrations this database lacks; returns the versions applied."""
        slots = self._dialect_slots()
        applied: list[int] = []
        with self.transaction():
            self._lock_for_migration()
            self._execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                f"applied_at {slots['ts']} NOT NULL DEFAULT {slots['now']})"
            )
            done = {row[0] for row in self._query("SELECT version FROM schema_migrations")}
            for migration in MIGRATIONS:
                if migration.version in done:
                    continue
                for statement in migration.statements:
                    self._execute(statement.format(**slots))
                self._execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                    (migration.version, migration.name),
                )
                applied.append(migration.version)
        return applied

    def schema_version(self) -> int:
        rows = self._query("SELECT MAX(version) FROM schema_migrations")
        return int(rows[0][0] or 0)

    # ----------------------------------------------------------------- source records
    def record_states(self, keys: Sequence[RecordKey]) -> dict[RecordKey, RecordState]:
        """The stored hash and updated_at of those of ``keys`` that exist."""
        found: dict[RecordKey, RecordState] = {}
        for source, ids in by_source(keys):
            rows = self._query(
                "SELECT record_id, content_hash, updated_at FROM source_records "
                f"WHERE source = ? AND record_id IN ({marks(len(ids))})",
                (source, *ids),
            )
            for record_id, content_hash, updated_at in rows:
                found[(source, record_id)] = RecordState(content_hash, updated_at)
        return found

    def insert_new_records(self, rows: Sequence[RecordRow], events: Sequence[EventRow]) -> bool:
        """Insert records believed new, with their events, all or nothing.

        False (and nothing written) when any of them exists already. The bulk-load fast path:
        a first import of a source is all new records, and one plain insert is half the work
        of looking each key up first.
        """
        try:
            with self.transaction():
                self._executemany(_INSERT_RECORD, rows)
                self.append_events(events)
        except Exception as exc:
            if self._is_conflict(exc):
                return False
            raise
        return True

    def upsert_records(self, rows: Sequence[RecordRow]) -> None:
        if rows:
            self._executemany(_UPSERT_RECORD, rows)

    def get_record(self, source: str, record_id: str) -> StoredRecord | None:
        rows = self._query(
            f"SELECT {', '.join(RECORD_COLUMNS)} FROM source_records "
            "WHERE source = ? AND record_id = ?",
            (source, record_id),
        )
        if not rows:
            return None
        row = rows[0]
        normalised = dict(zip(NORMALISED_FIELDS, row[3:-1], strict=True))
        return StoredRecord(row[0], row[1], row[2], normalised, _json(row[-1]))

    def get_records(self, keys: Sequence[RecordKey]) -> list[StoredRecord]:
        """The stored records of ``keys`` that exist, in key order."""
        found: list[StoredRecord] = []
        for source, ids in by_source(keys):
            rows = self._query(
                f"SELECT {', '.join(RECORD_COLUMNS)} FROM source_records "
                f"WHERE source = ? AND record_id IN ({marks(len(ids))})",
                (source, *ids),
            )
            for row in rows:
                normalised = dict(zip(NORMALISED_FIELDS, row[3:-1], strict=True))
                found.append(StoredRecord(row[0], row[1], row[2], normalised, _json(row[-1])))
        return sorted(found, key=lambda r: (r.source, r.record_id))

    def _record_pages(self, columns: str, batch: int) -> Iterator[tuple[Any, ...]]:
        """Rows of source_records (source and record_id first) in key order, fetched a page
        at a time by key, so memory stays flat and no cursor is held open between pages."""
        after: RecordKey = ("", "")
        while True:
            rows = self._query(
                f"SELECT {columns} FROM source_records "
                "WHERE (source, record_id) > (?, ?) ORDER BY source, record_id LIMIT ?",
                (after[0], after[1], batch),
            )
            yield from rows
            if len(rows) < batch:
                return
            after = (rows[-1][0], rows[-1][1])

    def iter_records(self, batch: int = 5000) -> Iterator[StoredRecord]:
        """Every source record in key order."""
        for row in self._record_pages(", ".join(RECORD_COLUMNS), batch):
            normalised = dict(zip(NORMALISED_FIELDS, row[3:-1], strict=True))
            yield StoredRecord(row[0], row[1], row[2], normalised, _json(row[-1]))

    def normalised_columns(self) -> tuple[list[RecordKey], list[pa.Array]]:
        """Every record's key and normalised values as Arrow string columns
        (NORMALISED_FIELDS order), in key order: the shape batch resolution wants. Read in
        storage order and sorted after: walking the key index costs SQLite a random row
        lookup per record, three times the time of a plain scan on a million records."""
        rows = self._query(f"SELECT {NORMALISED_SELECT} FROM source_records")
        names = ("source", "record_id", *NORMALISED_FIELDS)
        values = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        del rows
        return in_key_order(
            pa.table([pa.array(column, pa.large_string()) for column in values], names=names)
        )

    def record_counts(self) -> dict[str, int]:
        rows = self._query(
            "SELECT source, COUNT(*) FROM source_records GROUP BY source ORDER BY source"
        )
        return {source: int(count) for source, count in rows}

    def delete_all_records(self) -> None:
        """Forget the derived record state (the event log keeps everything)."""
        with self.transaction():
            self._execute("DELETE FROM source_records")
            self.note_identity_writes([EVERYTHING])

    # ----------------------------------------------------------------- event log
    def append_events(self, rows: Sequence[EventRow]) -> None:
        if rows:
            self._serialise_log()
            self._executemany(_INSERT_EVENT, rows)

    def iter_events(self, kind: str | None = None, after: int = 0) -> Iterator[Event]:
        """Events in log order, streamed page by page (memory stays flat)."""
        where = "seq > ?" + (" AND kind = ?" if kind else "")
        while True:
            params: tuple[Any, ...] = (after, kind, _EVENTS_PAGE) if kind else (after, _EVENTS_PAGE)
            rows = self._query(
                "SELECT seq, kind, source, record_id, message_id, payload, recorded_at "
                f"FROM events WHERE {where} ORDER BY seq LIMIT ?",
                params,
            )
            for seq, k, source, record_id, message_id, payload, recorded_at in rows:
                yield Event(
                    int(seq), k, source, record_id, message_id, _json(payload), _stamp(recorded_at)
                )
            if len(rows) < _EVENTS_PAGE:
                return
            after = int(rows[-1][0])

    def event_count(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM events")[0][0])

    # ----------------------------------------------------------------- import runs
    def add_import_run(self, run: ImportRun) -> None:
        self._execute(
            "INSERT INTO import_runs (started_at, finished_at, files, imported, updated, "
            "unchanged, stale, rejected, dropped) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run.started_at.isoformat(),
                run.finished_at.isoformat(),
                orjson.dumps(run.files).decode(),
                run.imported,
                run.updated,
                run.unchanged,
                run.stale,
                run.rejected,
                orjson.dumps(run.dropped).decode(),
            ),
        )

    def import_runs(self, limit: int = 10) -> list[ImportRun]:
        rows = self._query(
            "SELECT started_at, finished_at, files, imported, updated, unchanged, stale, "
            "rejected, dropped FROM import_runs ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [
            ImportRun(
                started_at=_parse_stamp(r[0]),
                finished_at=_parse_stamp(r[1]),
                files=list(_json(r[2])),
                imported=int(r[3]),
                updated=int(r[4]),
                unchanged=int(r[5]),
                stale=int(r[6]),
                rejected=int(r[7]),
                dropped=dict(_json(r[8])),
            )
            for r in rows
        ]


def _parse_stamp(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
