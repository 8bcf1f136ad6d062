"""A public write key's e-mail and phone are claims: they link its visitor to no one until
verified, while a trusted source's link as before (README, "What a write key can do")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kenning.ingest.importer import Importer
from kenning.services import customers
from kenning.services.follow import catch_up, follow
from kenning.services.identity import MODEL_NAME
from kenning.services.matching import ModelCache
from kenning.services.sources import add_source
from kenning.store import Store, open_store

RUTH = {"firstName": "Ruth", "lastName": "Okonjo", "email": "ruth.okonjo@fastmail.co.uk",
        "phone": "+44 7700 900456", "birthday": "1980-06-02",
        "address": {"street": "9 Quay Street", "postalCode": "BS1 4DJ"}}  # fmt: skip


def _trained(store: Store, batch_retailer: Path) -> None:
    with open_store(f"sqlite:///{batch_retailer / 'batch.db'}") as batch:
        model = batch.load_model(MODEL_NAME)
    assert model is not None
    store.save_model(MODEL_NAME, model)


def _identify(client: TestClient, store: Store, key: str, user: str, traits: Any) -> None:
    answer = client.post("/v1/identify", json={"userId": user, "traits": traits}, auth=(key, ""))
    assert answer.status_code == 200, answer.text
    models = ModelCache()
    while follow(store, models).events:
        pass


@pytest.mark.parametrize("claimed", ["email", "phone"])
def test_a_claimed_contact_links_no_one_a_trusted_one_does(
    store: Store, app_client: TestClient, batch_retailer: Path, claimed: str
) -> None:
    _trained(store, batch_retailer)
    _, pos = add_source(store, "pos", trusted=True)
    _, web = add_source(store, "web-shop")
    _, crm = add_source(store, "crm", trusted=True)
    _identify(app_client, store, pos, "p-1", RUTH)
    ruth = store.customer_of("pos", "p-1")
    same = {"firstName": "Ruth", "lastName": "Okonjo", claimed: RUTH[claimed]}
    _identify(app_client, store, web, "w-1", same)
    assert store.customer_of("web-shop", "w-1") not in (None, ruth)
    # Looked up by it, the claim finds her alone: it is no evidence of anyone.
    found = customers.lookup(store, **{claimed: str(RUTH[claimed])})
    assert found.customer_id == ruth
    assert {(r["source"], r["record_id"]) for r in found.records} == {("pos", "p-1")}
    _identify(app_client, store, crm, "c-1", same)
    assert store.customer_of("crm", "c-1") == ruth


def test_a_record_a_file_gives_is_no_longer_the_public_keys(
    store: Store, app_client: TestClient, batch_retailer: Path, tmp_path: Path
) -> None:
    """A record a public key's events made, then given by a file, is the file's."""
    _trained(store, batch_retailer)
    _, web = add_source(store, "web")
    _identify(app_client, store, web, "w-1", {"firstName": "Ruth"})
    path = tmp_path / "web.csv"
    path.write_text(
        "source,record_id,first_name,last_name,email\n"
        "web,w-1,Ruth,Okonjo,ruth.okonjo@fastmail.co.uk\n",
        encoding="utf-8",
    )
    Importer(store).import_files([path])
    stored = store.get_record("web", "w-1")
    assert stored is not None and stored.normalised["last_name"] == "okonjo"
    _identify(app_client, store, web, "w-1", {"email": "mallory@fastmail.co.uk"})
    assert store.get_record("web", "w-1") == stored


def test_a_record_a_big_import_gives_is_no_longer_the_public_keys(
    store: Store, app_client: TestClient, batch_retailer: Path, tmp_path: Path
) -> None:
    """The same when the import is big enough to be indexed all at once."""
    _trained(store, batch_retailer)
    _, web = add_source(store, "web")
    _identify(app_client, store, web, "w-1", {"firstName": "Ruth"})
    path = tmp_path / "web.csv"
    path.write_text(
        "source,record_id,first_name,last_name,email\n"
        "web,w-1,Ruth,Okonjo,ruth.okonjo@fastmail.co.uk\n"
        "web,w-2,Amos,Okonjo,amos.okonjo@fastmail.co.uk\n",
        encoding="utf-8",
    )
    Importer(store).import_files([path])
    assert catch_up(store, ModelCache(), bulk_from=2).events >= 2  # the one-pass indexing
    assert store.claimed_records([("web", "w-1")]) == set()
    stored = store.get_record("web", "w-1")
    _identify(app_client, store, web, "w-1", {"email": "mallory@fastmail.co.uk"})
    assert store.get_record("web", "w-1") == stored


def test_an_upgrade_knows_which_records_a_public_key_made(store: Store) -> None:
    """Records collected before trust was kept: an untrusted source's that no file gave."""
    store.add_source("web", "kn_wk_a", "hash-a", trusted=False)
    store.add_source("pos", "kn_wk_b", "hash-b", trusted=True)
    store.append_events([
        ("record.collected", "web", "w-1", None, "{}"),
        ("record.upserted", "web", "w-2", None, "{}"),
        ("record.collected", "web", "w-2", None, "{}"),
        ("record.collected", "pos", "p-1", None, "{}"),
    ])  # fmt: skip
    with store.transaction():
        for table in ("claimed_records", "verified_claims", "unvouched_orders"):
            store._execute(f"DROP TABLE {table}")
        store._execute("DELETE FROM schema_migrations WHERE version = 13")
    assert store.migrate() == [13]
    keys = [("web", "w-1"), ("web", "w-2"), ("pos", "p-1")]
    assert store.claimed_records(keys) == {("web", "w-1")}
