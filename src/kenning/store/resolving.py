"""Resolving outside the write lock: the records waiting to be placed, and what each write
to the identity graph changed.

The follower indexes a run's records under the write lock and commits; it then resolves
them outside any transaction while other followers and requests write, and places the
result under the lock only if no write since the generation it began at changed anything
it read (optimistic concurrency); otherwise it resolves them again under the lock. (Not
a read transaction: one held through every resolving would keep SQLite from ever
starting its write-ahead log afresh, and the log would grow without end.)

Writes are noted as tags, a kind and a value:

- ``v`` a record's values and keys (written when a record is indexed),
- ``s`` the decision on whether an identifier value is shared (by its key),
- ``p`` a record's placement (customer and component) and the corrections naming it,
- ``c`` a component's members, ``u`` a customer's records,
- EVERYTHING: a write too big to list (a batch run, indexing every record).

What a resolution read is kept in memory, by kind, and only the few tags written since are
read back to test against it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from kenning.store.hooks import SqlHooks

RecordKey = tuple[str, str]
EVERYTHING = "*"
# Writes listed tag by tag up to this many; beyond, EVERYTHING (a batch run).
LISTED = 20_000
# Generations of writes kept: a resolution begun before them is taken to conflict.
KEEP_GENERATIONS = 2_000
_SEP = "\x1f"
# How each kind's values are read back from a tag.
_VALUES = {"v": "record", "p": "record", "s": "int", "c": "text", "u": "text"}


def tags(kind: str, values: Iterable[str | int | RecordKey]) -> list[str]:
    """The tags of these values (records, component labels, customers, value keys)."""
    return [
        kind + _SEP + (_SEP.join(value) if isinstance(value, tuple) else str(value))
        for value in values
    ]


def _value(tag: str) -> tuple[str, Any]:
    kind, _, text = tag.partition(_SEP)
    form = _VALUES[kind]
    if form == "record":
        source, _, record_id = text.partition(_SEP)
        return kind, (source, record_id)
    return kind, int(text) if form == "int" else text


class ResolvingTables(SqlHooks):
    # ----------------------------------------------------------------- pending records
    def add_pending(self, records: Sequence[RecordKey]) -> None:
        self._executemany(
            "INSERT INTO pending_resolution (source, record_id) VALUES (?, ?) "
            "ON CONFLICT DO NOTHING",
            records,
        )

    def remove_pending(self, records: Sequence[RecordKey]) -> None:
        self._executemany(
            "DELETE FROM pending_resolution WHERE source = ? AND record_id = ?", records
        )

    def pending(self, limit: int) -> list[RecordKey]:
        rows = self._query(
            "SELECT source, record_id FROM pending_resolution ORDER BY source, record_id LIMIT ?",
            (limit,),
        )
        return [(str(source), str(record_id)) for source, record_id in rows]

    def clear_pending(self) -> None:
        self._execute("DELETE FROM pending_resolution")

    # ----------------------------------------------------------------- writes
    def identity_generation(self) -> int:
        """The generation of the last write noted (read before what it guards)."""
        return int(self._query("SELECT COALESCE(MAX(gen), 0) FROM identity_writes")[0][0])

    def note_identity_writes(self, written: Iterable[str]) -> None:
        """Note, in the caller's transaction, what it changed (tags) as a new generation."""
        unique = sorted(set(written))
        if not unique:
            return
        if len(unique) > LISTED:
            unique = [EVERYTHING]
        self.serialise_identity()  # generations commit in order
        gen = self.identity_generation() + 1
        self._executemany(
            "INSERT INTO identity_writes (gen, tag) VALUES (?, ?)", [(gen, t) for t in unique]
        )
        if gen % 100 == 0:
            self._execute("DELETE FROM identity_writes WHERE gen <= ?", (gen - KEEP_GENERATIONS,))

    def _tags_since(self, gen: int) -> list[str] | None:
        """The tags written after generation ``gen``; None when they cannot all be told (a
        write of everything, or writes in between forgotten)."""
        oldest = self._query("SELECT MIN(gen) FROM identity_writes")[0][0]
        if oldest is not None and int(oldest) > gen + 1:
            return None
        rows = self._query("SELECT tag FROM identity_writes WHERE gen > ?", (gen,))
        written = [str(tag) for (tag,) in rows]
        return None if EVERYTHING in written else written

    def changed_since(self, gen: int, read: Mapping[str, Collection[Any]]) -> bool:
        """Whether a write after generation ``gen`` changed any of what was ``read`` (by
        kind of tag, the values read)."""
        written = self._tags_since(gen)
        if written is None:
            return True
        for tag in written:
            kind, value = _value(tag)
            if value in read.get(kind, ()):
                return True
        return False

    def written_since(self, gen: int, kind: str) -> set[Any] | None:
        """The values of tags of ``kind`` written after generation ``gen`` (None: they
        cannot all be told, see _tags_since)."""
        written = self._tags_since(gen)
        if written is None:
            return None
        return {value for k, value in map(_value, written) if k == kind}
