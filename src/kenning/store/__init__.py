"""Persistence: the event log and derived state, on SQLite (embedded) or PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from kenning.store.base import Event, ImportRun, RecordState, Store, StoredRecord

__all__ = [
    "Event",
    "ImportRun",
    "RecordState",
    "Store",
    "StoredRecord",
    "is_sqlite_file",
    "open_store",
]

_POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def is_sqlite_file(url: str) -> bool:
    """Whether ``url`` names an SQLite database in a file (not PostgreSQL, not memory)."""
    if url.startswith(_POSTGRES_SCHEMES):
        return False
    return url.removeprefix("sqlite://").removeprefix("/") not in ("", ":memory:")


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the store a database URL names and bring its schema up to date.

    ``sqlite:///kenning.db`` (relative), ``sqlite:////abs/path.db``, ``sqlite:///:memory:``,
    a bare file path, or ``postgresql://user@host:port/db``.
    """
    store: Store
    if url.startswith(_POSTGRES_SCHEMES):
        from kenning.store.postgres import PostgresStore

        store = PostgresStore("postgresql://" + url.split("://", 1)[1])
    elif url.startswith("sqlite://"):
        from kenning.store.sqlite import SQLiteStore

        path = url.removeprefix("sqlite://").removeprefix("/")
        store = SQLiteStore(path or ":memory:")
    elif "://" in url:
        raise ValueError(f"unsupported database URL {url!r}: use sqlite:///FILE or postgresql://…")
    else:
        from kenning.store.sqlite import SQLiteStore

        store = SQLiteStore(Path(url))
    if migrate:
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
    return store
