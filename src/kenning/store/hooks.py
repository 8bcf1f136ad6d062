"""What every backend provides: transactions and statement execution with bound parameters."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any


class SqlHooks(ABC):
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

    def serialise_identity(self) -> None:  # noqa: B027 (a hook most backends need not fill)
        """Make this transaction the only one changing customers until it ends (the
        follower, a manual link): each reads placements and writes them back. A
        single-writer backend needs nothing."""
