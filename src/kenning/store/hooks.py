"""What every backend provides: transactions and statement execution with bound parameters."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, TypeVar

T = TypeVar("T")
# Bound parameters per statement; both SQLite (32766) and PostgreSQL (65535) allow more.
CHUNK = 500


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def marks(n: int) -> str:
    """``?, ?, …``: n bound parameters."""
    return ", ".join("?" for _ in range(n))


def by_source(records: Iterable[tuple[str, str]]) -> Iterator[tuple[str, Sequence[str]]]:
    """Record ids grouped by source, in chunks: ``source = ? AND record_id IN (…)`` walks
    the key index, where a row-value IN list would make SQLite scan the table."""
    grouped: dict[str, list[str]] = {}
    for source, record_id in records:
        grouped.setdefault(source, []).append(record_id)
    for source, ids in grouped.items():
        yield from ((source, part) for part in chunks(ids))


class SqlHooks(ABC):
    # Appended to a SELECT of rows a statement claims: concurrent claimers pass over rows
    # another holds instead of waiting for them (a single-writer backend has no others).
    _skip_locked = ""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """All writes inside commit together or not at all; nesting is allowed."""

    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    @abstractmethod
    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    @abstractmethod
    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def _serialise_log(self) -> None:  # noqa: B027 (a hook most backends need not fill)
        """Make this transaction's appends to the event log commit in seq order, so that a
        follower never sees seq n+1 before n. A single-writer backend needs nothing."""

    def serialise_signups(self) -> None:  # noqa: B027 (a hook most backends need not fill)
        """Make this transaction the only one issuing sign-up codes until it ends: each
        counts the codes already issued before adding one. A single-writer backend needs
        nothing."""

    def serialise_identity(self) -> None:  # noqa: B027 (a hook most backends need not fill)
        """Make this transaction the only one changing customers until it ends (the
        follower, a manual link): each reads placements and writes them back. A
        single-writer backend needs nothing."""
