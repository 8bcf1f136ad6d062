"""The store's contract, on every backend."""

from __future__ import annotations

import fcntl
import multiprocessing
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from kenning.domain.normalised import NORMALISED_FIELDS
from kenning.store import Store, is_sqlite_file, open_store
from kenning.store.migrations import MIGRATIONS
from kenning.store.pool import CHECKPOINT_BACKSTOP, StorePool
from kenning.store.sqlite import _WriterLock
from kenning.store.sqlite_arrow import read_arrow


def _row(source: str, record_id: str, digest: str = "h1", email: str | None = None) -> tuple:
    values = dict.fromkeys(NORMALISED_FIELDS)
    values["email"] = email
    raw = f'{{"source": "{source}", "record_id": "{record_id}"}}'
    return (source, record_id, digest, *values.values(), raw)


def test_migrations_run_once(store_url: str) -> None:
    latest = MIGRATIONS[-1].version
    with open_store(store_url) as first:
        assert first.schema_version() == latest
    with open_store(store_url) as again:
        assert again.migrate() == []
        assert again.schema_version() == latest


def test_upsert_updates_in_place(store: Store) -> None:
    store.upsert_records([_row("pos", "1", "h1", "a@example.org")])
    store.upsert_records([_row("pos", "1", "h2", "b@shop.co.uk"), _row("web", "1")])
    assert store.record_counts() == {"pos": 1, "web": 1}
    record = store.get_record("pos", "1")
    assert record is not None
    assert record.content_hash == "h2"
    assert record.normalised["email"] == "b@shop.co.uk"
    assert record.raw == {"source": "pos", "record_id": "1"}
    states = store.record_states([("pos", "1"), ("pos", "2"), ("web", "1")])
    assert set(states) == {("pos", "1"), ("web", "1")}
    assert states[("pos", "1")].content_hash == "h2"


def test_record_states_handles_many_keys(store: Store) -> None:
    store.upsert_records([_row("pos", str(i)) for i in range(1200)])
    keys = [("pos", str(i)) for i in range(0, 2400, 2)]
    assert len(store.record_states(keys)) == 600


def test_failed_transaction_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.append_events([("record.upserted", "pos", "1", None, "{}")])
        store.upsert_records([_row("pos", "1")])
        raise RuntimeError("disk full")
    assert store.event_count() == 0
    assert store.record_counts() == {}


def test_nested_transaction_rolls_back_alone(store: Store) -> None:
    with store.transaction():
        store.upsert_records([_row("pos", "1")])
        with pytest.raises(RuntimeError), store.transaction():
            store.upsert_records([_row("pos", "2")])
            raise RuntimeError("bad batch")
    assert store.record_counts() == {"pos": 1}


def test_event_log_streams_in_order(store: Store) -> None:
    events = [("record.upserted", "pos", str(i), None, f'{{"n": {i}}}') for i in range(12_345)]
    store.append_events(events)
    store.append_events([("other.kind", "web", None, None, "{}")])
    seen = [e.payload["n"] for e in store.iter_events("record.upserted")]
    assert seen == list(range(12_345))
    assert store.event_count() == 12_346
    last = list(store.iter_events(after=12_345))
    assert [e.kind for e in last] == ["other.kind"]


def test_message_ids_are_unique_per_source(store: Store) -> None:
    store.append_events([("track", "web", None, "m-1", "{}"), ("track", "pos", None, "m-1", "{}")])
    # Events without a message id never collide.
    store.append_events([("record.upserted", "web", "1", None, "{}")] * 2)
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        store.append_events([("track", "web", None, "m-1", "{}")])


def test_unsupported_url_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unsupported database URL"):
        open_store("mysql://localhost/kenning")


def test_normalised_columns_come_in_key_order(store: Store) -> None:
    # Written out of order: resolution needs key order whatever the storage order.
    store.upsert_records([_row("web", "2", email="c@x.org"), _row("pos", "10", email="a@x.org")])
    store.upsert_records([_row("pos", "9", email="b@x.org"), _row("email", "1")])
    keys, columns = store.normalised_columns()
    assert keys == [("email", "1"), ("pos", "10"), ("pos", "9"), ("web", "2")]
    emails = columns[list(NORMALISED_FIELDS).index("email")]
    assert emails.to_pylist() == [None, "a@x.org", "b@x.org", "c@x.org"]
    # A column no record has a value in is strings all the same.
    loyalty = columns[list(NORMALISED_FIELDS).index("loyalty_id")]
    assert loyalty.type == pa.large_string() and loyalty.null_count == 4


def test_normalised_columns_of_no_records(store: Store) -> None:
    keys, columns = store.normalised_columns()
    assert keys == [] and [len(c) for c in columns] == [0] * len(NORMALISED_FIELDS)


def test_normalised_columns_include_this_transactions_writes(store: Store) -> None:
    with store.transaction():
        store.upsert_records([_row("pos", "1", email="a@x.org")])
        keys, _ = store.normalised_columns()
    assert keys == [("pos", "1")]


def test_a_commit_between_the_halves_reads_the_records_again_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SQLite store reads its records in two halves at once; should another connection
    commit between the two reads, they may not agree, and the records are read again."""
    import kenning.store.sqlite as sqlite_store

    url = f"sqlite:///{tmp_path / 'halves.db'}"
    with open_store(url) as store, open_store(url) as other:
        store.upsert_records([_row("pos", str(i), email=f"{i}@x.org") for i in range(6)])
        reads: list[str] = []
        lock = threading.Lock()

        def reading(path: str, sql: str) -> pa.Table:
            with lock:
                if not reads:
                    other.upsert_records([_row("web", "1", email="new@x.org")])
                reads.append(sql)
            return read_arrow(path, sql)

        monkeypatch.setattr(sqlite_store, "read_arrow", reading)
        keys, _ = store.normalised_columns()
    assert len(reads) == 3 and "rowid" not in reads[-1]
    assert keys == [("pos", str(i)) for i in range(6)] + [("web", "1")]


def _rows(customers: dict[tuple[str, str], str]) -> list[tuple[str, str, str, str | None]]:
    return [
        (source, record_id, customer, None) for (source, record_id), customer in customers.items()
    ]


def test_a_large_rewrite_of_customers_keeps_their_index(store: Store) -> None:
    first = {("pos", str(i)): f"cus_{i % 3}" for i in range(30)}
    assert store.update_assignments(_rows(first), {}, rebuild_index_above=0) == 30
    moved = {key: "cus_x" if key[1] < "2" else customer for key, customer in first.items()}
    written = store.update_assignments(_rows(moved), first, rebuild_index_above=0)
    assert written == sum(first[k] != moved[k] for k in first)
    assert store.customer_assignments() == moved
    assert store.customer_records("cus_x") == sorted(k for k, c in moved.items() if c == "cus_x")
    store.update_assignments(_rows(moved), moved, rebuild_index_above=0)  # nothing changed
    assert store.customer_of("pos", "7") == moved[("pos", "7")]


def test_only_a_sqlite_file_is_read_on_the_event_loop(store_url: str) -> None:
    """The pool's loop store is a connection of its own, never lent to a thread; PostgreSQL
    (network round trips) and an in-memory database (one shared connection) have none."""
    pool = StorePool(store_url, 2)
    try:
        loop = pool.loop_store()
        if store_url.startswith("sqlite"):
            assert loop is not None and loop.dialect == "sqlite"
            assert pool.loop_store() is loop
            with pool.store() as first, pool.store() as second:
                assert loop is not first and loop is not second
        else:
            assert loop is None
    finally:
        pool.close()
    memory = StorePool("sqlite:///:memory:")
    assert memory.loop_store() is None
    memory.close()
    assert is_sqlite_file("sqlite:////tmp/k.db") and is_sqlite_file("k.db")
    assert not any(map(is_sqlite_file, ("sqlite://", ":memory:", "postgresql://u@h/db")))


def test_a_failed_bulk_read_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "not.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(OSError, match=r"cannot read .*not\.db"):
        read_arrow(str(tmp_path / "not.db"), "SELECT 1 FROM source_records")


def _hold_a_write(path: str, holding: Any, release: Any) -> None:
    with open_store(f"sqlite:///{path}", migrate=False) as store, store.transaction():
        store.upsert_records([_row("pos", "held")])
        holding.set()
        release.wait(30)


@contextmanager
def _written_by_another_process(path: str) -> Iterator[Any]:
    """Another process holds a write transaction on the database until released (the
    event yielded) or the block ends."""
    open_store(f"sqlite:///{path}").close()
    context = multiprocessing.get_context("spawn")
    holding, release = context.Event(), context.Event()
    child = context.Process(target=_hold_a_write, args=(path, holding, release))
    child.start()
    try:
        assert holding.wait(30)
        yield release
    finally:
        release.set()
        child.join(30)
    assert child.exitcode == 0


def test_sqlite_writers_of_other_processes_take_turns_on_one_file_lock(tmp_path: Path) -> None:
    """A process's transaction holds the flock beside the database: another process's
    writer waits on it (and wakes when it is free) instead of polling SQLite's lock."""
    path = str(tmp_path / "k.db")
    with (
        _written_by_another_process(path),
        Path(path + "-writer").open("rb") as lock,
        pytest.raises(BlockingIOError),
    ):
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open_store(f"sqlite:///{path}") as store, store.transaction():
        store.upsert_records([_row("web", "after")])
        assert store.record_counts() == {"pos": 1, "web": 1}


def test_a_yielding_writer_waits_for_the_lock_to_be_free(tmp_path: Path) -> None:
    """The follower's store takes the write lock only when nobody holds it, and queues
    like any writer once it has stepped aside long enough."""
    path = str(tmp_path / "k.db")
    done = threading.Event()
    with (
        _written_by_another_process(path) as release,
        open_store(f"sqlite:///{path}", migrate=False) as store,
    ):
        store.yield_to_writers()

        def write() -> None:
            with store.transaction():
                store.upsert_records([_row("web", "yielded")])
            done.set()

        writer = threading.Thread(target=write)
        writer.start()
        # The other process holds the lock until released, whatever the time: it waits.
        assert not done.wait(3 * _WriterLock.YIELD_FOR)
        release.set()
        writer.join(30)
    assert done.is_set()
    with open_store(f"sqlite:///{path}", migrate=False) as store:
        assert store.record_counts() == {"pos": 1, "web": 1}


def test_a_deferred_checkpoint_is_done_by_whoever_is_asked(tmp_path: Path) -> None:
    """The writer's commits leave the log's pages in the log; `checkpoint` (from another
    connection) copies them into the database file."""
    path = tmp_path / "k.db"
    with open_store(f"sqlite:///{path}") as writer, open_store(str(path), migrate=False) as copier:
        writer.defer_checkpoints()
        before = path.stat().st_size
        with writer.transaction():
            writer.upsert_records([_row("pos", str(i)) for i in range(60_000)])
        assert writer._query("PRAGMA wal_autocheckpoint") == [(0,)]
        assert path.stat().st_size == before  # over 1,000 pages, still all in the log
        copier.checkpoint()
        assert path.stat().st_size > before + 4_000_000


def test_a_servers_pooled_connections_still_bound_the_log(tmp_path: Path) -> None:
    """Workers leave checkpoints to the follower process, up to a backstop of their own."""
    pool = StorePool(f"sqlite:///{tmp_path / 'k.db'}", 1, defer_checkpoints=True)
    try:
        with pool.store() as store:
            assert store._query("PRAGMA wal_autocheckpoint") == [(CHECKPOINT_BACKSTOP,)]
    finally:
        pool.close()
