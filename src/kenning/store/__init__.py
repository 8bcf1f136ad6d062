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
    "is_postgres",
    "is_sqlite_file",
    "is_unavailable",
    "open_store",
    "unavailable_errors",
]

_POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def is_postgres(url: str) -> bool:
    """Whether ``url`` names a PostgreSQL database."""
    return url.startswith(_POSTGRES_SCHEMES)


def is_sqlite_file(url: str) -> bool:
    """Whether ``url`` names an SQLite database in a file (not PostgreSQL, not memory)."""
    if is_postgres(url):
        return False
    return url.removeprefix("sqlite://").removeprefix("/") not in ("", ":memory:")


def postgres_conninfo(url: str) -> str:
    """The URL libpq takes for a PostgreSQL ``url`` of any accepted scheme."""
    return "postgresql://" + url.split("://", 1)[1]


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the store a database URL names and bring its schema up to date.

    ``sqlite:///kenning.db`` (relative), ``sqlite:////abs/path.db``, ``sqlite:///:memory:``,
    a bare file path, or ``postgresql://user@host:port/db``.
    """
    store: Store
    if is_postgres(url):
        from kenning.store.postgres import PostgresStore

        store = PostgresStore(postgres_conninfo(url))
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


def unavailable_errors() -> tuple[type[Exception], ...]:
    """The errors by which the database server may say it cannot serve now: the API
    answers those is_unavailable confirms with 503 (the next request may well work)."""
    import psycopg

    return (psycopg.OperationalError,)


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot serve now (a connection lost or refused,
    the server shutting down or out of resources, no pooled connection free in time),
    not that a statement went beyond its limits (a value too big to index)."""
    import psycopg
    import psycopg.errors

    return isinstance(exc, psycopg.OperationalError) and not isinstance(
        exc, psycopg.errors.ProgramLimitExceeded
    )
