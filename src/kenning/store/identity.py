"""The identity tables: customers per record, merges and splits, the model, corrections."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from kenning.store.hooks import by_source, marks
from kenning.store.resolving import EVERYTHING, LISTED, ResolvingTables, tags

RecordKey = tuple[str, str]
CORRECTION_KINDS = ("must_link", "cannot_link")


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


@dataclass(frozen=True)
class Correction:
    kind: str  # must_link or cannot_link
    a: RecordKey
    b: RecordKey
    reason: str | None


@dataclass(frozen=True)
class IdentityChangeRow:
    seq: int
    kind: str
    customer_id: str
    payload: dict[str, Any]
    recorded_at: str


# The indexes of customer_records (see migrations.py) and the column each is on.
_INDEXES = {
    "ix_customer_records_customer": "customer_id",
    "ix_customer_records_component": "component",
}
_UPDATE_CUSTOMER = (
    "ON CONFLICT (source, record_id) DO UPDATE SET customer_id = excluded.customer_id, "
    "component = excluded.component"
)


# A record's (source, record_id, customer_id, component): what resolution stores of it.
Assignment = tuple[str, str, str, str | None]


class IdentityTables(ResolvingTables):
    def customer_assignments(self) -> dict[RecordKey, str]:
        rows = self._query("SELECT source, record_id, customer_id FROM customer_records")
        return {(source, record_id): customer for source, record_id, customer in rows}

    def update_assignments(
        self,
        rows: Sequence[Assignment],
        previous: Mapping[RecordKey, str],
        *,
        previous_components: Mapping[RecordKey, str | None] | None = None,
        rebuild_index_above: int = 100_000,
        remove: Sequence[RecordKey] = (),
    ) -> int:
        """Write the records' customers and components (see Resolution.components), those
        that changed since ``previous`` and ``previous_components`` (the stored state), and
        drop the records in ``remove`` (gone from the store); returns rows written."""
        before = previous_components or {}
        changed = (
            [
                row
                for row in rows
                if previous.get(row[:2]) != row[2] or before.get(row[:2]) != row[3]
            ]
            if previous or before
            else rows  # a first run writes every record: nothing to compare
        )
        gone = list(remove)
        # Rewriting much of the table: the customer index is cheaper built once afterwards
        # than kept up row by row (half the time of a first run's million rows).
        rebuild = len(changed) > rebuild_index_above
        with self.transaction():
            if rebuild:
                for name in _INDEXES:
                    self._execute(f"DROP INDEX {name}")
            self._executemany(
                "INSERT INTO customer_records (source, record_id, customer_id, component) "
                "VALUES (?, ?, ?, ?) " + ("" if not previous else _UPDATE_CUSTOMER),
                changed,
            )
            self._executemany(
                "DELETE FROM customer_records WHERE source = ? AND record_id = ?", gone
            )
            self.note_identity_writes(_placement_tags(changed, gone, previous, before))
            if rebuild:
                for name, column in _INDEXES.items():
                    self._execute(f"CREATE INDEX {name} ON customer_records ({column})")
        return len(changed) + len(gone)

    def component_assignments(self) -> dict[RecordKey, str | None]:
        rows = self._query("SELECT source, record_id, component FROM customer_records")
        return {(source, record_id): component for source, record_id, component in rows}

    def customer_records(self, customer_id: str) -> list[RecordKey]:
        rows = self._query(
            "SELECT source, record_id FROM customer_records WHERE customer_id = ? "
            "ORDER BY source, record_id",
            (customer_id,),
        )
        return [(source, record_id) for source, record_id in rows]

    def customer_of(self, source: str, record_id: str) -> str | None:
        rows = self._query(
            "SELECT customer_id FROM customer_records WHERE source = ? AND record_id = ?",
            (source, record_id),
        )
        return str(rows[0][0]) if rows else None

    def append_identity_changes(self, changes: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        self._executemany(
            "INSERT INTO identity_changes (kind, customer_id, payload) VALUES (?, ?, ?)",
            [
                (kind, customer, orjson.dumps(payload).decode())
                for kind, customer, payload in changes
            ],
        )

    def identity_changes(self, since: int = 0, limit: int = 1000) -> list[IdentityChangeRow]:
        rows = self._query(
            "SELECT seq, kind, customer_id, payload, recorded_at FROM identity_changes "
            "WHERE seq > ? ORDER BY seq LIMIT ?",
            (since, limit),
        )
        return [
            IdentityChangeRow(int(seq), kind, customer, _json(payload), str(at))
            for seq, kind, customer, payload, at in rows
        ]

    # ----------------------------------------------------------------- aliases
    def changes_position(self, cursor: str) -> tuple[int, int]:
        """(where the cursor ``cursor`` is, the last identity change's seq)."""
        rows = self._query(
            "SELECT (SELECT seq FROM cursors WHERE name = ?), "
            "(SELECT MAX(seq) FROM identity_changes)",
            (cursor,),
        )
        at, last = rows[0]
        return int(at or 0), int(last or 0)

    def merge_aliases(self, customer_id: str, others: Sequence[str]) -> None:
        """``others`` and every id merged into them belong to ``customer_id`` now, which
        is no one's alias any more."""
        merged = [o for o in others if o != customer_id]
        for old in merged:
            self._execute(
                "UPDATE customer_aliases SET customer_id = ? WHERE customer_id = ?",
                (customer_id, old),
            )
        self._executemany(
            "INSERT INTO customer_aliases (old_id, customer_id) VALUES (?, ?) "
            "ON CONFLICT (old_id) DO UPDATE SET customer_id = excluded.customer_id",
            [(old, customer_id) for old in merged],
        )
        self._execute("DELETE FROM customer_aliases WHERE old_id = ?", (customer_id,))

    def customer_aliases(self, customer_id: str) -> list[str]:
        """The ids merged into ``customer_id``."""
        rows = self._query(
            "SELECT old_id FROM customer_aliases WHERE customer_id = ? ORDER BY old_id",
            (customer_id,),
        )
        return [str(row[0]) for row in rows]

    def save_model(self, name: str, data: Mapping[str, Any]) -> None:
        self._execute(
            "INSERT INTO models (name, data, trained_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET data = excluded.data, "
            "trained_at = excluded.trained_at",
            (name, orjson.dumps(data).decode(), datetime.now(UTC).isoformat()),
        )

    def model_stamp(self, name: str) -> Any:
        """When the model was last saved: a cheap test of whether a cached copy is current."""
        rows = self._query("SELECT trained_at FROM models WHERE name = ?", (name,))
        return rows[0][0] if rows else None

    def load_model(self, name: str) -> dict[str, Any] | None:
        rows = self._query("SELECT data FROM models WHERE name = ?", (name,))
        return dict(_json(rows[0][0])) if rows else None

    def add_correction(self, kind: str, a: RecordKey, b: RecordKey, reason: str | None) -> bool:
        """Record a must-link or cannot-link, replacing the opposite one for the pair; False
        if it was already there (idempotent)."""
        if kind not in CORRECTION_KINDS:
            raise ValueError(f"unknown correction {kind!r}: use one of {CORRECTION_KINDS}")
        a, b = min(a, b), max(a, b)
        exists = self._query(
            "SELECT 1 FROM identity_corrections WHERE kind = ? AND a_source = ? AND "
            "a_record_id = ? AND b_source = ? AND b_record_id = ?",
            (kind, *a, *b),
        )
        if exists:
            return False
        # The latest word on a pair stands: an unlink undoes a link and the other way round.
        self._execute(
            "DELETE FROM identity_corrections WHERE kind <> ? AND a_source = ? AND "
            "a_record_id = ? AND b_source = ? AND b_record_id = ?",
            (kind, *a, *b),
        )
        self._execute(
            "INSERT INTO identity_corrections (kind, a_source, a_record_id, b_source, "
            "b_record_id, reason) VALUES (?, ?, ?, ?, ?, ?)",
            (kind, *a, *b, reason),
        )
        self.note_identity_writes(tags("p", (a, b)))
        return True

    def corrections_of(self, records: Sequence[RecordKey]) -> list[Correction]:
        """The corrections naming any of these records."""
        found: dict[tuple[Any, ...], Correction] = {}
        for source, ids in by_source(records):
            for side in ("a", "b"):
                rows = self._query(
                    "SELECT kind, a_source, a_record_id, b_source, b_record_id, reason "
                    f"FROM identity_corrections WHERE {side}_source = ? "
                    f"AND {side}_record_id IN ({marks(len(ids))})",
                    (source, *ids),
                )
                for k, a1, a2, b1, b2, reason in rows:
                    found[(k, a1, a2, b1, b2)] = Correction(k, (a1, a2), (b1, b2), reason)
        return [found[key] for key in sorted(found)]

    def corrections(self) -> list[Correction]:
        rows = self._query(
            "SELECT kind, a_source, a_record_id, b_source, b_record_id, reason "
            "FROM identity_corrections ORDER BY id"
        )
        return [Correction(k, (a1, a2), (b1, b2), reason) for k, a1, a2, b1, b2, reason in rows]


def _placement_tags(
    changed: Sequence[Assignment],
    gone: Sequence[RecordKey],
    previous: Mapping[RecordKey, str],
    components: Mapping[RecordKey, str | None],
) -> list[str]:
    """What writing these placements changes (see store/resolving.py): the records, and
    the components and customers they leave and join."""
    if len(changed) + len(gone) > LISTED:
        return [EVERYTHING]
    records = [row[:2] for row in changed] + list(gone)
    left = [(previous.get(key), components.get(key)) for key in records]
    return (
        tags("p", records)
        + tags("c", {c for c in [row[3] for row in changed] + [c for _, c in left] if c})
        + tags("u", {u for u in [row[2] for row in changed] + [u for u, _ in left] if u})
    )
