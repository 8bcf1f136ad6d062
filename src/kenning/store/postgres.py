"""PostgreSQL backend (psycopg 3): the production store."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import psycopg
import psycopg.errors

from kenning.store.base import Store
from kenning.store.postgres_holds import OneStatementHolds
from kenning.store.postgres_ledger import OneStatementLedger

_MARK = re.compile(r"\?")
# Any constant works; it names the lock migrations take so two processes never race.
_MIGRATION_LOCK = 0x6B656E6E


def _paramstyle(sql: str) -> str:
    # The shared SQL never holds a literal '?' or '%', so the rewrite is exact.
    return _MARK.sub("%s", sql)


class PostgresStore(OneStatementHolds, OneStatementLedger, Store):
    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn = psycopg.connect(url, autocommit=True)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # psycopg nests transaction blocks as savepoints.
        with self._conn.transaction():
            yield

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(_paramstyle(sql), params)

    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._conn.cursor() as cur:
            cur.executemany(_paramstyle(sql), rows)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(_paramstyle(sql), params).fetchall()

    def _serialise_log(self) -> None:
        # Held to the end of the transaction: appenders take turns, so seqs commit in order.
        self._execute("SELECT pg_advisory_xact_lock(7291)")

    def serialise_identity(self) -> None:
        self._execute("SELECT pg_advisory_xact_lock(7292)")

    def claim_cursor(self, name: str) -> int:
        self._execute(
            "INSERT INTO cursors (name, seq) VALUES (?, 0) ON CONFLICT DO NOTHING", (name,)
        )
        return int(self._query("SELECT seq FROM cursors WHERE name = ? FOR UPDATE", (name,))[0][0])

    def _is_conflict(self, exc: Exception) -> bool:
        return isinstance(exc, psycopg.errors.UniqueViolation)

    def is_transient(self, exc: BaseException) -> bool:
        return isinstance(
            exc, psycopg.errors.DeadlockDetected | psycopg.errors.SerializationFailure
        )

    def is_unavailable(self, exc: BaseException) -> bool:
        # Connection lost or refused, the server shutting down or out of resources, a
        # statement cancelled (class 57, 53, 08 …), a broken session: not the data's fault.
        return self.is_transient(exc) or isinstance(
            exc, psycopg.OperationalError | psycopg.InterfaceError | psycopg.InternalError
        )

    def _dialect_slots(self) -> dict[str, str]:
        return {
            "pk": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
            "json": "JSONB",
            "ts": "TIMESTAMPTZ",
            "now": "now()",
        }

    def _lock_for_migration(self) -> None:
        self._execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))

    def close(self) -> None:
        self._conn.close()


@contextmanager
def scratch_schema(server_url: str, prefix: str = "kenning_scratch") -> Iterator[str]:
    """A URL for a fresh, empty schema on ``server_url``, dropped on exit: tests and
    benchmarks each get a database of their own on one server."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in server_url else "?"
    try:
        yield f"{server_url}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
