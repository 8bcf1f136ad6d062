"""Records streamed one at a time over HTTP give the customers batch resolution gives."""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sharing_check import assert_kept_as_decided

from kenning.services.follow import follow
from kenning.services.identity import MODEL_NAME
from kenning.services.matching import ModelCache
from kenning.services.sources import add_source
from kenning.store import Store, open_store

RecordKey = tuple[str, str]
_TRAITS = ("first_name", "last_name", "full_name", "email", "phone", "date_of_birth",
           "address_line1", "address_line2", "city", "region", "postcode", "country",
           "loyalty_id", "serial_number", "updated_at")  # fmt: skip


def _rows(retailer: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted((retailer / "records").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            rows += list(csv.DictReader(handle))
    return rows


def _partition(assignments: dict[RecordKey, str]) -> set[frozenset[RecordKey]]:
    groups: dict[str, set[RecordKey]] = {}
    for key, customer in assignments.items():
        groups.setdefault(customer, set()).add(key)
    return {frozenset(group) for group in groups.values()}


def _stream(
    store: Store, client: TestClient, retailer: Path, *, first_wrong: bool
) -> tuple[set[frozenset[RecordKey]], set[frozenset[RecordKey]]]:
    """Send every record of the retailer as an identify, one at a time in a shuffled order,
    following the log after each; with ``first_wrong``, each record with an e-mail first
    comes with another record's e-mail, corrected at once. Returns (streamed, batch)."""
    with open_store(f"sqlite:///{retailer / 'batch.db'}") as batch:
        model = batch.load_model(MODEL_NAME)
        expected = _partition(batch.customer_assignments())
    assert model is not None
    store.save_model(MODEL_NAME, model)
    rows = _rows(retailer)
    # The retailer's systems send from their servers: trusted, as their files are.
    sources = sorted({r["source"] for r in rows})
    keys = {name: add_source(store, name, trusted=True)[1] for name in sources}
    random.Random(8).shuffle(rows)
    emails = [row["email"] for row in rows if row.get("email")]
    models = ModelCache()
    sent = 0
    for i, row in enumerate(rows):
        traits: dict[str, Any] = {k: row[k] for k in _TRAITS if row.get(k)}
        versions = [traits]
        if first_wrong and traits.get("email"):
            versions.insert(0, {**traits, "email": emails[(i * 7) % len(emails)]})
        for version in versions:
            sent += 1
            answer = client.post(
                "/v1/identify",
                json={"userId": row["record_id"], "traits": version, "messageId": f"m{sent}"},
                auth=(keys[row["source"]], ""),
            )
            assert answer.status_code == 200, answer.text
            follow(store, models)
    streamed = store.customer_assignments()
    assert len(streamed) == len(rows)
    # Which values are shared was decided record by record as a batch run decides it.
    assert_kept_as_decided(store)
    return _partition(streamed), expected


def test_streamed_identities_give_the_batch_customers(
    store: Store, app_client: TestClient, batch_retailer: Path
) -> None:
    streamed, expected = _stream(store, app_client, batch_retailer, first_wrong=False)
    assert streamed == expected


def test_corrected_identities_give_the_batch_customers(
    store: Store, app_client: TestClient, batch_retailer: Path
) -> None:
    """A record whose e-mail changes leaves its old e-mail's other holders to be resolved
    again: they may no longer share it."""
    streamed, expected = _stream(store, app_client, batch_retailer, first_wrong=True)
    assert streamed == expected
