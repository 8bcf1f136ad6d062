"""Reservations on both backends: never oversold, expiry, idempotency, the lifecycle."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from inventory_data import LOCATIONS, NOW

from concurrent_clients import all_at_once
from kenning.commerce.inventory.errors import InventoryError
from kenning.commerce.inventory.locations import Point
from kenning.commerce.inventory.sourcing import Order, OrderLine
from kenning.commerce.inventory.stock import ReservationLine
from kenning.domain.refusals import Refusal
from kenning.services.inventory import availability, save_locations, stock_levels
from kenning.services.reservations import (
    confirm,
    expire_due,
    fulfil,
    propose_plans,
    release,
    reserve,
)
from kenning.store import Store


def _level(store: Store, sku: str, location: str) -> tuple[int, int, int]:
    level = next(lv for lv in stock_levels(store, sku) if lv.location_id == location)
    return level.on_hand, level.reserved, level.available


def test_fifty_concurrent_reservations_for_the_last_three_units(
    inventory: Store, store_url: str
) -> None:
    inventory.set_stock([("BAG-1", "LDN", 5, 2)])  # 5 on hand, 2 safety stock: 3 to sell
    clients = 50

    def shopper(own: Store) -> str:
        try:
            reserve(own, [ReservationLine("BAG-1", "LDN", 1)], now=NOW)
            return "ok"
        except InventoryError as exc:
            return exc.code

    outcomes = all_at_once(store_url, clients, shopper)
    assert outcomes.count("ok") == 3
    assert outcomes.count("insufficient_stock") == clients - 3
    assert _level(inventory, "BAG-1", "LDN") == (5, 3, 0)


def test_expired_holds_return_to_available(inventory: Store) -> None:
    inventory.set_stock([("BAG-1", "LDN", 2, 0)])
    hold = [ReservationLine("BAG-1", "LDN", 2)]
    held = reserve(inventory, hold, ttl=timedelta(minutes=10), now=NOW)
    assert availability(inventory, "BAG-1", now=NOW).available == 0
    with pytest.raises(InventoryError):
        reserve(inventory, [ReservationLine("BAG-1", "LDN", 1)], now=NOW + timedelta(minutes=9))
    # Past the expiry, reading availability releases the hold: no sweep job needed.
    later = NOW + timedelta(minutes=10)
    assert availability(inventory, "BAG-1", now=later).available == 2
    assert _level(inventory, "BAG-1", "LDN") == (2, 0, 2)
    with pytest.raises(InventoryError, match="expired"):
        confirm(inventory, held.id, now=later)
    assert expire_due(inventory, later) == 0


def test_reserving_releases_expired_holds_and_sweep_counts(inventory: Store) -> None:
    inventory.set_stock([("BAG-1", "LDN", 1, 0)])
    reserve(inventory, [ReservationLine("BAG-1", "LDN", 1)], ttl=timedelta(seconds=30), now=NOW)
    taken = reserve(
        inventory, [ReservationLine("BAG-1", "LDN", 1)], now=NOW + timedelta(seconds=30)
    )
    assert taken.status == "held"
    assert expire_due(inventory, NOW + timedelta(hours=1)) == 1
    assert _level(inventory, "BAG-1", "LDN") == (1, 0, 1)


def test_a_retry_with_the_same_key_does_nothing_twice(inventory: Store) -> None:
    inventory.set_stock([("BAG-1", "LDN", 10, 0)])
    lines = [ReservationLine("BAG-1", "LDN", 4)]
    first = reserve(inventory, lines, key="checkout-7", now=NOW)
    again = reserve(inventory, lines, key="checkout-7", now=NOW + timedelta(seconds=5))
    assert again == first
    assert _level(inventory, "BAG-1", "LDN") == (10, 4, 6)
    with pytest.raises(Refusal) as mismatch:
        reserve(inventory, [ReservationLine("BAG-1", "LDN", 5)], key="checkout-7", now=NOW)
    assert mismatch.value.code == "idempotency_mismatch"
    done = fulfil(inventory, first.id, key="ship-7", now=NOW)
    assert fulfil(inventory, first.id, key="ship-7", now=NOW) == done
    assert _level(inventory, "BAG-1", "LDN") == (6, 0, 6)


def test_a_refusal_is_the_first_answer_too(inventory: Store) -> None:
    inventory.set_stock([("BAG-1", "LDN", 1, 0)])
    too_many = [ReservationLine("BAG-1", "LDN", 2)]
    with pytest.raises(Refusal, match="not enough"):
        reserve(inventory, too_many, key="k1", now=NOW)
    inventory.set_stock([("BAG-1", "LDN", 5, 0)])
    with pytest.raises(Refusal, match="not enough"):
        reserve(inventory, too_many, key="k1", now=NOW)
    assert _level(inventory, "BAG-1", "LDN") == (5, 0, 5)


def test_lifecycle_confirm_release_fulfil(inventory: Store) -> None:
    inventory.set_stock([("BAG-1", "LDN", 5, 1), ("TAG-2", "MAN", 3, 0)])
    lines = [ReservationLine("BAG-1", "LDN", 2), ReservationLine("TAG-2", "MAN", 1, "ship")]
    held = reserve(inventory, lines, kind="order", reference="order-1", now=NOW)
    allocated = confirm(inventory, held.id, now=NOW)
    assert allocated.status == "allocated" and allocated.expires_at is None
    # An allocation no longer expires.
    assert expire_due(inventory, NOW + timedelta(days=2)) == 0
    assert _level(inventory, "BAG-1", "LDN") == (5, 2, 2)
    released = release(inventory, held.id, now=NOW)
    assert released.status == "released"
    assert _level(inventory, "BAG-1", "LDN") == (5, 0, 4)
    with pytest.raises(InventoryError, match="cannot fulfil a reservation that is released"):
        fulfil(inventory, held.id, now=NOW)
    second = reserve(inventory, lines, now=NOW)
    assert fulfil(inventory, second.id, now=NOW).status == "fulfilled"
    assert _level(inventory, "BAG-1", "LDN") == (3, 0, 2)
    assert _level(inventory, "TAG-2", "MAN") == (2, 0, 2)


def test_a_reservation_is_all_or_nothing(inventory: Store) -> None:
    inventory.set_stock([("BAG-1", "LDN", 5, 0), ("TAG-2", "MAN", 1, 0)])
    lines = [ReservationLine("BAG-1", "LDN", 2), ReservationLine("TAG-2", "MAN", 2)]
    with pytest.raises(InventoryError, match="TAG-2"):
        reserve(inventory, lines, now=NOW)
    assert _level(inventory, "BAG-1", "LDN") == (5, 0, 5)
    with pytest.raises(InventoryError, match="positive"):
        reserve(inventory, [ReservationLine("BAG-1", "LDN", 0)], now=NOW)


def test_a_chosen_plan_is_reserved_whole_or_not_at_all(inventory: Store) -> None:
    inventory.set_stock([("BAG-1", "MAN", 1, 0), ("BAG-1", "WH-GB", 1, 0)])
    order = Order((OrderLine("BAG-1", 2, 100),), destination=Point(53.48, -2.24))
    plan = propose_plans(inventory, order, now=NOW)[0]
    assert plan.kind == "ship_split"
    assert [(ln.location_id, ln.quantity, ln.mode) for ln in plan.lines] == [
        ("MAN", 1, "ship"),
        ("WH-GB", 1, "ship"),
    ]
    # Someone takes the warehouse's unit between proposal and reservation.
    reserve(inventory, [ReservationLine("BAG-1", "WH-GB", 1)], now=NOW)
    with pytest.raises(InventoryError, match="WH-GB"):
        reserve(inventory, plan.lines, kind="order", now=NOW)
    assert _level(inventory, "BAG-1", "MAN") == (1, 0, 1)
    assert propose_plans(inventory, order, now=NOW) == []


def test_todays_shipments_use_up_a_stores_capacity(inventory: Store) -> None:
    manchester = next(loc for loc in LOCATIONS if loc.id == "MAN")
    save_locations(inventory, [replace(manchester, ship_capacity=1)])
    inventory.set_stock([("BAG-1", "MAN", 5, 0), ("BAG-1", "WH-GB", 5, 0)])
    one = Order((OrderLine("BAG-1", 1),), destination=manchester.point)
    first = propose_plans(inventory, one, now=NOW)
    assert [p.shipments[0].location_id for p in first] == ["MAN", "WH-GB"]
    reserve(inventory, first[0].lines, kind="order", now=NOW)
    # Manchester has stock left but has used its one shipment today; tomorrow it ships.
    assert [p.shipments[0].location_id for p in propose_plans(inventory, one, now=NOW)] == ["WH-GB"]
    tomorrow = NOW + timedelta(days=1)
    assert propose_plans(inventory, one, now=tomorrow)[0].shipments[0].location_id == "MAN"


def test_concurrent_retries_with_one_key_hold_once(inventory: Store, store_url: str) -> None:
    inventory.set_stock([("BAG-1", "LDN", 10, 0)])
    lines = [ReservationLine("BAG-1", "LDN", 2)]
    answers = all_at_once(store_url, 8, lambda own: reserve(own, lines, key="same", now=NOW))
    assert len(answers) == 8 and all(a == answers[0] for a in answers)
    assert _level(inventory, "BAG-1", "LDN") == (10, 2, 8)


def test_two_lines_at_one_place_take_both_or_neither(inventory: Store) -> None:
    inventory.set_stock([("BAG-1", "LDN", 3, 0)])
    twice = [ReservationLine("BAG-1", "LDN", 2, "ship"), ReservationLine("BAG-1", "LDN", 2)]
    with pytest.raises(InventoryError, match="not enough"):
        reserve(inventory, twice, key="both", now=NOW)
    assert _level(inventory, "BAG-1", "LDN") == (3, 0, 3)
    inventory.set_stock([("BAG-1", "LDN", 4, 0)])
    held = reserve(inventory, twice, key="both-again", now=NOW)
    assert [(ln.quantity, ln.mode) for ln in held.lines] == [(2, "ship"), (2, None)]
    assert reserve(inventory, twice, key="both-again", now=NOW) == held
    assert _level(inventory, "BAG-1", "LDN") == (4, 4, 0)
    with inventory.transaction():  # inside a caller's transaction too
        assert reserve(inventory, twice, key="both-again", now=NOW) == held
