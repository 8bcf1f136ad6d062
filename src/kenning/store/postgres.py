"""PostgreSQL backend (psycopg 3): the production store."""

from __future__ import annotations

import re
import select
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import psycopg
import psycopg.errors
from psycopg_pool import ConnectionPool

from kenning.store.base import Store
from kenning.store.postgres_holds import OneStatementHolds
from kenning.store.postgres_ledger import OneStatementLedger

_MARK = re.compile(r"\?")
# Any constant works; it names the lock migrations take so two processes never race.
_MIGRATION_LOCK = 0x6B656E6E


# How Kenning's sessions are named in pg_stat_activity, unless the URL names them
# (``?application_name=…``).
APPLICATION_NAME = "kenning"
POOL_TIMEOUT_SECONDS = 5.0
# TCP keepalives and a user timeout: a socket left dead by a fail-over that sent no reset
# is noticed in seconds (10 s idle + 3 probes 5 s apart; unacknowledged data for 20 s)
# rather than after the kernel's default of about 15 minutes; a server that does not
# answer a connection attempt is given up after 5 s.
_CONNECT: dict[str, Any] = {
    "autocommit": True,
    "fallback_application_name": APPLICATION_NAME,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 20_000,
    "connect_timeout": 5,
}


def _paramstyle(sql: str) -> str:
    # The shared SQL never holds a literal '?' or '%', so the rewrite is exact.
    return _MARK.sub("%s", sql)


def _has_input(fd: int) -> bool:
    if hasattr(select, "poll"):  # select() cannot watch descriptors past FD_SETSIZE
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])


def check_connection(conn: psycopg.Connection[Any]) -> None:
    """Raise psycopg.OperationalError if the server has ended the idle connection ``conn``
    (a restart, a fail-over, pg_terminate_backend), else return at once. An idle session
    hears nothing from its server unless asked, except its goodbye: the server says why it
    ends a session before closing it. So the round trip of a real check is paid only when
    something has arrived, not on every use."""
    if conn.closed:
        raise psycopg.OperationalError("the connection is closed")
    if _has_input(conn.fileno()):
        ConnectionPool.check_connection(conn)


class PostgresStore(OneStatementHolds, OneStatementLedger, Store):
    """A store over one connection: its own (``conn`` None), replaced when the server
    has ended it, or one lent by a PostgresPool, which checks it before lending it."""

    dialect = "postgresql"
    _skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, conn: psycopg.Connection[Any] | None = None) -> None:
        self.url = url
        # Whether this store replaces its connection when lost (not once closed, nor one lent).
        self._owned = conn is None
        self._live = conn if conn is not None else psycopg.connect(url, **_CONNECT)
        self._depth = 0  # transaction blocks open

    @property
    def _conn(self) -> psycopg.Connection[Any]:
        """The connection, first replaced by a new one if this store owns it, the server
        has ended it, and no transaction block is open: a statement outside a transaction
        block, or the first of one, never meets a connection lost while idle. A transaction
        that loses its connection raises (its caller's retry runs it again on the new one):
        its later statements must not run on another connection, outside its transaction."""
        conn = self._live
        if self._owned and self._depth == 0:
            try:
                check_connection(conn)
            except psycopg.OperationalError:
                conn.close()
                conn = self._live = psycopg.connect(self.url, **_CONNECT)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # psycopg nests transaction blocks as savepoints.
        with self._conn.transaction():
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1

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

    def serialise_signups(self) -> None:
        self._execute("SELECT pg_advisory_xact_lock(7293)")

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
        # A value beyond a limit (too big to index, class 54) is the data's fault.
        return self.is_transient(exc) or (
            isinstance(
                exc, psycopg.OperationalError | psycopg.InterfaceError | psycopg.InternalError
            )
            and not isinstance(exc, psycopg.errors.ProgramLimitExceeded)
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
        if self._owned:  # a lent connection goes back to its pool
            self._owned = False
            self._live.close()


class PostgresPool:
    """The connections a server's requests borrow (psycopg_pool), up to ``size``. Each
    is checked as it is lent (see check_connection), so a request never gets one the
    server has ended; once one is found ended, every idle one is replaced at once (the
    server most likely ended them all: a restart, a fail-over)."""

    def __init__(self, url: str, size: int) -> None:
        self.url = url
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url,
            kwargs=_CONNECT,
            min_size=1,
            max_size=size,
            check=self._check,
            name=APPLICATION_NAME,
            # A request waits this long for a connection, then answers 503 (try again): far
            # beyond any queue of healthy requests, and a client is not held for the
            # default 30 s while the server is down.
            timeout=POOL_TIMEOUT_SECONDS,
            open=True,
        )
        self._migrated = False
        self._lock = threading.Lock()

    def _check(self, conn: psycopg.Connection[Any]) -> None:
        try:
            check_connection(conn)
        except psycopg.OperationalError:
            # The pool waits longer after each failed check (1 s, 2 s, 4 s…): meeting the
            # other ended connections one by one would keep requests waiting for minutes.
            self._pool.drain()
            raise

    def borrow(self) -> PostgresStore:
        """A store over a pooled connection; give it back with give_back."""
        store = PostgresStore(self.url, self._pool.getconn())
        if not self._migrated:
            try:
                with self._lock:  # the first borrower brings the schema up to date
                    if not self._migrated:
                        store.migrate()
                        self._migrated = True
            except BaseException:
                self.give_back(store)
                raise
        return store

    def give_back(self, store: PostgresStore) -> None:
        # A transaction block left open is rolled back; an ended connection is replaced.
        self._pool.putconn(store._live)

    def close(self) -> None:
        self._pool.close()


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
