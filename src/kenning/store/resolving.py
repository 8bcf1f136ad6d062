"""Resolving outside the write lock: the records waiting to be placed, and what each write
to the identity graph changed.

The follower indexes a run's records under the write lock and commits; it then resolves
them on a snapshot while other followers and requests write, and places the result under
the lock only if nothing it read has changed since (optimistic concurrency); otherwise it
resolves them again under the lock. Reads and writes are compared as tags, 64-bit hashes
of a kind and a value:

- ``v`` a record's values and keys (written when a record is indexed),
- ``s`` the decision on whether an identifier value is shared,
- ``p`` a record's placement (customer and component) and the corrections naming it,
- ``c`` a component's members, ``u`` a customer's records,
- EVERYTHING: a write too big to list (a batch run, indexing every record).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from hashlib import blake2b

import numpy as np

from kenning.store.hooks import SqlHooks

RecordKey = tuple[str, str]
EVERYTHING = 0
# Writes listed tag by tag up to this many; beyond, EVERYTHING (a batch run).
LISTED = 20_000
# Generations of writes kept: a snapshot older than them is taken to conflict.
KEEP_GENERATIONS = 2_000


def tags(kind: str, values: Iterable[str | int | RecordKey]) -> list[int]:
    """The tags of these values (records, component labels, customers, value keys)."""
    out = []
    for value in values:
        text = "\x1f".join(value) if isinstance(value, tuple) else str(value)
        digest = blake2b(f"{kind}\x1f{text}".encode(), digest_size=8).digest()
        out.append(int.from_bytes(digest, "little", signed=True) or 1)  # 0 is EVERYTHING
    return out


class ResolvingTables(SqlHooks):
    def snapshot(self) -> AbstractContextManager[None]:
        """A consistent view for reads only, holding no write lock (inside a transaction:
        that transaction's own view). Backends that have snapshots override this."""
        return self.transaction()

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
        """The generation of the last write noted (read first in a snapshot)."""
        return int(self._query("SELECT COALESCE(MAX(gen), 0) FROM identity_writes")[0][0])

    def note_identity_writes(self, written: Iterable[int]) -> None:
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

    def changed_since(self, gen: int, read: Sequence[int]) -> bool:
        """Whether a write after generation ``gen`` changed any of these tags."""
        oldest = self._query("SELECT MIN(gen) FROM identity_writes")[0][0]
        if oldest is not None and int(oldest) > gen + 1:
            return True  # the writes in between are forgotten
        written = np.array(
            [t for (t,) in self._query("SELECT tag FROM identity_writes WHERE gen > ?", (gen,))],
            np.int64,
        )
        if not len(written):
            return False
        return bool(
            (written == EVERYTHING).any() or np.isin(np.array(read, np.int64), written).any()
        )
