"""Stock files, adjustments, receipts, transfers and keys through the services, both backends."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from inventory_data import NOW

from kenning.commerce.inventory.errors import InventoryError
from kenning.services import inventory as service
from kenning.services import keys
from kenning.store import Store


def _levels(store: Store, sku: str) -> dict[str, tuple[int, int, int]]:
    return {
        lv.location_id: (lv.on_hand, lv.safety_stock, lv.in_transit)
        for lv in service.stock_levels(store, sku)
    }


def test_stock_file_sets_counts_and_rejects_bad_rows(inventory: Store, tmp_path: Path) -> None:
    path = tmp_path / "stock.csv"
    path.write_text(
        "SKU,Location,On_Hand,Safety_Stock\n"
        "BAG-1,LDN,5,1\n"
        "BAG-1,MAN,3,\n"
        "BAG-1,MARS,3,0\n"
        "BAG-1,EDI,-2,0\n"
        "BAG-1,EDI,lots,0\n",
        encoding="utf-8",
    )
    report = service.import_stock(inventory, path)
    assert report.written == 2
    assert [r.split(":")[0] for r in report.rejected] == ["line 4", "line 5", "line 6"]
    assert _levels(inventory, "BAG-1") == {"LDN": (5, 1, 0), "MAN": (3, 0, 0)}
    # A recount without safety stock keeps the safety stock set before.
    path.write_text("sku,location,on_hand\nBAG-1,LDN,9\n", encoding="utf-8")
    service.import_stock(inventory, path)
    assert _levels(inventory, "BAG-1")["LDN"] == (9, 1, 0)
    path.write_text("sku,on_hand\nBAG-1,9\n", encoding="utf-8")
    with pytest.raises(InventoryError, match="missing columns location"):
        service.import_stock(inventory, path)


def test_locations_file(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "locations.csv"
    path.write_text(
        "id,name,kind,market,latitude,longitude,pickup,ship_capacity\n"
        "LDN,London,store,GB,51.5,-0.14,yes,20\n"
        "WH,Warehouse,warehouse,GB,52.2,-1.1,,\n"
        "BAD,Nowhere,shed,GB,52.2,-1.1,,\n"
        "OFF,Off the map,store,GB,99,0,,\n",
        encoding="utf-8",
    )
    report = service.import_locations(store, path)
    assert report.written == 2 and len(report.rejected) == 2
    assert service.location_groups(store) == {"GB": ["LDN", "WH"]}
    found = {loc.id: loc for loc in service.list_locations(store)}
    assert found["LDN"].pickup and found["LDN"].ship_capacity == 20
    assert not found["WH"].pickup and found["WH"].ship_capacity is None


def test_adjustments_and_receipts_are_idempotent(inventory: Store) -> None:
    level = service.receive(inventory, "BAG-1", "LDN", 4, key="grn-1")
    assert service.receive(inventory, "BAG-1", "LDN", 4, key="grn-1") == level
    assert level.on_hand == 4
    shrink = service.adjust(inventory, "BAG-1", "LDN", -3, "damaged", key="adj-1")
    assert service.adjust(inventory, "BAG-1", "LDN", -3, "damaged", key="adj-1") == shrink
    assert shrink.on_hand == 1
    with pytest.raises(InventoryError, match="below zero"):
        service.adjust(inventory, "BAG-1", "LDN", -2, "count", key="adj-2")
    with pytest.raises(InventoryError, match="no location"):
        service.receive(inventory, "BAG-1", "MARS", 1, key="grn-2")
    assert _levels(inventory, "BAG-1") == {"LDN": (1, 0, 0)}


def test_transfers_never_send_what_is_not_available(inventory: Store) -> None:
    inventory.set_stock([("BAG-1", "WH-GB", 5, 2)])
    arrival = NOW + timedelta(days=1)
    with pytest.raises(InventoryError, match="fewer than 4 available"):
        service.start_transfer(inventory, "BAG-1", "WH-GB", "LDN", 4, arrival, now=NOW)
    sent = service.start_transfer(
        inventory, "BAG-1", "WH-GB", "LDN", 3, arrival, key="t-1", now=NOW
    )
    retry = service.start_transfer(
        inventory, "BAG-1", "WH-GB", "LDN", 3, arrival, key="t-1", now=NOW
    )
    assert retry == sent and sent.expected_arrival == "2026-11-28T10:00:00.000000Z"
    assert _levels(inventory, "BAG-1") == {"WH-GB": (2, 2, 0), "LDN": (0, 0, 3)}
    service.receive_transfer(inventory, sent.id, now=NOW + timedelta(days=1))
    assert _levels(inventory, "BAG-1") == {"WH-GB": (2, 2, 0), "LDN": (3, 0, 0)}
    with pytest.raises(InventoryError, match="is received"):
        service.receive_transfer(inventory, sent.id)


def test_keys_are_hashed_scoped_and_revocable(store: Store) -> None:
    key, secret = keys.create_key(store, "kiosk", ["inventory:write"])
    assert secret.startswith("kn_sk_") and secret not in str(store.api_keys())
    found = keys.authenticate(store, secret)
    assert found == key
    assert found.allows("inventory:read") and not found.allows("customers:read")
    assert keys.authenticate(store, secret + "x") is None
    assert keys.revoke_key(store, key.id)
    assert keys.authenticate(store, secret) is None
    with pytest.raises(Exception, match="scopes"):
        keys.create_key(store, "x", ["everything"])
