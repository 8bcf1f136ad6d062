"""What each write to the identity graph changed, kept so that a resolution begun before
it can tell whether anything it read has changed (see store/resolving.py)."""

from __future__ import annotations

import pytest

from kenning.store import Store, resolving
from kenning.store.resolving import EVERYTHING, tags


def test_a_write_changes_what_it_names_and_nothing_else(store: Store) -> None:
    begun = store.identity_generation()
    assert not store.changed_since(begun, {"p": {("web", "ann")}})
    with store.transaction():
        store.note_identity_writes(tags("p", [("web", "ann")]) + tags("s", [-42]))
    assert store.identity_generation() == begun + 1
    assert store.changed_since(begun, {"p": {("web", "ann")}})
    assert store.changed_since(begun, {"s": {-42}})
    assert not store.changed_since(begun, {"p": {("web", "bob")}, "v": {("web", "ann")}})
    assert not store.changed_since(begun + 1, {"p": {("web", "ann")}})


def test_a_write_too_big_to_list_changes_everything(store: Store) -> None:
    begun = store.identity_generation()
    with store.transaction():
        store.note_identity_writes([EVERYTHING])
    assert store.changed_since(begun, {"c": {"anything"}})
    assert store.changed_since(begun, {})


def test_placements_note_the_records_components_and_customers_they_move(store: Store) -> None:
    with store.transaction():
        store.update_assignments([("web", "ann", "c1", "k1"), ("pos", "a9", "c1", "k1")], {})
    begun = store.identity_generation()
    with store.transaction():
        store.update_assignments(
            [("web", "ann", "c2", "k2"), ("pos", "a9", "c1", "k1")],
            {("web", "ann"): "c1", ("pos", "a9"): "c1"},
            previous_components={("web", "ann"): "k1", ("pos", "a9"): "k1"},
        )
    assert store.changed_since(begun, {"p": {("web", "ann")}})
    assert not store.changed_since(begun, {"p": {("pos", "a9")}})  # unchanged: not written
    assert store.changed_since(begun, {"c": {"k1"}})  # left by ann
    assert store.changed_since(begun, {"u": {"c2"}})
    assert not store.changed_since(begun, {"c": {"k9"}, "u": {"c9"}})


def test_a_correction_changes_both_records(store: Store) -> None:
    begun = store.identity_generation()
    with store.transaction():
        store.add_correction("cannot_link", ("web", "ann"), ("pos", "a9"), None)
    assert store.changed_since(begun, {"p": {("pos", "a9")}})


def test_a_resolution_older_than_the_writes_kept_is_taken_to_conflict(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resolving, "KEEP_GENERATIONS", 10)
    begun = store.identity_generation()
    for n in range(100):
        with store.transaction():
            store.note_identity_writes(tags("p", [("web", f"r{n}")]))
    assert store.changed_since(begun, {"p": {("web", "nobody")}})
    assert not store.changed_since(store.identity_generation(), {"p": {("web", "r99")}})
