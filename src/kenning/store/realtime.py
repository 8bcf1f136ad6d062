"""The tables of real time: sources and their write keys, collected events, record keys,
components, anonymous visitors, and the cursor of the log's follower."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from kenning.store.hooks import by_source, chunks, marks
from kenning.store.resolving import EVERYTHING, ResolvingTables

RecordKey = tuple[str, str]
# (kind, source, record_id, anonymous_id, message_id, payload JSON)
CollectedRow = tuple[str, str, str | None, str | None, str | None, str]


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


@dataclass(frozen=True, slots=True)
class SourceRow:
    name: str
    prefix: str
    trusted: bool
    revoked: bool


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    seq: int
    kind: str
    source: str
    record_id: str | None
    anonymous_id: str | None
    message_id: str | None
    payload: dict[str, Any]
    recorded_at: str


_EVENT_COLUMNS = "seq, kind, source, record_id, anonymous_id, message_id, payload, recorded_at"


def _event(row: Sequence[Any]) -> LoggedEvent:
    seq, kind, source, record_id, anonymous_id, message_id, payload, at = row
    at = at.isoformat() if hasattr(at, "isoformat") else str(at)
    return LoggedEvent(
        int(seq), kind, source, record_id, anonymous_id, message_id, _json(payload), at
    )


class RealtimeTables(ResolvingTables):
    # ----------------------------------------------------------------- sources
    def add_source(self, name: str, prefix: str, key_hash: str, trusted: bool = False) -> bool:
        """A new source with its write key's hash; False if the name is taken."""
        rows = self._query(
            "INSERT INTO sources (name, prefix, key_hash, trusted) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name) DO NOTHING RETURNING name",
            (name, prefix, key_hash, int(trusted)),
        )
        return bool(rows)

    def untrusted_sources(self) -> set[str]:
        """Sources whose write key may be in anyone's hands (a web page's)."""
        return {str(n) for (n,) in self._query("SELECT name FROM sources WHERE trusted = 0")}

    def source_by_key_hash(self, key_hash: str, now: int) -> str | None:
        """The live source whose write key, or whose previous key while its rotation's grace
        lasts (until after unix time ``now``), has this hash."""
        rows = self._query(
            "SELECT name FROM sources WHERE key_hash = ? AND revoked_at IS NULL", (key_hash,)
        )
        if not rows:  # only a key that is not current pays for the second probe
            rows = self._query(
                "SELECT name FROM sources WHERE previous_key_hash = ? "
                "AND previous_key_until > ? AND revoked_at IS NULL",
                (key_hash, now),
            )
        return str(rows[0][0]) if rows else None

    def replace_source_key(
        self, name: str, prefix: str, key_hash: str, old_key_until: int = 0
    ) -> bool:
        """Give a source a new write key in place of its old one (and of its revocation);
        the old one is still taken until unix time ``old_key_until`` if later than now,
        unless it was revoked. False if there is no such source."""
        rows = self._query(
            "UPDATE sources SET "
            "previous_key_hash = CASE WHEN revoked_at IS NULL AND ? > 0 THEN key_hash END, "
            "previous_key_until = CASE WHEN revoked_at IS NULL THEN ? ELSE 0 END, "
            "prefix = ?, key_hash = ?, revoked_at = NULL WHERE name = ? RETURNING name",
            (old_key_until, old_key_until, prefix, key_hash, name),
        )
        return bool(rows)

    def revoke_source(self, name: str, when: str) -> bool:
        """Refuse the source's write key from now on; False if there is no live source of
        that name."""
        rows = self._query(
            "UPDATE sources SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL "
            "RETURNING name",
            (when, name),
        )
        return bool(rows)

    def source_has_records(self, name: str) -> bool:
        """Whether any record is kept under this source name (one index probe)."""
        return bool(self._query("SELECT 1 FROM source_records WHERE source = ? LIMIT 1", (name,)))

    def sources(self) -> list[SourceRow]:
        rows = self._query("SELECT name, prefix, trusted, revoked_at FROM sources ORDER BY name")
        return [SourceRow(n, p, bool(t), revoked is not None) for n, p, t, revoked in rows]

    # ----------------------------------------------------------------- collected events
    def append_collected(self, rows: Sequence[CollectedRow]) -> int:
        """Append events; one whose (source, message_id) is already logged is skipped (a
        retry). Returns how many were new."""
        self._serialise_log()
        written = 0
        for row in rows:
            found = self._query(
                "INSERT INTO events (kind, source, record_id, anonymous_id, message_id, payload) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source, message_id) "
                "WHERE message_id IS NOT NULL DO NOTHING RETURNING seq",
                row,
            )
            written += len(found)
        return written

    def events_after(self, seq: int, until: int, limit: int) -> list[LoggedEvent]:
        """Events with seq in (seq, until], in order."""
        rows = self._query(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
            (seq, until, limit),
        )
        return [_event(row) for row in rows]

    def last_event_seq(self) -> int:
        return int(self._query("SELECT COALESCE(MAX(seq), 0) FROM events")[0][0])

    def customer_events(
        self, customer_id: str, before: int | None, limit: int
    ) -> list[LoggedEvent]:
        """A customer's events, newest first: what her records and the anonymous visitors
        she turned out to be did (not the upserts of the records themselves)."""
        rows = self._query(
            f"SELECT {_EVENT_COLUMNS} FROM events WHERE seq IN ("
            "SELECT e.seq FROM events e JOIN customer_records c "
            "ON e.source = c.source AND e.record_id = c.record_id "
            "WHERE c.customer_id = ? AND e.kind NOT IN ('record.upserted', 'record.collected') "
            "UNION SELECT e.seq FROM events e JOIN anonymous_ids a "
            "ON e.source = a.source AND e.anonymous_id = a.anonymous_id "
            "JOIN customer_records c ON c.source = a.source AND c.record_id = a.record_id "
            "WHERE c.customer_id = ? AND e.anonymous_id IS NOT NULL) "
            "AND seq < ? ORDER BY seq DESC LIMIT ?",
            (customer_id, customer_id, before if before is not None else 2**62, limit),
        )
        return [_event(row) for row in rows]

    # ----------------------------------------------------------------- cursors
    def cursor(self, name: str) -> int:
        rows = self._query("SELECT seq FROM cursors WHERE name = ?", (name,))
        return int(rows[0][0]) if rows else 0

    def claim_cursor(self, name: str) -> int:
        """The cursor's position, for a transaction that will move it: on a backend where
        writers run at once it is held until the transaction ends, so that another
        follower waits and then finds where this one left it, rather than applying the
        same events to lose at advance_cursor (SQLite's single writer already waits)."""
        return self.cursor(name)

    def advance_cursor(self, name: str, start: int, seq: int) -> bool:
        """Move the cursor from ``start`` to ``seq``; False if it was no longer at start."""
        self._execute(
            "INSERT INTO cursors (name, seq) VALUES (?, 0) ON CONFLICT DO NOTHING", (name,)
        )
        rows = self._query(
            "UPDATE cursors SET seq = ? WHERE name = ? AND seq = ? RETURNING seq",
            (seq, name, start),
        )
        return bool(rows)

    # ----------------------------------------------------------------- anonymous visitors
    def link_anonymous(self, source: str, anonymous_id: str, record_id: str) -> None:
        """The visitor is the record from now on (the latest identify wins)."""
        self._execute(
            "INSERT INTO anonymous_ids (source, anonymous_id, record_id) VALUES (?, ?, ?) "
            "ON CONFLICT (source, anonymous_id) DO UPDATE SET record_id = excluded.record_id",
            (source, anonymous_id, record_id),
        )

    def anonymous_record(self, source: str, anonymous_id: str) -> str | None:
        rows = self._query(
            "SELECT record_id FROM anonymous_ids WHERE source = ? AND anonymous_id = ?",
            (source, anonymous_id),
        )
        return str(rows[0][0]) if rows else None

    def anonymous_ids_of(self, records: Sequence[RecordKey]) -> list[tuple[str, str]]:
        """(source, anonymous_id) of the visitors known to be these records."""
        found: list[tuple[str, str]] = []
        for source, ids in by_source(records):
            found += self._query(
                "SELECT source, anonymous_id FROM anonymous_ids "
                f"WHERE source = ? AND record_id IN ({marks(len(ids))})",
                (source, *ids),
            )
        return sorted((s, a) for s, a in found)

    # ----------------------------------------------------------------- record keys
    def replace_record_keys(
        self, records: Sequence[RecordKey], rows: Sequence[tuple[int, str, str]]
    ) -> None:
        """The keys of these records, replacing what they had."""
        with self.transaction():
            self._executemany("DELETE FROM record_keys WHERE source = ? AND record_id = ?", records)
            self._executemany(
                "INSERT INTO record_keys (key, source, record_id) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                rows,
            )

    def replace_all_record_keys(self, parts: Iterable[Sequence[tuple[int, str, str]]]) -> None:
        """Every record's (key, source, record_id), in parts, in place of every key stored
        before; the big blocks go too (``add_big_blocks`` counts them again)."""
        with self.transaction():
            self._execute("DELETE FROM record_keys")
            self._execute("DELETE FROM big_blocks")
            # The index by record is built once afterwards: cheaper than kept up row by row.
            self._execute("DROP INDEX ix_record_keys_record")
            for part in parts:
                self._executemany(
                    "INSERT INTO record_keys (key, source, record_id) VALUES (?, ?, ?)", part
                )
            self._execute("CREATE INDEX ix_record_keys_record ON record_keys (source, record_id)")
            self.note_identity_writes([EVERYTHING])

    def add_big_blocks(self, rows: Sequence[tuple[int, str, int]]) -> None:
        """(key, rule, size) of blocks too big to compare."""
        self._executemany("INSERT INTO big_blocks (key, rule, size) VALUES (?, ?, ?)", rows)

    def end_of_record_run(self, after: int) -> int:
        """The last seq of the run of record upserts that follows ``after`` in the log: up
        to the first other entry, or to the log's end."""
        rows = self._query(
            "SELECT MIN(seq) FROM events WHERE seq > ? "
            "AND kind NOT IN ('record.upserted', 'record.collected')",
            (after,),
        )
        other = rows[0][0]
        return int(other) - 1 if other is not None else self.last_event_seq()

    def keys_of_records(self, records: Sequence[RecordKey]) -> set[int]:
        """The stored keys of these records."""
        found: set[int] = set()
        for source, ids in by_source(records):
            rows = self._query(
                "SELECT key FROM record_keys "
                f"WHERE source = ? AND record_id IN ({marks(len(ids))})",
                (source, *ids),
            )
            found.update(int(key) for (key,) in rows)
        return found

    def records_with_keys(self, keys: Iterable[int]) -> list[RecordKey]:
        """The records holding any of ``keys``."""
        found: set[RecordKey] = set()
        for part in chunks(sorted(set(keys))):
            rows = self._query(
                "SELECT DISTINCT source, record_id FROM record_keys "
                f"WHERE key IN ({marks(len(part))})",
                part,
            )
            found.update((source, record_id) for source, record_id in rows)
        return sorted(found)

    def recount_blocks(self, keys: Sequence[tuple[int, str]], limit: int) -> None:
        """Count these (key, rule) blocks again after records changed: those now holding
        more than ``limit`` records are big, the others not."""
        rules = dict(keys)
        big: list[tuple[int, str, int]] = []
        for part in chunks(sorted(rules)):
            rows = self._query(
                f"SELECT key, COUNT(*) FROM record_keys WHERE key IN ({marks(len(part))}) "
                "GROUP BY key HAVING COUNT(*) > ?",
                (*part, limit),
            )
            big += [(int(key), rules[int(key)], int(size)) for key, size in rows]
        self._executemany("DELETE FROM big_blocks WHERE key = ?", [(k,) for k in rules])
        self._executemany("INSERT INTO big_blocks (key, rule, size) VALUES (?, ?, ?)", big)

    def big_blocks(self) -> dict[str, list[int]]:
        """Rule -> keys of its blocks too big to compare (a few dozen in a million
        records, so read whole)."""
        out: dict[str, list[int]] = {}
        for key, rule in self._query("SELECT key, rule FROM big_blocks ORDER BY key"):
            out.setdefault(rule, []).append(int(key))
        return out

    # ----------------------------------------------------------------- shared values
    def shared_values(self, keys: Iterable[int]) -> dict[int, bool]:
        """Of these value keys, those kept as shared, each with whether a household's."""
        found: dict[int, bool] = {}
        for part in chunks(sorted(set(keys))):
            rows = self._query(
                f"SELECT key, household FROM shared_values WHERE key IN ({marks(len(part))})",
                part,
            )
            found.update((int(key), bool(household)) for key, household in rows)
        return found

    def replace_shared_values(self, keys: Iterable[int], shared: Mapping[int, bool]) -> None:
        """The decisions on these value keys: ``shared`` (key -> a household's) are shared,
        the other keys not."""
        self._executemany("DELETE FROM shared_values WHERE key = ?", [(k,) for k in set(keys)])
        self._executemany(
            "INSERT INTO shared_values (key, household) VALUES (?, ?)",
            [(key, int(household)) for key, household in shared.items()],
        )

    def replace_all_shared_values(self, shared: Mapping[int, bool]) -> None:
        """Every value shared (key -> a household's), in place of all kept before."""
        with self.transaction():
            self._execute("DELETE FROM shared_values")
            self.replace_shared_values((), shared)
            self.note_identity_writes([EVERYTHING])

    # ----------------------------------------------------------------- placements
    def placements(self, records: Sequence[RecordKey]) -> dict[RecordKey, tuple[str, str | None]]:
        """(customer, component) of those of these records that have one."""
        found: dict[RecordKey, tuple[str, str | None]] = {}
        for source, ids in by_source(records):
            rows = self._query(
                "SELECT source, record_id, customer_id, component FROM customer_records "
                f"WHERE source = ? AND record_id IN ({marks(len(ids))})",
                (source, *ids),
            )
            for source, record_id, customer, component in rows:
                found[(source, record_id)] = (customer, component)
        return found

    def component_members(self, components: Sequence[str]) -> list[RecordKey]:
        members: list[RecordKey] = []
        for part in chunks(sorted(set(components))):
            rows = self._query(
                "SELECT source, record_id FROM customer_records "
                f"WHERE component IN ({marks(len(part))})",
                part,
            )
            members += [(s, r) for s, r in rows]
        return members

    def normalised_rows(
        self, records: Sequence[RecordKey], fields: Sequence[str]
    ) -> list[tuple[RecordKey, tuple[str | None, ...]]]:
        """Each of these records' values of ``fields``, in that order (absent records are
        left out)."""
        out: list[tuple[RecordKey, tuple[str | None, ...]]] = []
        names = ", ".join(fields)
        for source, ids in by_source(records):
            rows = self._query(
                f"SELECT source, record_id, {names} FROM source_records "
                f"WHERE source = ? AND record_id IN ({marks(len(ids))})",
                (source, *ids),
            )
            out += [((row[0], row[1]), tuple(row[2:])) for row in rows]
        return out

    def customers_holding(
        self, key: int, column: str, value: str, source: str | None = None
    ) -> list[str]:
        """The customers of the records (of ``source``, if given) whose ``column`` is
        ``value``, found through the record key of that value; "" stands for records not
        resolved yet (someone, but nobody known)."""
        rows = self._query(
            "SELECT DISTINCT c.customer_id FROM record_keys k "
            "JOIN source_records r ON r.source = k.source AND r.record_id = k.record_id "
            "LEFT JOIN customer_records c ON c.source = k.source AND c.record_id = k.record_id "
            f"WHERE k.key = ? AND r.{column} = ? " + ("AND k.source = ? " if source else ""),
            (key, value, source) if source else (key, value),
        )
        return sorted(str(customer) if customer else "" for (customer,) in rows)

    def customer_view(
        self, customer_id: str, fields: Sequence[str]
    ) -> tuple[list[tuple[Any, ...]], list[tuple[str, str]]]:
        """A customer's records (source, record_id, *fields) in key order, and the
        (source, anonymous_id) of the visitors she turned out to be: two queries."""
        records = self._query(
            f"SELECT r.source, r.record_id, {', '.join('r.' + f for f in fields)} "
            "FROM customer_records c JOIN source_records r "
            "ON r.source = c.source AND r.record_id = c.record_id "
            "WHERE c.customer_id = ? ORDER BY r.source, r.record_id",
            (customer_id,),
        )
        visitors = self._query(
            "SELECT a.source, a.anonymous_id FROM customer_records c JOIN anonymous_ids a "
            "ON a.source = c.source AND a.record_id = c.record_id "
            "WHERE c.customer_id = ? ORDER BY a.source, a.anonymous_id",
            (customer_id,),
        )
        return records, [(s, a) for s, a in visitors]

    def customers_of(self, records: Sequence[RecordKey]) -> Mapping[RecordKey, str]:
        return {key: customer for key, (customer, _) in self.placements(records).items()}
