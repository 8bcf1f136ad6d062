"""Records streamed one at a time over HTTP give the customers batch resolution gives."""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

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


def test_streamed_identities_give_the_batch_customers(
    store: Store, app_client: TestClient, batch_retailer: Path
) -> None:
    with open_store(f"sqlite:///{batch_retailer / 'batch.db'}") as batch:
        model = batch.load_model(MODEL_NAME)
        expected = _partition(batch.customer_assignments())
    assert model is not None
    store.save_model(MODEL_NAME, model)
    rows = _rows(batch_retailer)
    keys = {name: add_source(store, name)[1] for name in sorted({r["source"] for r in rows})}
    random.Random(8).shuffle(rows)
    models = ModelCache()
    for i, row in enumerate(rows):
        traits: dict[str, Any] = {k: row[k] for k in _TRAITS if row.get(k)}
        answer = app_client.post(
            "/v1/identify",
            json={"userId": row["record_id"], "traits": traits, "messageId": f"m{i}"},
            auth=(keys[row["source"]], ""),
        )
        assert answer.status_code == 200, answer.text
        assert follow(store, models).records == 1
    streamed = store.customer_assignments()
    assert len(streamed) == len(rows)
    assert _partition(streamed) == expected
