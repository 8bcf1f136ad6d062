"""The follower's dead letters: events of the log it could not apply, set aside with their
error so that it follows on past them (see services/dead_letters.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kenning.store.hooks import SqlHooks, chunks, marks


@dataclass(frozen=True, slots=True)
class DeadLetter:
    seq: int  # the event's place in the log
    kind: str  # the log's kind: segment.track, segment.identify …
    source: str
    name: str  # a track's event name ("Order Completed"), else ""
    error: str  # the last failure, without the values the event gave
    first_failed_at: str
    last_failed_at: str
    attempts: int
    resolved_at: str | None  # when a retry applied it; None while it is open


_COLUMNS = "seq, kind, source, name, error, first_failed_at, last_failed_at, attempts, resolved_at"


class DeadLetterTables(SqlHooks):
    def set_aside(self, seq: int, kind: str, source: str, name: str, error: str, at: str) -> None:
        """Note that the event ``seq`` failed with ``error`` at ``at``: a new dead letter,
        or one more failed attempt of an existing one (open again if it was resolved)."""
        self._execute(
            f"INSERT INTO dead_letters ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, 1, NULL) "
            "ON CONFLICT (seq) DO UPDATE SET error = excluded.error, "
            "last_failed_at = excluded.last_failed_at, "
            "attempts = dead_letters.attempts + 1, resolved_at = NULL",
            (seq, kind, source, name, error, at, at),
        )

    def dead_letters(
        self, seqs: Sequence[int] | None = None, *, resolved: bool = False
    ) -> list[DeadLetter]:
        """The open dead letters (with ``resolved``, those a retry applied too), in log
        order; only those of ``seqs`` when given."""
        where = "" if resolved else "WHERE resolved_at IS NULL"
        if seqs is None:
            rows = self._query(f"SELECT {_COLUMNS} FROM dead_letters {where} ORDER BY seq")
        else:
            rows = []
            for part in chunks(sorted(set(seqs))):
                rows += self._query(
                    f"SELECT {_COLUMNS} FROM dead_letters "
                    f"{where or 'WHERE 1 = 1'} AND seq IN ({marks(len(part))}) ORDER BY seq",
                    part,
                )
        return [
            DeadLetter(int(seq), kind, source, name, error, str(first), str(last), int(n), done)
            for seq, kind, source, name, error, first, last, n, done in rows
        ]

    def count_dead_letters(self) -> int:
        """How many events are set aside and not applied since (for monitoring)."""
        return int(self._query("SELECT COUNT(*) FROM dead_letters WHERE resolved_at IS NULL")[0][0])

    def resolve_dead_letter(self, seq: int, at: str) -> bool:
        """Mark the open dead letter ``seq`` applied; False if it is not open (another
        retry applied it first, or there is none)."""
        rows = self._query(
            "UPDATE dead_letters SET resolved_at = ? WHERE seq = ? AND resolved_at IS NULL "
            "RETURNING seq",
            (at, seq),
        )
        return bool(rows)
