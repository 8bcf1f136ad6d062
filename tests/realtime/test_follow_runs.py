"""A follower run names a bounded number of records; the next run goes on from there."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from kenning.domain.segment import parse_message
from kenning.services.collect import collect
from kenning.services.follow import CURSOR, Follower, FollowOutcome, follow
from kenning.services.matching import ModelCache
from kenning.store import Store


def _log(store: Store, messages: list[dict[str, object]]) -> None:
    now = datetime.now(UTC)
    collect(store, "web", [parse_message(m, now) for m in messages])


def test_runs_stop_at_their_share_of_records_and_pass_browsing_by_in_bulk(store: Store) -> None:
    browsing = [
        {"type": "track", "anonymousId": f"v{i}", "event": "Viewed", "messageId": f"t{i}"}
        for i in range(30)
    ]
    signups = [
        {"type": "identify", "userId": f"u{i}", "traits": {"email": f"u{i}@example.org"},
         "messageId": f"i{i}"}
        for i in range(7)
    ]  # fmt: skip
    _log(store, browsing + signups)
    models = ModelCache()
    first = follow(store, models, records=3)
    assert first.events == 33 and first.records == 3  # every track, then three sign-ups
    written = []
    while (outcome := follow(store, models, records=3)).events:
        written.append(outcome.records)  # later runs also pass the runs' own record events
    assert written[:2] == [3, 1] and not any(written[2:])
    assert store.cursor(CURSOR) == store.last_event_seq()
    assert store.record_counts() == {"web": 7}


def test_the_server_s_follower_resolves_what_a_failed_run_left_pending_first() -> None:
    """The server's follower thread recovers (finish_pending) before its first run and
    after a run fails between indexing and placing, before it follows on."""
    calls: list[str] = []
    second = threading.Event()

    def run() -> FollowOutcome:
        calls.append("run")
        if calls.count("run") == 1:
            raise RuntimeError("placing failed")
        second.set()
        return FollowOutcome()

    follower = Follower(run, interval=0.01, recover=lambda: calls.append("recover"))
    follower.start()
    follower.poke()
    assert second.wait(10)
    follower.stop()
    assert calls[:4] == ["recover", "run", "recover", "run"]


def test_a_recovery_that_fails_does_not_stop_the_server_s_follower() -> None:
    """Records that cannot be resolved again (the recovery fails) leave the log followed."""
    calls: list[str] = []
    runs = threading.Event()

    def recover() -> None:
        calls.append("recover")
        raise RuntimeError("a pending record cannot be resolved")

    def run() -> FollowOutcome:
        calls.append("run")
        if calls.count("run") == 2:
            runs.set()
        return FollowOutcome()

    errors: list[BaseException] = []
    follower = Follower(run, interval=0.01, recover=recover, on_error=errors.append)
    follower.start()
    follower.poke()
    assert runs.wait(10)
    follower.stop()
    assert calls[:4] == ["recover", "run", "recover", "run"]
    assert errors and all(isinstance(e, RuntimeError) for e in errors)
