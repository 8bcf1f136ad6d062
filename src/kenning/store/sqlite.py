"""SQLite backend: the embedded default. WAL, one writer, no set-up."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

try:
    import fcntl
except ImportError:  # Windows: processes wait through SQLite's busy handler
    fcntl = None  # type: ignore[assignment]

from kenning.store.base import NORMALISED_SELECT, RecordKey, Store, in_key_order
from kenning.store.sqlite_arrow import read_arrow

_BUSY_TIMEOUT_MS = 10_000
# WAL lets readers work while the single writer writes; synchronous=NORMAL in WAL mode
# keeps every committed transaction across a process crash (kill -9), losing at most the
# last ones on power loss, which is the usual trade for an embedded store.
_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}",
    "PRAGMA cache_size = -65536",
    # Reads map the file instead of copying each page in with a system call: lookups on a
    # million-record store spend half as long in SQLite. 2 GiB is the usual build's ceiling;
    # SQLite maps the file only to read it: writes still go through the WAL as before.
    "PRAGMA mmap_size = 2147418112",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA foreign_keys = ON",
    # Big sorts (the customer index rebuilt after a first resolve) on every core.
    f"PRAGMA threads = {min(os.cpu_count() or 1, 8)}",
)


# Pages (of 4 KiB) in the write-ahead log past which a checkpoint waits for the readers,
# so that the log starts afresh.
_RESTART_AFTER = 16_384
_RESTART_WAIT_MS = 50

# SQLite's primary result codes that say the database cannot be used now: BUSY, LOCKED,
# NOMEM, READONLY, INTERRUPT, IOERR, CORRUPT, FULL, CANTOPEN, PROTOCOL, NOTADB.
_UNAVAILABLE_CODES = frozenset({5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 26})
# The same, by their messages, for an error raised without a code.
_UNAVAILABLE_WORDS = (
    "locked",
    "busy",
    "disk i/o error",
    "database or disk is full",
    "unable to open database file",
    "disk image is malformed",
    "not a database",
    "readonly database",
    "out of memory",
    "interrupted",
)


class _WriterLock:
    """Writers to one database file take turns here, threads of this process and other
    processes alike: a thread lock, then an exclusive ``flock`` of a file beside the
    database. SQLite's own busy handler polls in sleeps of up to 100 ms, so a writer that
    commits and begins again at once (the log's follower) would starve the others (a
    server's requests logging events); a process blocked in ``flock`` wakes as soon as
    the lock is free. A yielding writer (the follower) lets those already waiting go first.
    """

    # How long a yielding writer steps aside before it queues like the others.
    YIELD_FOR = 0.1

    def __init__(self, path: str) -> None:
        self._threads = threading.Lock()
        self._file = None if path == ":memory:" or fcntl is None else path + "-writer"
        self._fd: int | None = None
        self._pid = 0

    @contextmanager
    def held(self, *, yielding: bool = False) -> Iterator[None]:
        with self._threads:
            if self._file is None or fcntl is None:
                yield
                return
            if self._fd is None or self._pid != os.getpid():  # not a parent's file
                self._fd = os.open(self._file, os.O_RDWR | os.O_CREAT, 0o644)
                self._pid = os.getpid()
            if not (yielding and self._try_for(self._fd, self.YIELD_FOR)):
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    @staticmethod
    def _try_for(fd: int, seconds: float) -> bool:
        """Take the lock only when nobody holds it, trying for ``seconds``."""
        assert fcntl is not None
        deadline = time.monotonic() + seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.001)


_WRITERS: dict[str, _WriterLock] = {}
_WRITERS_GUARD = threading.Lock()


def _writer_lock(path: str) -> _WriterLock:
    """The one lock every connection of this process to ``path`` writes under."""
    key = path if path == ":memory:" else str(Path(path).resolve())
    with _WRITERS_GUARD:
        return _WRITERS.setdefault(key, _WriterLock(key))


class SQLiteStore(Store):
    dialect = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.url = f"sqlite:///{self.path}"
        if self.path != ":memory:":
            parent = Path(self.path).parent
            if not parent.is_dir():
                raise FileNotFoundError(f"folder {parent} does not exist (database {self.path})")
        # One connection writes; the lock makes a transaction its thread's alone.
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._lock = threading.RLock()
        self._writer = _writer_lock(self.path)
        self._depth = 0
        self._yielding = False
        for pragma in _PRAGMAS:
            self._conn.execute(pragma)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            if self._depth:
                name = f"sp{self._depth}"
                self._conn.execute(f"SAVEPOINT {name}")
                self._depth += 1
                try:
                    yield
                except BaseException:
                    self._conn.execute(f"ROLLBACK TO {name}")
                    self._conn.execute(f"RELEASE {name}")
                    raise
                else:
                    self._conn.execute(f"RELEASE {name}")
                finally:
                    self._depth -= 1
                return
            # Writers queue on one lock per file (see _WriterLock) rather than on SQLite's
            # busy handler, which sleeps in steps of up to 100 ms and starves them.
            with self._writer.held(yielding=self._yielding):
                # IMMEDIATE takes the write lock now, so a transaction never fails half-way
                # on a lock upgrade.
                self._conn.execute("BEGIN IMMEDIATE")
                self._depth = 1
                try:
                    yield
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                else:
                    self._conn.execute("COMMIT")
                finally:
                    self._depth = 0

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._lock:
            self._conn.execute(sql, params)

    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._lock:
            self._conn.executemany(sql, rows)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def normalised_columns(self) -> tuple[list[RecordKey], list[pa.Array]]:
        # Uncommitted writes of this connection are its own: read them through it.
        if self.path == ":memory:" or self._conn.in_transaction:
            return super().normalised_columns()
        select = f"SELECT {NORMALISED_SELECT} FROM source_records"
        ((last,),) = self._query("SELECT COALESCE(MAX(rowid), 0) FROM source_records")
        before = self._query("PRAGMA data_version")
        # Each half by a reader process of its own, on both cores; a commit between their
        # reads (data_version moves) could show some records twice: then read again whole.
        middle = int(last) // 2
        halves = [f"{select} WHERE rowid <= {middle}", f"{select} WHERE rowid > {middle}"]
        with ThreadPoolExecutor(max_workers=2) as pool:
            parts = list(pool.map(lambda sql: read_arrow(self.path, sql), halves))
        if self._query("PRAGMA data_version") != before:
            parts = [read_arrow(self.path, select)]
        # A column with no value in a half comes back typed as integers: all are text.
        text = pa.schema([(name, pa.string()) for name in parts[0].schema.names])
        return in_key_order(pa.concat_tables([part.cast(text) for part in parts]))

    def _is_conflict(self, exc: Exception) -> bool:
        return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)

    def is_transient(self, exc: BaseException) -> bool:
        # Another process held the write lock past busy_timeout.
        return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)

    def is_unavailable(self, exc: BaseException) -> bool:
        # Locked, disk I/O, disk full, a file that cannot be opened, is read-only or is
        # damaged, a closed connection: the database's state, not what a statement was
        # given. An OperationalError may also be the statement's own ("too many SQL
        # variables", "malformed JSON", "string or blob too big"): the same event would
        # fail the same way forever, so that is not the database being away.
        if isinstance(exc, sqlite3.InternalError):
            return True
        if isinstance(exc, sqlite3.ProgrammingError):
            return "closed" in str(exc)
        if isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError):
            code = getattr(exc, "sqlite_errorcode", None)
            if isinstance(code, int) and code & 0xFF in _UNAVAILABLE_CODES:
                return True
            text = str(exc).lower()
            return any(words in text for words in _UNAVAILABLE_WORDS) or (
                type(exc) is sqlite3.DatabaseError and code is None
            )
        return False

    def _dialect_slots(self) -> dict[str, str]:
        return {
            "pk": "INTEGER PRIMARY KEY AUTOINCREMENT",
            "json": "TEXT",
            "ts": "TEXT",
            "now": "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        }

    def yield_to_writers(self) -> None:
        self._yielding = True

    def defer_checkpoints(self, backstop_pages: int = 0) -> None:
        # The commit that takes the WAL past 1,000 pages copies them all into the file
        # before it returns; the real-time follower's commits must not wait for that.
        with self._lock:
            self._conn.execute(f"PRAGMA wal_autocheckpoint = {int(backstop_pages)}")

    def checkpoint(self) -> None:
        with self._lock:
            _, frames, _ = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if frames > _RESTART_AFTER:
            # The log starts afresh only at a moment no reader is inside it, and followers
            # resolving at once read all the time: past this size, wait for the readers,
            # holding the writers' lock (writers queue there, not in the busy handler).
            # A long reader (an export) is not waited for beyond a moment: writers queue.
            with self._writer.held(), self._lock:
                self._conn.execute(f"PRAGMA busy_timeout = {_RESTART_WAIT_MS}")
                try:
                    self._conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
                finally:
                    self._conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")

    def close(self) -> None:
        self._conn.close()
