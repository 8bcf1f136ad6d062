"""The follower of the event log: what collected events say about who people are becomes
source records, anonymous visitors and aliases, resolved at once against the identity graph.

A run moves a cursor through the log in the same transaction as the records it writes
and indexes, so every event is applied exactly once, whatever crashes in between; several
followers of one store take turns at that (the cursor moves only from where each found
it). The records are then resolved outside the transaction and placed in another (see
resolve_indexed): while one follower resolves, another takes the next run. Records left
indexed and unplaced by a crash stay pending until a follower starts. An event that cannot
be applied is set aside as a dead letter and the others are applied (services/dead_letters.py).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from kenning.domain.records import RecordError, SourceRecord, build_record
from kenning.domain.segment import Message, identity_fields
from kenning.ingest.importer import (
    RECORD_COLLECTED,
    RECORD_UPSERTED,
    ImportReport,
    RecordWriter,
    record_events,
)
from kenning.ingest.prepare import prepare_record
from kenning.resolution.model import Model
from kenning.resolution.settings import ResolutionSettings
from kenning.services.activity import record_activity
from kenning.services.collect import KIND_PREFIX
from kenning.services.identity import MODEL_NAME, decide_sharing
from kenning.services.indexing import BULK_FROM, index_all
from kenning.services.mail import MailError, deliver_mail
from kenning.services.matching import (
    ModelCache,
    identifier_keys,
    index_for_resolving,
    index_imported,
    index_records,
    resolve_indexed,
    resolve_left_over,
)
from kenning.services.trust import guard_fields
from kenning.settings import Settings
from kenning.store import Store, open_store
from kenning.store.base import RecordRow
from kenning.store.realtime import LoggedEvent

log = logging.getLogger("kenning.follow")
T = TypeVar("T")
CURSOR = "matcher"
# The record of a visitor who gave identifiers without a user id (a newsletter form).
ANONYMOUS_RECORD = "anonymous:"
RecordKey = tuple[str, str]


@dataclass
class FollowOutcome:
    events: int = 0
    records: int = 0  # source records written
    resolved: int = 0  # records resolved again (new ones and their neighbourhoods)
    unresolved: int = 0  # records written while no model fits the comparisons
    replanned: int = 0  # runs resolved again: another had changed what they read
    rejected: list[str] = field(default_factory=list)
    set_aside: list[int] = field(default_factory=list)  # events that failed (dead letters)

    def add(self, other: FollowOutcome) -> None:
        """Count ``other``'s work in this outcome too."""
        self.events += other.events
        self.records += other.records
        self.resolved += other.resolved
        self.unresolved += other.unresolved
        self.replanned += other.replanned
        self.rejected += other.rejected
        self.set_aside += other.set_aside


class CursorMoved(RuntimeError):
    """Another follower moved the cursor while this run applied the same events: the run
    rolls back. With several followers (kenning serve runs two) losing that race is
    normal; the loser follows on from where the winner left the cursor."""


def _message(event: LoggedEvent) -> Message:
    return Message(
        event.kind.removeprefix(KIND_PREFIX),
        event.message_id,
        event.record_id,
        event.anonymous_id,
        event.payload,
    )


class _Batch:
    """What a run of events says, gathered before it is written."""

    def __init__(self) -> None:
        self.fields: dict[RecordKey, dict[str, Any]] = {}
        self.visitors: list[tuple[str, str, str]] = []  # source, anonymous id, record id
        self.aliased: list[tuple[str, str, str]] = []  # source, earlier id, user id
        self.imported: set[RecordKey] = set()  # records written by an import
        self.received: dict[RecordKey, str] = {}  # when the last event of each record came

    def add(self, event: LoggedEvent) -> None:
        message = _message(event)
        source = event.source
        if message.user_id and message.anonymous_id:
            self.visitors.append((source, message.anonymous_id, message.user_id))
        if message.type == "alias" and message.user_id:
            # The earlier id was a visitor's: her browsing becomes the user's. It links no
            # records: a write key sits in web pages, and whoever holds it must not be able
            # to join two shoppers (identity evidence decides that, or a secret key's link).
            self.aliased.append((source, str(message.payload["previousId"]), message.user_id))
        found = identity_fields(message)
        if message.user_id:
            # A known user is a record even before she says anything about herself, so
            # that what she does is hers from the first event.
            self.fields.setdefault((source, message.user_id), {}).update(found)
            self.received[(source, message.user_id)] = event.recorded_at
        elif found:
            record_id = ANONYMOUS_RECORD + str(message.anonymous_id)
            self.fields.setdefault((source, record_id), {}).update(found)
            self.received[(source, record_id)] = event.recorded_at


def _write_records(
    store: Store, batch: _Batch, outcome: FollowOutcome, markets: tuple[str, ...]
) -> tuple[list[RecordRow], dict[int, str]]:
    """Each record as stored, updated by the new values (traits accumulate, as in Segment).
    Returns the rows written, and the identifier keys the changed ones held before."""
    prepared = []
    earlier: dict[int, str] = {}
    # One read for the batch: the records as stored, which the new values update.
    known = {(r.source, r.record_id): r for r in store.get_records(list(batch.fields))}
    # A public write key's events change only records of their own making, and what
    # they claim links no one until verified (see services/trust.py).
    trust, refused = guard_fields(store, batch.fields, set(known), batch.imported)
    for source, visitor, record_id in batch.visitors + batch.aliased:
        if (source, record_id) in refused:  # nor is its visitor that record
            store.unlink_anonymous(source, visitor, record_id)
    for (source, record_id), values in sorted(batch.fields.items()):
        stored = known.get((source, record_id))
        if not values and stored is not None:
            continue  # nothing new about someone already known
        if (source, record_id) in refused:
            continue
        before = SourceRecord.from_payload(stored.raw).fields if stored else {}
        row = {**before, **values, "source": source, "record_id": record_id}
        if source in trust.untrusted:
            # A public key's word on when it wrote would make its claims the most recent:
            # a record it changes was written when the change came.
            said = {name: value for name, value in values.items() if name != "updated_at"}
            changed = stored is None or any(before.get(k) != v for k, v in said.items())
            came = batch.received.get((source, record_id)) if changed else None
            row.pop("updated_at", None)
            if came or before.get("updated_at"):
                row["updated_at"] = came or before["updated_at"]
        try:
            prepared.append(trust.withhold_claims(prepare_record(build_record(row), markets)))
        except RecordError as exc:
            outcome.rejected.append(f"{source}:{record_id}: {exc}")
            continue
        if stored is not None:
            earlier.update(identifier_keys([stored.normalised]))
    report = ImportReport(files=["<collected events>"])
    # Logged at the end of the run: on PostgreSQL appending to the log waits for the other
    # appenders, and they must not wait for this run's resolving.
    written = RecordWriter(store, report, RECORD_COLLECTED).write(prepared, log=False)
    store.add_claimed_records(trust.made(written))
    outcome.records += report.imported + report.updated
    return written, earlier


@dataclass
class IndexedRun:
    """A run's records, indexed and committed, to be resolved (see resolve_indexed)."""

    focus: list[RecordKey]  # the records to resolve: the run's and those they affected
    asked: list[RecordKey]  # the run's records
    model: Model
    settings: ResolutionSettings


def follow(
    store: Store,
    models: ModelCache,
    settings: ResolutionSettings | None = None,
    *,
    limit: int = 2000,
    records: int = 200,
    markets: tuple[str, ...] = (),
) -> FollowOutcome:
    """Apply the next events of the log (at most ``limit``, naming at most ``records``
    records); an outcome of 0 events means the follower has caught up.
    Collected events are resolved at once; records that came by file are indexed (their
    blocking keys stored) for the matcher to find. A run indexes its records under the
    write lock (index_run), then resolves them outside it and places them under the lock
    again (see resolve_indexed), so that several followers resolve at once; a run of a few
    hundred records keeps requests that log events from waiting long behind it, while
    browsing events go by in thousands.
    ``markets``: as for an import (see normalise_record).
    A run that fails on an event that cannot be applied is applied again in smaller runs,
    and that event set aside as a dead letter (see services/dead_letters.py)."""
    while True:
        try:
            outcome, run = index_run(
                store, models, settings, limit=limit, records=records, markets=markets
            )
            break
        except CursorMoved:
            log.debug("another follower took these events; following on")
        except Exception as exc:
            # Imported here: dead_letters applies events through this module.
            from kenning.services import dead_letters

            if not dead_letters.is_event_fault(store, exc):
                raise
            try:
                return dead_letters.follow_past_failure(
                    store, models, settings, limit=limit, records=records, markets=markets
                )
            except CursorMoved:
                log.debug("another follower took these events; following on")
    if run is not None:
        resolve_run(store, run, outcome)
    return outcome


def resolve_run(store: Store, run: IndexedRun, outcome: FollowOutcome) -> None:
    """The second half of a run: resolve its records and place them (resolve_indexed),
    counted in ``outcome``."""
    matched = resolve_indexed(store, run.focus, run.asked, run.model, run.settings)
    outcome.resolved += matched.records
    outcome.replanned += int(matched.replanned)


def index_run(
    store: Store,
    models: ModelCache,
    settings: ResolutionSettings | None = None,
    *,
    limit: int = 2000,
    records: int = 200,
    markets: tuple[str, ...] = (),
    until: int | None = None,
) -> tuple[FollowOutcome, IndexedRun | None]:
    """The first half of a run of follow, in one transaction: apply the next events (up
    to seq ``until`` at most), write their records and index them; returns the run's
    records to resolve (None if there are none, or no model to resolve them with).
    Raises CursorMoved if another follower applied these events meanwhile."""
    outcome = FollowOutcome()
    with store.transaction():
        # Another follower's run waits here for this one's: both would apply the same events.
        start = store.claim_cursor(CURSOR)
        # Events up to the last committed one (they commit in seq order), so that nothing
        # committing meanwhile is stepped over; other kinds (imports) are passed by.
        end = store.last_event_seq() if until is None else min(until, store.last_event_seq())
        if end <= start:
            return outcome, None
        batch = _Batch()
        events: list[LoggedEvent] = []
        for event in _events(store, start, end, limit, page=records + 1):
            if events and len(batch.fields) + len(batch.imported) >= records:
                break  # the rest is the next run's
            events.append(event)
            if event.kind.startswith(KIND_PREFIX):
                batch.add(event)
            elif event.kind == RECORD_UPSERTED and event.record_id is not None:
                batch.imported.add((event.source, event.record_id))
        # A range of the log without events (seqs rolled back) is passed as it is.
        end = events[-1].seq if events else end
        run = apply_events(store, models, settings, events, batch, outcome, markets)
        if not store.advance_cursor(CURSOR, start, end):
            raise CursorMoved("another follower moved the cursor; this run rolls back")
        outcome.events = end - start
    return outcome, run


def gather(events: Sequence[LoggedEvent]) -> _Batch:
    """What these events say (see _Batch)."""
    batch = _Batch()
    for event in events:
        if event.kind.startswith(KIND_PREFIX):
            batch.add(event)
        elif event.kind == RECORD_UPSERTED and event.record_id is not None:
            batch.imported.add((event.source, event.record_id))
    return batch


def apply_events(
    store: Store,
    models: ModelCache,
    settings: ResolutionSettings | None,
    events: Sequence[LoggedEvent],
    batch: _Batch,
    outcome: FollowOutcome,
    markets: tuple[str, ...] = (),
) -> IndexedRun | None:
    """Apply ``events`` (``batch``, what they say), in the caller's transaction: link
    visitors, write and index their records and record what they did; returns the
    records to resolve, as index_run."""
    if not events:
        return None
    for source, anonymous_id, record_id in batch.visitors:
        store.link_anonymous(source, anonymous_id, record_id)
    for source, visitor, record_id in batch.aliased:
        if store.get_record(source, visitor) is None:  # a visitor's id, not a user's
            store.link_anonymous(source, visitor, record_id)
    written, earlier = _write_records(store, batch, outcome, markets)
    touched = [(str(row[0]), str(row[1])) for row in written]
    record_activity(store, events)
    model = models.get(store, MODEL_NAME)
    settings = settings or models.settings(store)
    if model is not None and not models.sharing_kept(store):
        decide_sharing(store, settings)  # a store resolved before they were kept
    asked = sorted(set(touched))
    run = None
    if model is None:
        # Indexed all the same, so that lookups find them (as not resolved yet) and
        # `kenning resolve` places them where lookups find them.
        index_records(store, asked, settings)
        outcome.unresolved += len(touched)
    elif asked:
        store.serialise_identity()
        focus = index_for_resolving(store, asked, model, settings, previous=earlier)
        store.add_pending(focus)
        run = IndexedRun(focus, asked, model, settings)
    # Records that came by file are indexed for the matcher; `kenning resolve` places them.
    imported = sorted(batch.imported - set(touched))
    if imported:
        index_imported(store, imported, settings, model)
    store.append_events(record_events(written, RECORD_COLLECTED))
    return run


def finish_pending(store: Store, models: ModelCache) -> int:
    """Resolve the records a follower indexed and did not place (it was killed or failed
    between the two halves of a run); returns how many records were resolved."""
    model = models.get(store, MODEL_NAME)
    if model is None:
        return 0
    return resolve_left_over(store, model, models.settings(store))


def _events(store: Store, after: int, end: int, limit: int, page: int) -> Iterator[LoggedEvent]:
    """The events after ``after`` up to ``end``, at most ``limit``, read a page at a time:
    a run of identify calls reaches its records long before its events."""
    while limit > 0:
        events = store.events_after(after, end, min(page, limit))
        yield from events
        if len(events) < min(page, limit):
            return
        after, limit = events[-1].seq, limit - len(events)


def index_backlog(
    store: Store,
    settings: ResolutionSettings,
    bulk_from: int = BULK_FROM,
    progress: Callable[[int], None] | None = None,
) -> int:
    """When the log's next entries are at least ``bulk_from`` record upserts and nothing
    else (a file import), index the whole store at once and move the cursor past them, in
    one transaction; returns the entries passed (0: they are left to the follower's runs).
    ``progress`` hears the records indexed."""
    with store.transaction():
        start = store.cursor(CURSOR)
        end = store.end_of_record_run(start)
        if end - start < bulk_from:
            return 0
        index_all(store, settings, progress)
        # As a run does for the records its log says a file wrote (see guard_fields).
        store.release_claims_upserted(start, end)
        if not store.advance_cursor(CURSOR, start, end):
            raise CursorMoved("another follower moved the cursor; this run rolls back")
    return end - start


def catch_up(
    store: Store,
    models: ModelCache | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    bulk_from: int = BULK_FROM,
    indexing: Callable[[int], None] | None = None,
    markets: tuple[str, ...] = (),
) -> FollowOutcome:
    """Follow the log to its end (after an import: index the new records for lookups and
    the matcher, all at once when there are many); ``progress`` hears how many log entries
    each run passed, ``indexing`` how many records a bulk indexing has done."""
    models = models or ModelCache()
    total = FollowOutcome(resolved=finish_pending(store, models))
    try:
        total.events = index_backlog(store, models.settings(store), bulk_from, indexing)
    except CursorMoved:
        log.debug("another follower indexed the backlog; following on")
    if progress and total.events:
        progress(total.events)
    while (outcome := follow(store, models, markets=markets)).events:
        total.add(outcome)
        if progress:
            progress(outcome.events)
    return total


def follow_and_mail(store: Store, models: ModelCache, settings: Settings) -> FollowOutcome:
    """One run of the follower, then the mail it queued (repair updates), once committed;
    mail that cannot be sent now waits for the next run."""
    outcome = follow(store, models, markets=settings.market_codes)
    try:
        deliver_mail(store, settings.smtp_url, settings.mail_from)
    except MailError as exc:
        log.warning("mail not sent (kept for the next run): %s", exc)
    return outcome


class Nudges:
    """Where a follower process hears that events were logged: a datagram socket that the
    server's workers send a byte to after each commit (see Nudger)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(path)

    def wait(self, timeout: float) -> None:
        """Until a nudge comes or ``timeout`` seconds pass; nudges already queued are
        taken too (one run follows them all)."""
        self._socket.settimeout(timeout)
        try:
            self._socket.recv(16)
        except TimeoutError:
            return
        self._socket.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            while self._socket.recv(16):
                pass

    def close(self) -> None:
        self._socket.close()
        Path(self.path).unlink(missing_ok=True)


class Nudger:
    """A worker's side of Nudges, for every follower (``paths`` joined by os.pathsep):
    never waits, and a follower not listening (not started yet, or its queue full) is no
    error: it polls the log as well."""

    def __init__(self, paths: str) -> None:
        self._paths = [path for path in paths.split(os.pathsep) if path]
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.setblocking(False)

    def poke(self) -> None:
        for path in self._paths:
            with contextlib.suppress(OSError):
                self._socket.sendto(b"!", path)


def follow_forever(
    settings: Settings,
    interval: float = 0.005,
    parent: int | None = None,
    nudges: str | None = None,
    checkpoints: bool = True,
) -> None:
    """Follow the log of the store ``settings`` name until the parent process is gone: a
    server's follower, in a process of its own so that resolving never holds up requests
    (several take turns at indexing and resolve at once, see follow). Polls a cheap read
    (the log's end against the cursor) every ``interval`` seconds, and at once when
    nudged through the socket at ``nudges`` (see Nudger). ``checkpoints``: whether this
    follower copies the log into the database (one of them does)."""
    models = ModelCache()
    stop = threading.Event()
    doorbell = Nudges(nudges) if nudges else None
    with (
        open_store(settings.database_url, migrate=False) as store,
        open_store(settings.database_url, migrate=False) as copier,
    ):
        # The log's pages are copied into the database beside the follower, on the other
        # core, rather than by whichever of its commits fills the log (a stall of tens of
        # milliseconds that every identify waiting behind that run would feel).
        store.defer_checkpoints()
        # Requests that log events go first when they are waiting for the write lock.
        store.yield_to_writers()
        copying = threading.Thread(
            target=_checkpoint_every, args=(copier, 0.2, stop), name="kenning-checkpoint"
        )
        if checkpoints:
            copying.start()
        try:
            left_over = True  # records an earlier follower indexed and did not place

            def step() -> bool:
                """One run if events wait; whether there was one."""
                if store.last_event_seq() <= store.cursor(CURSOR):
                    return False
                follow_and_mail(store, models, settings)
                return True

            while parent is None or os.getppid() == parent:
                if left_over:
                    # A record that cannot be resolved must not stop the log being
                    # followed: recovering is tried again after the next failed run.
                    left_over = _attempt(store, lambda: finish_pending(store, models)) is None
                ran = _attempt(store, step)
                if ran is None:  # the run rolled back; its events are followed again
                    left_over = True
                    time.sleep(1)
                elif ran:
                    continue
                if doorbell is not None:
                    doorbell.wait(interval)
                else:
                    time.sleep(interval)
        finally:
            stop.set()
            if checkpoints:
                copying.join()
            if doorbell is not None:
                doorbell.close()


def _attempt(store: Store, work: Callable[[], T]) -> T | None:
    """``work()``, or None when it failed: a database that went away (a restart, a
    fail-over) is one warning line, anything else is logged with its traceback."""
    try:
        return work()
    except Exception as exc:
        if store.is_unavailable(exc):
            log.warning("the database is unavailable (%s); trying again", type(exc).__name__)
        else:
            log.exception("following the event log failed; trying again")
        return None


def _checkpoint_every(store: Store, interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        try:
            store.checkpoint()
        except Exception:  # what is left is copied by the next one
            log.exception("checkpoint failed")


class Follower:
    """Follows the log in a thread of the server: woken by each collected request, and
    every `interval` seconds in case events came through another process. ``recover``
    resolves what an earlier run indexed and did not place (see finish_pending): called
    before the first run and after a run fails, whose records may be left pending."""

    def __init__(
        self,
        run: Callable[[], FollowOutcome],
        interval: float = 0.5,
        on_error: Callable[[BaseException], None] | None = None,
        recover: Callable[[], object] | None = None,
    ) -> None:
        self._run = run
        self._interval = interval
        self._on_error = on_error
        self._recover = recover
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="kenning-follower", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        left_over = True
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            if left_over:
                # A record that cannot be resolved must not stop the log being followed:
                # recovering is tried again after the next run.
                left_over = not self._attempt(self._recover or (lambda: None))
            if not self._attempt(self._follow):
                left_over = True
                self._stop.wait(self._interval)

    def _follow(self) -> None:
        while not self._stop.is_set() and self._run().events:
            pass

    def _attempt(self, work: Callable[[], object]) -> bool:
        """Run ``work``; whether it succeeded (a failure rolled back and is reported)."""
        try:
            work()
        except Exception as exc:
            if self._on_error:
                self._on_error(exc)
            return False
        return True
