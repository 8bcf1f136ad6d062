"""The tables of trust: records a public write key's events wrote (their contact values are
the visitor's claims), the claims verified since, and the orders such a key sent."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kenning.store.hooks import SqlHooks, by_source, chunks, marks

RecordKey = tuple[str, str]


class ClaimTables(SqlHooks):
    # ----------------------------------------------------------------- claimed records
    def add_claimed_records(self, records: Iterable[RecordKey]) -> None:
        self._executemany(
            "INSERT INTO claimed_records (source, record_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            sorted(set(records)),
        )

    def remove_claimed_records(self, records: Iterable[RecordKey]) -> None:
        self._executemany(
            "DELETE FROM claimed_records WHERE source = ? AND record_id = ?", sorted(set(records))
        )

    def release_claims_upserted(self, after: int, until: int) -> None:
        """The records a file wrote in the log's entries (after, until] are no longer a
        public key's. For an import indexed at once: one pass over that part of the log
        (upserts are in no index by record), and none while no record is claimed."""
        if not self._query("SELECT 1 FROM claimed_records LIMIT 1"):
            return
        self._execute(
            "DELETE FROM claimed_records WHERE (source, record_id) IN ("
            "SELECT source, record_id FROM events "
            "WHERE seq > ? AND seq <= ? AND kind = 'record.upserted')",
            (after, until),
        )

    def claimed_records(self, records: Sequence[RecordKey]) -> set[RecordKey]:
        """Those of ``records`` an untrusted source's events wrote first."""
        found: set[RecordKey] = set()
        for source, ids in by_source(records):
            rows = self._query(
                "SELECT source, record_id FROM claimed_records "
                f"WHERE source = ? AND record_id IN ({marks(len(ids))})",
                (source, *ids),
            )
            found.update((str(s), str(r)) for s, r in rows)
        return found

    def unlink_anonymous(self, source: str, anonymous_id: str, record_id: str) -> None:
        """The visitor is no longer known to be the record (if she was)."""
        self._execute(
            "DELETE FROM anonymous_ids WHERE source = ? AND anonymous_id = ? AND record_id = ?",
            (source, anonymous_id, record_id),
        )

    # ----------------------------------------------------------------- verified claims
    def add_verified_claim(
        self, source: str, record_id: str, field: str, value: str, at: str
    ) -> None:
        self._execute(
            "INSERT INTO verified_claims (source, record_id, field, value, verified_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (source, record_id, field, value, at),
        )

    def verified_claims(
        self, records: Sequence[RecordKey]
    ) -> dict[RecordKey, set[tuple[str, str]]]:
        """The (field, value) verified of each of ``records`` that has any."""
        found: dict[RecordKey, set[tuple[str, str]]] = {}
        for source, ids in by_source(records):
            rows = self._query(
                "SELECT source, record_id, field, value FROM verified_claims "
                f"WHERE source = ? AND record_id IN ({marks(len(ids))})",
                (source, *ids),
            )
            for s, r, name, value in rows:
                found.setdefault((str(s), str(r)), set()).add((str(name), str(value)))
        return found

    # ----------------------------------------------------------------- unvouched orders
    def add_unvouched_orders(self, order_ids: Iterable[str]) -> None:
        self._executemany(
            "INSERT INTO unvouched_orders (order_id) VALUES (?) ON CONFLICT DO NOTHING",
            [(order_id,) for order_id in sorted(set(order_ids))],
        )

    def unvouched_orders(self, order_ids: Sequence[str]) -> set[str]:
        """Those of ``order_ids`` an untrusted source sent."""
        found: set[str] = set()
        for part in chunks(sorted(set(order_ids))):
            rows = self._query(
                f"SELECT order_id FROM unvouched_orders WHERE order_id IN ({marks(len(part))})",
                part,
            )
            found.update(str(order_id) for (order_id,) in rows)
        return found

    def release_orders(self, order_ids: Sequence[str], untrusted: Iterable[str]) -> None:
        """Forget those of ``order_ids`` an ``untrusted`` source's record holds, with their
        lines and returns, so that a trusted source's may be stored under the id."""
        sources = sorted(set(untrusted))
        if not sources:
            return
        for part in chunks(sorted(set(order_ids))):
            held = (
                "SELECT order_id FROM activity_orders "
                f"WHERE order_id IN ({marks(len(part))}) AND source IN ({marks(len(sources))})"
            )
            for table in ("activity_order_lines", "activity_returns", "unvouched_orders"):
                self._execute(f"DELETE FROM {table} WHERE order_id IN ({held})", (*part, *sources))
            self._execute(
                f"DELETE FROM activity_orders WHERE order_id IN ({marks(len(part))}) "
                f"AND source IN ({marks(len(sources))})",
                (*part, *sources),
            )

    def release_repairs(self, repair_ids: Sequence[str], untrusted: Iterable[str]) -> None:
        """Forget those of ``repair_ids`` an ``untrusted`` source's record holds, with their
        status trail, so that a trusted source's may be stored under the id."""
        sources = sorted(set(untrusted))
        if not sources:
            return
        for part in chunks(sorted(set(repair_ids))):
            held = (
                "SELECT repair_id FROM activity_repairs "
                f"WHERE repair_id IN ({marks(len(part))}) AND source IN ({marks(len(sources))})"
            )
            self._execute(
                f"DELETE FROM activity_repair_events WHERE repair_id IN ({held})",
                (*part, *sources),
            )
            self._execute(
                f"DELETE FROM activity_repairs WHERE repair_id IN ({marks(len(part))}) "
                f"AND source IN ({marks(len(sources))})",
                (*part, *sources),
            )

    def order_keys(self, order_ids: Sequence[str]) -> dict[str, RecordKey]:
        """The record that placed each of ``order_ids`` that is stored."""
        found: dict[str, RecordKey] = {}
        for part in chunks(sorted(set(order_ids))):
            rows = self._query(
                "SELECT order_id, source, record_id FROM activity_orders "
                f"WHERE order_id IN ({marks(len(part))})",
                part,
            )
            found.update((str(o), (str(s), str(r))) for o, s, r in rows)
        return found
