"""Activity from files and from collected events, and the whole customer in one call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from profiles_helpers import theresa_keys

from kenning.services.activity import import_activity
from kenning.services.follow import follow
from kenning.services.matching import ModelCache
from kenning.services.sources import add_source
from kenning.store import Store


def _follow(store: Store) -> None:
    models = ModelCache()
    while follow(store, models).events:
        pass


def test_reimporting_activity_changes_nothing(loaded: Store, retailer: Path) -> None:
    again = import_activity(loaded, retailer / "activity")
    assert sum(again.given.values()) > 0
    assert set(again.new.values()) == {0}


def test_theresa_whole_in_one_call(client: TestClient, theresa: str) -> None:
    answer = client.get(f"/v1/customers/{theresa}/profile")
    assert answer.status_code == 200, answer.text
    p = answer.json()
    assert p["golden"]["first_name"]["value"] == "Theresa"
    assert p["golden"]["email"]["value"].lower() == "theresa.whitfield@gmail.com"
    lineage = p["golden"]["last_name"]
    assert {"source", "record_id", "at", "rule"} <= set(lineage)
    assert {"source": lineage["source"], "record_id": lineage["record_id"]} in p["records"]
    owned = p["traits"]["owned_by_category"]
    assert (owned["suitcase"], owned["laptop bag"]) == (4, 3)
    assert len(p["owned"]) == 7  # seven registrations
    assert len(p["repairs"]) == 2
    statuses = [h["status"] for h in p["repairs"][0]["history"]]
    assert statuses[0] == "received"
    assert p["traits"]["favourite_stores"][0] == "S101"
    assert p["traits"]["email_engagement"]["opens"] > 0
    assert p["traits"]["loyalty"]["tier"] == "Gold"
    assert {o["channel"] for o in p["recent_orders"]} >= {"pos"}
    assert p["balances"] is None  # no ledger account yet
    missing = client.get("/v1/customers/nobody/profile")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


def _track(client: TestClient, key: str, body: dict[str, Any]) -> None:
    answer = client.post("/v1/track", json={"type": "track", **body}, auth=(key, ""))
    assert answer.status_code == 200, answer.text


def test_collected_ecommerce_events_reach_the_profile(
    client: TestClient, loaded: Store, theresa: str, retailer: Path
) -> None:
    pos = next(k for k in theresa_keys(retailer) if k[0] == "pos")
    # The tills whose files were imported: their server, vouched for.
    _, key = add_source(loaded, "pos", trusted=True, same_system=True)
    before = client.get(f"/v1/customers/{theresa}/profile").json()["traits"]
    _track(client, key, {"userId": pos[1], "event": "Order Completed", "properties": {
        "order_id": "T101-NEW-1", "store_id": "S101", "associate_id": "E1", "currency": "GBP",
        "total": 245.0, "products": [{"sku": "SC-ALD-55-GRA", "price": 245.0, "quantity": 1,
                                      "serial_number": "SC2640-NEW"}]}})  # fmt: skip
    _track(client, key, {"userId": pos[1], "event": "Product Viewed",
                         "properties": {"sku": "PU-FIS-XB-TAN"}})  # fmt: skip
    _track(client, key, {"userId": pos[1], "event": "Email Opened",
                         "properties": {"campaign_id": "CMP-NEW"}})  # fmt: skip
    _follow(loaded)
    p = client.get(f"/v1/customers/{theresa}/profile").json()
    assert p["traits"]["orders"] == before["orders"] + 1
    assert p["recent_orders"][0]["order_id"] == "T101-NEW-1"
    assert p["recent_orders"][0]["lines"][0]["serial_number"] == "SC2640NEW"
    assert p["traits"]["last_purchase"] > (before["last_purchase"] or "")
    assert p["traits"]["owned_by_category"]["suitcase"] == 5
    assert p["recent_browsing"][0]["sku"] == "PU-FIS-XB-TAN"
    assert p["traits"]["email_engagement"]["opens"] == before["email_engagement"]["opens"] + 1
    refund = {"order_id": "T101-NEW-1", "products": [{"sku": "SC-ALD-55-GRA", "price": 245.0}]}
    _track(client, key, {"userId": pos[1], "event": "Order Refunded", "properties": refund})
    _follow(loaded)
    after = client.get(f"/v1/customers/{theresa}/profile").json()["traits"]
    assert after["owned_by_category"]["suitcase"] == 4
    assert after["lifetime_spend"] == before["lifetime_spend"]


def test_a_visitors_browsing_and_a_registration_become_hers(
    client: TestClient, loaded: Store, theresa: str, retailer: Path
) -> None:
    pos = next(k for k in theresa_keys(retailer) if k[0] == "pos")
    _, key = add_source(loaded, "pos", trusted=True, same_system=True)
    _track(client, key, {"anonymousId": "visit-9", "event": "Product Added",
                         "properties": {"sku": "LB-BLO-B15-OLI", "cart_id": "c1"}})  # fmt: skip
    _track(client, key, {"anonymousId": "visit-9", "event": "Checkout Started",
                         "properties": {"checkout_id": "k1", "products": [
                             {"sku": "LB-BLO-B15-OLI"}, {"sku": "AC-PIL-BLA"}]}})  # fmt: skip
    _follow(loaded)
    browsing = client.get(f"/v1/customers/{theresa}/profile").json()["recent_browsing"]
    assert "checkout_started" not in {b["event"] for b in browsing}  # not hers yet
    _track(client, key, {"userId": pos[1], "anonymousId": "visit-9", "event": "Product Registered",
                         "properties": {"serial_number": "lb-2611-new", "sku": "LB-BLO-B15-OLI",
                                        "store_id": "S101"}})  # fmt: skip
    _follow(loaded)
    p = client.get(f"/v1/customers/{theresa}/profile").json()
    events = [(b["event"], b["sku"]) for b in p["recent_browsing"][:3]]
    assert ("checkout_started", "AC-PIL-BLA") in events and (
        "product_added",
        "LB-BLO-B15-OLI",
    ) in events
    assert "LB2611NEW" in {o["serial_number"] for o in p["owned"]}
    assert p["traits"]["owned_by_category"]["laptop bag"] == 4
