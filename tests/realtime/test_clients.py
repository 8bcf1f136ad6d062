"""The official Segment library and RudderStack's, unmodified, deliver to Kenning, and the
events land on the right customers."""

from __future__ import annotations

from pathlib import Path

import pytest
from rudderstack.analytics.client import Client as RudderClient
from segment.analytics.client import Client as SegmentClient
from server import serving

from kenning.api.app import create_app
from kenning.services import customers
from kenning.services.follow import follow
from kenning.services.identity import MODEL_NAME
from kenning.services.matching import ModelCache
from kenning.services.sources import add_source
from kenning.settings import Settings
from kenning.store import Store, open_store


@pytest.fixture
def trained(store: Store, batch_retailer: Path) -> Store:
    with open_store(f"sqlite:///{batch_retailer / 'batch.db'}") as batch:
        model = batch.load_model(MODEL_NAME)
    assert model is not None
    store.save_model(MODEL_NAME, model)
    return store


def _caught_up(store: Store) -> None:
    models = ModelCache()
    while follow(store, models).events:
        pass


def test_segment_and_rudderstack_libraries_deliver(trained: Store, store_url: str) -> None:
    store = trained
    # Both libraries run on servers (the shop's back end, the tills): trusted sources.
    _, web_key = add_source(store, "web", trusted=True)
    _, pos_key = add_source(store, "pos-london", trusted=True)
    errors: list[object] = []
    app = create_app(Settings(database_url=store_url, pool_size=2, follow_events=False))
    with serving(app) as url:
        segment = SegmentClient(web_key, host=url, on_error=lambda e, _: errors.append(e))
        segment.track(
            anonymous_id="visitor-7", event="Product Viewed", properties={"sku": "CASE-55"}
        )
        segment.identify(
            "web-1001",
            {
                "email": "Theresa.Quinn@Fastmail.co.uk",
                "firstName": "Theresa",
                "lastName": "Quinn",
                "address": {
                    "street": "12 Elm Street",
                    "city": "London",
                    "postalCode": "N1 9GU",
                    "country": "GB",
                },
            },
            anonymous_id="visitor-7",
        )
        segment.flush()
        # RudderStack's library sends gzip-encoded batches with Basic auth.
        rudder = RudderClient(pos_key, host=url, on_error=lambda e, _: errors.append(e))
        theresa = {
            "email": "theresa.quinn@fastmail.co.uk",
            "name": "Theresa Quinn",
            "phone": "020 7946 0321",
            "address": {"postalCode": "N1 9GU", "country": "GB"},
        }
        rudder.identify("till-88", theresa)
        rudder.track("till-88", "Order Completed", {"revenue": 420.0, "currency": "GBP"})
        rudder.flush()
    assert errors == []
    _caught_up(store)
    found = customers.lookup(store, email="theresa.quinn@fastmail.co.uk")
    assert {(r["source"], r["record_id"]) for r in found.records} == {
        ("web", "web-1001"),
        ("pos-london", "till-88"),
    }
    assert found.anonymous_ids == [{"source": "web", "anonymous_id": "visitor-7"}]
    assert customers.lookup(store, anonymous_id="visitor-7").customer_id == found.customer_id
    page, _ = customers.events(store, found.customer_id, None, 50)
    kinds = sorted(e.kind for e in page if e.kind.startswith("segment."))
    assert kinds == ["segment.identify", "segment.identify", "segment.track", "segment.track"]
