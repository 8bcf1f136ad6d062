"""Identity review: the pairs the last batch run was least sure of, and people's answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from kenning.store.hooks import SqlHooks

RecordKey = tuple[str, str]
_PAIR = "a_source, a_record_id, b_source, b_record_id"


@dataclass(frozen=True)
class ReviewAnswer:
    a: RecordKey  # a < b
    b: RecordKey
    link: bool  # one person
    answered_by: str | None
    note: str | None
    answered_at: str


@dataclass(frozen=True)
class ReviewPairRow:
    a: RecordKey  # a < b
    b: RecordKey
    explanation: dict[str, Any]  # see Explanation.numbers


def ordered(a: RecordKey, b: RecordKey) -> tuple[RecordKey, RecordKey]:
    """A pair in its one stored order."""
    return (a, b) if a <= b else (b, a)


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


class ReviewTables(SqlHooks):
    def answer_review(
        self,
        a: RecordKey,
        b: RecordKey,
        link: bool,
        *,
        answered_by: str | None,
        note: str | None,
        answered_at: datetime,
    ) -> None:
        """Keep an answer on two records, in place of any earlier one on them."""
        a, b = ordered(a, b)
        self._execute(
            f"INSERT INTO review_answers ({_PAIR}, link, answered_by, note, answered_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (a_source, a_record_id, b_source, b_record_id) DO UPDATE SET "
            "link = excluded.link, answered_by = excluded.answered_by, note = excluded.note, "
            "answered_at = excluded.answered_at",
            (*a, *b, int(link), answered_by, note, answered_at.isoformat()),
        )

    def review_answers(self) -> list[ReviewAnswer]:
        rows = self._query(
            f"SELECT {_PAIR}, link, answered_by, note, answered_at FROM review_answers "
            f"ORDER BY {_PAIR}"
        )
        return [
            ReviewAnswer((a1, a2), (b1, b2), bool(link), by, note, _text(at))
            for a1, a2, b1, b2, link, by, note, at in rows
        ]

    def replace_review_pairs(
        self, pairs: Sequence[tuple[RecordKey, RecordKey, Mapping[str, Any]]]
    ) -> None:
        """The pairs to review now, most uncertain first, in place of those kept before."""
        rows = []
        for n, (a, b, explanation) in enumerate(pairs):
            first, second = ordered(a, b)
            rows.append((*first, *second, n, orjson.dumps(explanation).decode()))
        self._execute("DELETE FROM review_pairs")
        self._executemany(
            f"INSERT INTO review_pairs ({_PAIR}, ordinal, explanation) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )

    def review_pairs(self, limit: int, offset: int = 0) -> list[ReviewPairRow]:
        """The pairs to review that nobody has answered yet, most uncertain first."""
        rows = self._query(
            "SELECT p.a_source, p.a_record_id, p.b_source, p.b_record_id, p.explanation "
            "FROM review_pairs p WHERE NOT EXISTS (SELECT 1 FROM review_answers r "
            "WHERE r.a_source = p.a_source AND r.a_record_id = p.a_record_id "
            "AND r.b_source = p.b_source AND r.b_record_id = p.b_record_id) "
            "ORDER BY p.ordinal LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [
            ReviewPairRow(
                (a1, a2), (b1, b2), orjson.loads(e) if isinstance(e, str | bytes) else dict(e)
            )
            for a1, a2, b1, b2, e in rows
        ]
