"""PostgreSQL sessions ended by the server (a restart, a fail-over, pg_terminate_backend):
a store finds a new one, and so does the server's pool."""

from __future__ import annotations

import time
from contextlib import ExitStack

import psycopg
import pytest

from kenning.store import open_store
from kenning.store.pool import StorePool
from kenning.store.postgres import PostgresStore
from postgres_sessions import NamedPostgres

pytestmark = pytest.mark.postgres


def test_a_store_replaces_a_connection_ended_while_idle(named_postgres: NamedPostgres) -> None:
    with open_store(named_postgres.url) as store:
        assert store.event_count() == 0
        assert named_postgres.end_sessions() == 1
        assert store.event_count() == 0  # outside a transaction block
        assert named_postgres.end_sessions() == 1
        with store.transaction():  # the first statement of one
            store.append_events([("test", "web", "r1", "m1", "{}")])
        assert store.event_count() == 1
    with pytest.raises(psycopg.OperationalError):  # closed is closed: no new connection
        store.event_count()


def test_a_transaction_that_loses_its_connection_fails_and_the_next_works(
    named_postgres: NamedPostgres,
) -> None:
    with open_store(named_postgres.url) as store:
        with pytest.raises(psycopg.OperationalError), store.transaction():
            store.append_events([("test", "web", "r1", "m1", "{}")])
            named_postgres.end_sessions()
            # Never run on a new connection, outside the transaction it belongs to.
            store.append_events([("test", "web", "r2", "m2", "{}")])
        with store.transaction():
            store.append_events([("test", "web", "r3", "m3", "{}")])
        assert [e.record_id for e in store.iter_events()] == ["r3"]


def test_the_pool_replaces_every_ended_connection_at_once(named_postgres: NamedPostgres) -> None:
    pool = StorePool(named_postgres.url, size=4)
    try:
        with ExitStack() as borrowed:  # four connections at once: the pool holds four
            for store in [borrowed.enter_context(pool.store()) for _ in range(4)]:
                assert store.event_count() == 0
        assert named_postgres.end_sessions() == 4
        began = time.monotonic()
        with ExitStack() as borrowed:
            for store in [borrowed.enter_context(pool.store()) for _ in range(4)]:
                assert store.event_count() == 0
        # Meeting each ended connection in turn, the pool would wait 1 + 2 + 4 s.
        assert time.monotonic() - began < 3
    finally:
        pool.close()


_KEEPALIVES = {
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "5",
    "keepalives_count": "3",
    "tcp_user_timeout": "20000",
    "connect_timeout": "5",
}


def test_connections_notice_a_dead_socket_in_seconds(named_postgres: NamedPostgres) -> None:
    # A fail-over that sends no reset leaves the socket open: without keepalives and a
    # user timeout, a statement on it would wait the kernel's ~15 minutes.
    pool = StorePool(named_postgres.url, size=1)
    try:
        with open_store(named_postgres.url) as own, pool.store() as lent:
            for store in (own, lent):
                assert isinstance(store, PostgresStore)
                parameters = store._conn.info.get_parameters()
                assert {k: parameters.get(k) for k in _KEEPALIVES} == _KEEPALIVES
    finally:
        pool.close()
