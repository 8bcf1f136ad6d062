"""A small pool of stores for servers: each request borrows a connection of its own.

A store's connection runs one transaction at a time, so concurrent requests each need
their own. On SQLite every pooled store is a connection to the same file (WAL readers work
side by side; writers take turns with BEGIN IMMEDIATE); on PostgreSQL each is a session of
a psycopg_pool pool, checked as it is lent and replaced when the server has ended it (see
PostgresPool).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from kenning.store.base import Store

if TYPE_CHECKING:
    from kenning.store.postgres import PostgresPool

# Pages in the write-ahead log at which a pooled connection that leaves checkpoints to
# another process (kenning serve's follower) copies it itself after all: about 40 MB, far
# beyond what the follower's checkpoints let the log reach, but a bound if it is gone.
CHECKPOINT_BACKSTOP = 10_000


class StorePool:
    def __init__(self, url: str, size: int = 8, *, defer_checkpoints: bool = False) -> None:
        from kenning.store import is_postgres, postgres_conninfo

        if size < 1:
            raise ValueError("a pool needs at least one store")
        # An in-memory SQLite database exists once per connection: share one.
        self.size = 1 if url.endswith(":memory:") else size
        self.url = url
        self._defer_checkpoints = defer_checkpoints  # see Store.defer_checkpoints
        self._idle: queue.LifoQueue[Store] = queue.LifoQueue()
        self._all: list[Store] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self.size)
        self._loop_store: Store | None = None
        self._loop_checked = False
        # On PostgreSQL, where to connect: the pool of sessions is opened on first use.
        self._conninfo = postgres_conninfo(url) if is_postgres(url) else None
        self._server: PostgresPool | None = None

    def _postgres(self, conninfo: str) -> PostgresPool:
        from kenning.store.postgres import PostgresPool

        with self._lock:
            if self._server is None:
                self._server = PostgresPool(conninfo, self.size)
            return self._server

    def _open(self) -> Store:
        from kenning.store import open_store

        with self._lock:
            # The first store migrates the schema; the others find it done.
            store = open_store(self.url, migrate=not self._all)
            if self._defer_checkpoints:
                store.defer_checkpoints(backstop_pages=CHECKPOINT_BACKSTOP)
            self._all.append(store)
            return store

    @contextmanager
    def store(self) -> Iterator[Store]:
        if self._conninfo is not None:
            server = self._server or self._postgres(self._conninfo)
            lent = server.borrow()
            try:
                yield lent
            finally:
                server.give_back(lent)
            return
        with self._slots:
            try:
                borrowed = self._idle.get_nowait()
            except queue.Empty:
                borrowed = self._open()
            try:
                yield borrowed
            finally:
                self._idle.put(borrowed)

    def loop_store(self) -> Store | None:
        """A store of its own for short reads made on the event loop thread itself, never
        borrowed by a worker thread (so using it never waits for one); None where reads
        must go to a thread: PostgreSQL (network round trips would stall the loop) and an
        in-memory SQLite database (its one connection is the pool's)."""
        if not self._loop_checked:
            from kenning.store import is_sqlite_file

            self._loop_checked = True
            if is_sqlite_file(self.url):
                self._loop_store = self._open()
        return self._loop_store

    def in_use(self) -> int:
        """How many stores are lent now (for metrics; the loop's own store is not one)."""
        with self._lock:
            opened = len(self._all) - (self._loop_store is not None)
        return max(0, opened - self._idle.qsize())

    def close(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.close()
                self._server = None
            self._loop_store, self._loop_checked = None, False
            for store in self._all:
                store.close()
            self._all.clear()
            while not self._idle.empty():
                self._idle.get_nowait()
