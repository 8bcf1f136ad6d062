"""The decisions on which identifier values are shared, kept for the real-time matcher, are
those a batch run over the whole store would make, however the records came."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from sharing_check import assert_kept_as_decided

from kenning.domain.segment import parse_message
from kenning.ingest.importer import Importer
from kenning.resolution.blocking import lookup_key
from kenning.services.collect import collect
from kenning.services.follow import catch_up, follow
from kenning.services.identity import resolve_store
from kenning.services.indexing import index_all
from kenning.services.matching import SHARING_NAME, ModelCache, stored_settings
from kenning.store import Store


def _import(store: Store, retailer: Path) -> None:
    Importer(store).import_files(sorted((retailer / "records").glob("*.csv")))


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_a_batch_run_keeps_its_decisions(store: Store, batch_retailer: Path) -> None:
    _import(store, batch_retailer)
    resolve_store(store)
    assert store.model_stamp(SHARING_NAME) is not None
    assert_kept_as_decided(store)


def test_a_store_resolved_before_they_were_kept_has_them_decided(
    store: Store, batch_retailer: Path
) -> None:
    _import(store, batch_retailer)
    resolve_store(store)
    catch_up(store)
    with store.transaction():  # as a store of an earlier version holds it
        store._execute("DELETE FROM shared_values")
        store._execute("DELETE FROM models WHERE name = ?", (SHARING_NAME,))
    message = {"type": "identify", "userId": "u1", "traits": {"email": "new@example.org"}}
    collect(store, "web", [parse_message({**message, "messageId": "m1"}, datetime.now(UTC))])
    follow(store, ModelCache())
    assert store.model_stamp(SHARING_NAME) is not None
    assert_kept_as_decided(store)


def test_records_imported_after_a_run_have_their_values_decided(
    store: Store, batch_retailer: Path, tmp_path: Path
) -> None:
    _import(store, batch_retailer)
    resolve_store(store)
    catch_up(store)
    # A couple writing from one new address, by file: the follower indexes them one run
    # at a time (too few to index the store at once).
    couple = [
        {"source": "pos", "record_id": f"late-{name}", "first_name": name,
         "last_name": "okafor", "email": "okafor.family@btinternet.com", "postcode": "YO1 7HH"}
        for name in ("adaeze", "chinedu")
    ]  # fmt: skip
    Importer(store).import_files([_write(tmp_path / "late.csv", couple)])
    catch_up(store)
    assert_kept_as_decided(store)
    family = lookup_key("email", "okafor.family@btinternet.com")
    assert store.shared_values([family]) == {family: True}  # a household's


def test_indexing_the_store_at_once_decides_again(store: Store, batch_retailer: Path) -> None:
    _import(store, batch_retailer)
    resolve_store(store)
    catch_up(store)
    store._execute("DELETE FROM shared_values")
    index_all(store, stored_settings(store))  # as after a big import, or a rebuild
    assert_kept_as_decided(store)
