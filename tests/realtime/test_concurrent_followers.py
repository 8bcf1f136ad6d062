"""Followers that resolve at once: a run resolves its records outside the write lock and
places them only if nothing it read has changed since; otherwise it resolves them again.
The interleavings are played out step by step, so each test is deterministic."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from test_consistency import _TRAITS, _partition, _rows

from kenning.resolution.pipeline import RecordTable
from kenning.services import identity, matching
from kenning.services.follow import IndexedRun, finish_pending, follow, index_run
from kenning.services.identity import MODEL_NAME, resolve_store
from kenning.services.matching import ModelCache, Plan, place, plan_resolution
from kenning.services.sources import add_source
from kenning.store import Store, open_store

RecordKey = tuple[str, str]


def _log_identities(store: Store, client: TestClient, retailer: Path) -> set[frozenset[RecordKey]]:
    """Log every record of the retailer as an identify, in a shuffled order; each record
    with an e-mail first comes with another record's e-mail, corrected a few calls later
    (so that runs update records that earlier runs resolved). Returns batch's customers."""
    with open_store(f"sqlite:///{retailer / 'batch.db'}") as batch:
        model = batch.load_model(MODEL_NAME)
        expected = _partition(batch.customer_assignments())
    assert model is not None
    store.save_model(MODEL_NAME, model)
    rows = _rows(retailer)
    # The retailer's systems send from their servers: trusted, as their files are.
    sources = sorted({r["source"] for r in rows})
    keys = {name: add_source(store, name, trusted=True)[1] for name in sources}
    random.Random(11).shuffle(rows)
    emails = [row["email"] for row in rows if row.get("email")]
    calls: list[tuple[dict[str, str], dict[str, Any]]] = []
    for i, row in enumerate(rows):
        traits: dict[str, Any] = {k: row[k] for k in _TRAITS if row.get(k)}
        if traits.get("email"):
            wrong = {**traits, "email": emails[(i * 7) % len(emails)]}
            calls.insert(max(0, len(calls) - 3), (row, wrong))
        calls.append((row, traits))
    for n, (row, traits) in enumerate(calls):
        answer = client.post(
            "/v1/identify",
            json={"userId": row["record_id"], "traits": traits, "messageId": f"m{n}"},
            auth=(keys[row["source"]], ""),
        )
        assert answer.status_code == 200, answer.text
    return expected


def _plan(store: Store, run: IndexedRun) -> Plan:
    return plan_resolution(store, run.focus, run.asked, run.model, run.settings)


def test_two_followers_interleaved_give_the_batch_customers(
    store: Store, app_client: TestClient, batch_retailer: Path
) -> None:
    """Follower one indexes a run and resolves it; follower two indexes the next run,
    resolves it and places it first; then follower one places its own. What the second
    changed that the first had read sends the first back to resolving under the lock."""
    expected = _log_identities(store, app_client, batch_retailer)
    models = ModelCache()
    replanned = placed = 0
    while True:
        first, one = index_run(store, models, records=6)
        plan_one = _plan(store, one) if one else None
        second, two = index_run(store, models, records=6)
        if two is not None:
            with store.transaction():
                replanned += place(store, _plan(store, two), two.model, two.settings).replanned
                placed += 1
        if one is not None and plan_one is not None:
            with store.transaction():
                replanned += place(store, plan_one, one.model, one.settings).replanned
                placed += 1
        if not first.events and not second.events:
            break
    assert _partition(store.customer_assignments()) == expected
    assert store.pending(10) == []
    # Both ways were taken: runs placed as planned, and runs resolved again.
    assert 0 < replanned < placed


ANN = {"first_name": "Ann", "last_name": "Ibbotson", "email": "ann.ibbotson@example.org",
       "postcode": "LS6 2AB"}  # fmt: skip
RAJ = {"first_name": "Rajesh", "last_name": "Quartey", "email": "rq@example.net",
       "postcode": "TR18 4DY"}  # fmt: skip


def _web(store: Store, batch_retailer: Path) -> str:
    """Store batch's model and a web source (the shop's server: trusted, so that what it
    sends is evidence); returns the source's write key."""
    with open_store(f"sqlite:///{batch_retailer / 'batch.db'}") as batch:
        model = batch.load_model(MODEL_NAME)
    assert model is not None
    store.save_model(MODEL_NAME, model)
    return add_source(store, "web", trusted=True)[1]


def _identify(client: TestClient, key: str, people: dict[str, dict[str, str]]) -> None:
    """Log these identify calls (user id: traits) from the web."""
    for user, traits in people.items():
        answer = client.post(
            "/v1/identify",
            json={"userId": user, "traits": traits, "messageId": user},
            auth=(key, ""),
        )
        assert answer.status_code == 200, answer.text


def test_a_new_shopper_is_placed_before_the_rest_of_her_run(
    store: Store, app_client: TestClient, batch_retailer: Path, monkeypatch: Any
) -> None:
    """In a run with a known shopper's new record and a new shopper who links to nobody,
    the new shopper is placed first, before the known shopper's customer is resolved
    again: her sign-up is visible without waiting for it."""
    key = _web(store, batch_retailer)
    _identify(app_client, key, {"ann": ANN})
    models = ModelCache()
    follow(store, models)
    _identify(app_client, key, {"ann-web": ANN, "raj": RAJ})
    seen: list[str | None] = []
    components_plan = matching._components_plan

    def watched(store: Store, *args: Any) -> Plan:
        seen.append(store.customer_of("web", "raj"))
        return components_plan(store, *args)

    monkeypatch.setattr(matching, "_components_plan", watched)
    outcome = follow(store, models)
    assert outcome.resolved == 3
    assert len(seen) == 1 and seen[0] is not None
    customers = store.customer_assignments()
    assert customers[("web", "ann-web")] == customers[("web", "ann")] != customers[("web", "raj")]
    assert store.pending(10) == []


def test_a_run_that_read_nothing_changed_is_placed_as_planned(
    store: Store, app_client: TestClient, batch_retailer: Path
) -> None:
    """Two runs about different people, planned at once, are placed without resolving
    either again, and with the customers a follower would have given them one by one."""
    key = _web(store, batch_retailer)
    models = ModelCache()
    runs = []
    for user, traits in (("ann", ANN), ("raj", RAJ)):
        _identify(app_client, key, {user: traits})
        _, run = index_run(store, models)
        assert run is not None
        runs.append((run, _plan(store, run)))
    outcomes = []
    for run, plan in reversed(runs):
        with store.transaction():
            outcomes.append(place(store, plan, run.model, run.settings))
    assert [o.replanned for o in outcomes] == [False, False]
    customers = store.customer_assignments()
    assert customers[("web", "ann")] != customers[("web", "raj")]
    assert store.pending(10) == []


def test_records_a_follower_left_unplaced_are_resolved_when_one_starts(
    store: Store, app_client: TestClient, batch_retailer: Path
) -> None:
    """A follower killed between indexing its runs and placing them leaves their records
    pending; the next follower to start resolves them."""
    expected = _log_identities(store, app_client, batch_retailer)
    models = ModelCache()
    while index_run(store, models, records=50)[0].events:
        pass
    assert store.pending(1)
    finish_pending(store, models)
    assert store.pending(1) == []
    assert _partition(store.customer_assignments()) == expected


def test_a_batch_run_settles_what_followers_left_pending_unless_indexed_again(
    store: Store, app_client: TestClient, batch_retailer: Path, monkeypatch: Any
) -> None:
    """Records a follower indexed and did not place are placed by a batch run, and wait no
    more; one indexed again while the batch run worked stays pending, for its new values."""
    key = _web(store, batch_retailer)
    models = ModelCache()
    _identify(app_client, key, {"ann": ANN, "raj": RAJ})
    assert index_run(store, models)[1] is not None
    assert store.pending(10) == [("web", "ann"), ("web", "raj")]
    loaded = identity.load_table

    def raj_again_meanwhile(batch_store: Store) -> RecordTable:
        table = loaded(batch_store)
        again = {"userId": "raj", "traits": {**RAJ, "phone": "07700 900123"}, "messageId": "r2"}
        assert app_client.post("/v1/identify", json=again, auth=(key, "")).status_code == 200
        assert index_run(store, models)[1] is not None
        return table

    monkeypatch.setattr(identity, "load_table", raj_again_meanwhile)
    resolve_store(store)
    assert store.pending(10) == [("web", "raj")]
    assert store.customer_of("web", "ann") is not None


def test_a_plan_of_new_and_known_shoppers_is_in_key_order(
    store: Store, app_client: TestClient, batch_retailer: Path
) -> None:
    """A new shopper's record and a known shopper's, planned together, come in key order
    with each customer named by its smallest record, as placing expects."""
    key = _web(store, batch_retailer)
    models = ModelCache()
    _identify(app_client, key, {"ann": ANN})
    follow(store, models)
    _identify(app_client, key, {"ann-web": ANN, "raj": RAJ})
    _, run = index_run(store, models)
    assert run is not None
    plan = _plan(store, run)
    assert plan.keys == sorted(plan.keys) == [("web", "ann"), ("web", "ann-web"), ("web", "raj")]
    assert plan.labels.tolist() == [0, 0, 2]
