"""Events the follower cannot apply, set aside as dead letters so that it follows on.

A run of the follower applies its events in one transaction (services/follow.py). When
it fails, the run rolls back and its events are applied again in halves, each half a run
of its own, and so on down to the event that fails alone: that one is set aside with its
error, the cursor moves past it, and every other event is applied, exactly once. The
common path (no bad event) is the single transaction of today; a bad event costs about
twice its run's work (a run that fails in each of log2(run) halvings, the other halves
committing as they go).

What counts as the event's fault: an event is set aside only when it fails in a run of
its own and the error is not the database being unavailable (see
``Store.is_unavailable``: a lost connection, a server shutting down, a disk full, a lock
held too long). Those errors propagate instead: the follower's loop rolls back and tries
the same events again later, and nothing is set aside while the database is away. Any
other error of a run of one event (a quantity of "lots", a number too big for a column,
an unexpected type in a payload) is the event's: a retry would fail the same way.

Nor is an error that says Kenning itself cannot work (``is_systemic``): a table or column
its schema lacks (a follower of an older or newer version), a privilege it was not
granted, a module it cannot import, a file it may not read, memory. Every event would
fail alike, and setting each aside would empty the log into dead letters. An error that
list cannot foresee (a bug of Kenning's) is taken for the event's: every event it meets is
set aside, and `kenning events retry` applies them after the fix. Nothing is lost that
way, while stopping at the second event alike would let anyone who sends two malformed
events stop the follower for everyone.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from kenning.resolution.settings import ResolutionSettings
from kenning.services.follow import (
    CURSOR,
    CursorMoved,
    FollowOutcome,
    IndexedRun,
    apply_events,
    gather,
    index_run,
    resolve_run,
)
from kenning.services.inventory import utcnow
from kenning.services.matching import ModelCache
from kenning.store import Store
from kenning.store.dead_letters import DeadLetter
from kenning.store.realtime import LoggedEvent

log = logging.getLogger("kenning.follow")
# Quoted values in an error's message are the event's (int() of "lots", a key's value):
# they may be an e-mail, a phone number or a name given where a number belongs. Kept:
# Python's own type names, which say what was wrong.
_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")
_TYPE_NAME = re.compile(
    r"NoneType|str|int|float|bool|list|dict|tuple|bytes"
    r"|[a-z_]+(?:\.[a-z_]+)*\.[A-Z][a-z]+(?:[A-Z][a-z]+)+"  # decimal.ConversionSyntax
)
_EMAIL = re.compile(r"\S+@\S+")
_DIGITS = re.compile(r"\+?\d[\d ().-]{5,}\d")
_ERROR_LENGTH = 300


# PostgreSQL's errors of class 42 that a value can cause: a payload's number compared with
# a text column, a type the server cannot infer or coerce. The rest of the class (an
# undefined table, column or function name, a syntax error, a missing privilege) is in
# Kenning's SQL or its schema, which no event can change.
_VALUE_SQLSTATES = frozenset({"42804", "42883", "42P18", "42725", "42846"})
_SQLITE_SCHEMA_WORDS = ("no such table", "no such column", "has no column named")


def is_systemic(exc: BaseException) -> bool:
    """Whether ``exc`` says Kenning cannot apply any event now, whatever it holds: its
    schema or privileges do not match its code, a module or file it needs cannot be
    loaded, memory ran out. A RecursionError is not: a deeply nested payload raises it."""
    if isinstance(exc, ImportError | PermissionError | MemoryError):
        return True
    if isinstance(exc, sqlite3.ProgrammingError):
        # Binding a value of a payload of an unsupported type is the event's.
        return "binding parameter" not in str(exc) and "unsupported type" not in str(exc)
    if isinstance(exc, sqlite3.OperationalError):
        return any(words in str(exc) for words in _SQLITE_SCHEMA_WORDS)
    if "psycopg" in sys.modules:
        import psycopg.errors

        if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):  # a standby's session
            return True
        if isinstance(exc, psycopg.ProgrammingError):
            # Raised by the server (with its SQLSTATE), not by psycopg adapting a value
            # ("cannot adapt type 'dict'").
            return exc.sqlstate is not None and exc.sqlstate not in _VALUE_SQLSTATES
    return False


def is_event_fault(store: Store, exc: BaseException) -> bool:
    """Whether a run that failed with ``exc`` may hold an event that cannot be applied
    (rather than a database that cannot be used now, Kenning unable to work, or a race
    lost to another follower)."""
    if isinstance(exc, CursorMoved) or is_systemic(exc):
        return False
    return not store.is_unavailable(exc)


def describe_error(exc: BaseException) -> str:
    """What went wrong and where, for an operator: the error's type, the first line of its
    message with the values it quotes masked, and the Kenning function it came from."""
    lines = str(exc).strip().splitlines()
    message = _QUOTED.sub(_mask_quoted, lines[0] if lines else "")
    message = _DIGITS.sub("…", _EMAIL.sub("…", message))
    # The innermost named function of Kenning's above the store: where the value was used.
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if "kenning" in Path(f.filename).parts and not f.name.startswith("<")
    ]
    frames = [f for f in frames if "store" not in Path(f.filename).parts] or frames
    where = f" (in {Path(frames[-1].filename).stem}.{frames[-1].name})" if frames else ""
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text[: _ERROR_LENGTH - len(where)] + where


def _mask_quoted(match: re.Match[str]) -> str:
    quoted = match.group(0)
    inner = quoted[1:-1]
    return quoted if _TYPE_NAME.fullmatch(inner) else quoted[0] + "…" + quoted[-1]


def _name(event: LoggedEvent) -> str:
    """A track's event name ("Order Completed"), shown beside the kind."""
    name = event.payload.get("event")
    return name[:100] if isinstance(name, str) else ""


# --------------------------------------------------------------------- following on
@dataclass
class _Runs:
    """What the smaller runs of a failed run share, and what they did together."""

    store: Store
    models: ModelCache
    settings: ResolutionSettings | None
    limit: int
    records: int
    markets: tuple[str, ...]
    outcome: FollowOutcome = field(default_factory=FollowOutcome)

    def add(self, done: FollowOutcome, run: IndexedRun | None) -> None:
        if run is not None:
            resolve_run(self.store, run, done)
        self.outcome.add(done)


def follow_past_failure(
    store: Store,
    models: ModelCache,
    settings: ResolutionSettings | None = None,
    *,
    limit: int = 2000,
    records: int = 200,
    markets: tuple[str, ...] = (),
) -> FollowOutcome:
    """After a run of follow failed: apply its events in halves down to those that fail
    alone, set those aside, and apply every other (see the module's docstring). Raises
    CursorMoved when another follower took them meanwhile, and whatever a failure that is
    not an event's fault raised."""
    runs = _Runs(store, models, settings, limit, records, markets)
    start = store.cursor(CURSOR)
    # The failed run read at most ``limit`` events from the cursor (fewer if it reached its
    # share of records first): its last event is at most that far.
    ahead = store.events_after(start, store.last_event_seq(), limit)
    if ahead:
        _halve(runs, start, ahead[-1].seq, None)
    return runs.outcome


def _halve(runs: _Runs, start: int, end: int, failure: BaseException | None) -> None:
    """The events after ``start`` (the cursor) up to ``end`` hold one that cannot be
    applied: with one event left, it is set aside (``failure`` is what it raised alone);
    else each half is applied in turn."""
    if end - start <= 1:
        ahead = runs.store.events_after(start, end, 1)
        if failure is None:  # not tried alone yet
            _apply(runs, start, end)
        elif ahead:
            _set_aside(runs.store, start, ahead[0], failure)
            runs.outcome.events += end - start
            runs.outcome.set_aside.append(ahead[0].seq)
        return
    middle = (start + end) // 2
    _apply(runs, start, middle)
    _apply(runs, max(middle, runs.store.cursor(CURSOR)), end)


def _apply(runs: _Runs, start: int, end: int) -> None:
    """Apply the events after ``start`` (the cursor) up to ``end``, in runs; a run that
    fails is halved (see _halve)."""
    cursor = start
    while cursor < end:
        try:
            done, run = index_run(
                runs.store,
                runs.models,
                runs.settings,
                limit=runs.limit,
                records=runs.records,
                markets=runs.markets,
                until=end,
            )
        except CursorMoved:
            raise
        except Exception as exc:
            if not is_event_fault(runs.store, exc):
                raise
            _halve(runs, cursor, end, exc if end - cursor <= 1 else None)
            return
        runs.add(done, run)
        if not done.events:
            return  # another follower has been past ``end``
        cursor += done.events


def _set_aside(store: Store, start: int, event: LoggedEvent, failure: BaseException) -> None:
    """Set the event after ``start`` (the cursor) aside with its error and move the cursor
    past it, in one transaction: nothing it would have written is kept."""
    error = describe_error(failure)
    with store.transaction():
        store.set_aside(
            event.seq, event.kind, event.source, _name(event), error, utcnow().isoformat()
        )
        if not store.advance_cursor(CURSOR, start, event.seq):
            raise CursorMoved("another follower moved the cursor; this run rolls back")
    # Kinds, sources and seqs only: the event's values stay in the log.
    log.warning(
        "event %d (%s from %s) cannot be applied and is set aside (kenning events failed): %s",
        event.seq,
        " ".join(filter(None, (event.kind, _name(event)))),
        event.source,
        error,
    )


# --------------------------------------------------------------------- retrying
@dataclass
class RetryOutcome:
    applied: list[int] = field(default_factory=list)  # seqs now applied (resolved)
    failed: list[DeadLetter] = field(default_factory=list)  # still failing, new error
    unknown: list[int] = field(default_factory=list)  # seqs asked for with no open letter


class _TakenMeanwhile(Exception):
    """Another retry applied the dead letter first: this one rolls back."""


def retry_dead_letters(
    store: Store,
    models: ModelCache | None = None,
    seqs: list[int] | None = None,
    *,
    markets: tuple[str, ...] = (),
) -> RetryOutcome:
    """Apply the open dead letters (those of ``seqs``, else all) again, after a fix: each
    in a transaction of its own, as a run of one event that leaves the cursor alone.
    Those that apply are marked resolved; those that still fail stay open with their new
    error. A retried event is applied as if it arrived now (its traits update the record
    over what later events said). A failure that is not the event's fault propagates."""
    models = models or ModelCache()
    outcome = RetryOutcome()
    letters = store.dead_letters(seqs)
    if seqs is not None:
        outcome.unknown = sorted(set(seqs) - {letter.seq for letter in letters})
    for letter in letters:
        ahead = store.events_after(letter.seq - 1, letter.seq, 1)
        if not ahead:
            outcome.unknown.append(letter.seq)
            continue
        event = ahead[0]
        try:
            with store.transaction():
                run = apply_events(
                    store, models, None, [event], gather([event]), FollowOutcome(), markets
                )
                if not store.resolve_dead_letter(letter.seq, utcnow().isoformat()):
                    raise _TakenMeanwhile
        except _TakenMeanwhile:
            continue
        except Exception as exc:
            if not is_event_fault(store, exc):
                raise
            with store.transaction():
                store.set_aside(
                    event.seq,
                    event.kind,
                    event.source,
                    _name(event),
                    describe_error(exc),
                    utcnow().isoformat(),
                )
            outcome.failed += store.dead_letters([letter.seq])
            continue
        if run is not None:
            resolve_run(store, run, FollowOutcome())
        outcome.applied.append(letter.seq)
    return outcome
