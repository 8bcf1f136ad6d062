"""Sourcing rules, pure: handed locations and stock, ranked plans come back explained."""

from __future__ import annotations

import random

import pytest
from inventory_data import LOCATIONS

from kenning.commerce.inventory.errors import InventoryError
from kenning.commerce.inventory.locations import Location, Point, haversine_km
from kenning.commerce.inventory.sourcing import (
    RULES,
    Order,
    OrderLine,
    SourcingRules,
    propose,
)

BIRMINGHAM = Point(52.4862, -1.8904)
MANCHESTER = Point(53.4808, -2.2426)


def _kinds(plans: list) -> list[tuple[str, tuple[str, ...]]]:  # type: ignore[type-arg]
    return [(p.kind, tuple(s.location_id for s in p.shipments)) for p in plans]


def test_haversine_london_to_new_york() -> None:
    assert haversine_km(LOCATIONS[0].point, LOCATIONS[4].point) == pytest.approx(5570, rel=0.01)


def test_pickup_store_first_then_transfer_in() -> None:
    stock = {("BAG", "MAN"): 1, ("BAG", "LDN"): 5, ("BAG", "WH-GB"): 9}
    order = Order((OrderLine("BAG", 1),), destination=MANCHESTER, pickup_store="MAN")
    plans = propose(order, LOCATIONS, stock)
    assert _kinds(plans)[0] == ("pickup", ("MAN",))
    assert plans[0].explanation.startswith("best plan (pickup_store_first=0")
    # Shipping plans follow, ranked below on the first rule that separates them.
    assert plans[1].kind == "ship_from_store" and plans[1].decided_by == "pickup_store_first"
    two = Order((OrderLine("BAG", 2),), pickup_store="MAN")
    plans = propose(two, LOCATIONS, stock)
    assert _kinds(plans) == [("pickup_transfer", ("MAN", "WH-GB"))]
    assert [(ln.location_id, ln.quantity, ln.mode) for ln in plans[0].lines] == [
        ("MAN", 1, "pickup"),
        ("WH-GB", 1, "transfer"),
    ]


def test_fewest_shipments_before_nearest_and_the_order_is_configurable() -> None:
    # Edinburgh has both items, 300 km away; Manchester and Daventry one each, nearer.
    stock = {("BAG", "EDI"): 1, ("TAG", "EDI"): 1, ("BAG", "MAN"): 1, ("TAG", "WH-GB"): 1}
    order = Order((OrderLine("BAG", 1, 50), OrderLine("TAG", 1, 50)), destination=MANCHESTER)
    plans = propose(order, LOCATIONS, stock)
    assert _kinds(plans) == [("ship_from_store", ("EDI",)), ("ship_split", ("MAN", "WH-GB"))]
    assert plans[1].decided_by == "fewest_shipments"
    assert plans[1].explanation.startswith("below plan 1 on fewest_shipments")
    nearest_first = SourcingRules(("nearest", "fewest_shipments"))
    plans = propose(order, LOCATIONS, stock, nearest_first)
    assert _kinds(plans) == [("ship_split", ("MAN", "WH-GB")), ("ship_from_store", ("EDI",))]
    assert plans[1].decided_by == "nearest"
    assert plans[0].scores["nearest"] == pytest.approx(145, abs=10)


def test_no_split_below_the_minimum_value() -> None:
    stock = {("BAG", "MAN"): 1, ("TAG", "LDN"): 1}
    cheap = Order((OrderLine("BAG", 1, 5), OrderLine("TAG", 1, 5)), destination=MANCHESTER)
    assert propose(cheap, LOCATIONS, stock, SourcingRules(min_split_value=20)) == []
    dear = Order((OrderLine("BAG", 1, 15), OrderLine("TAG", 1, 15)), destination=MANCHESTER)
    assert _kinds(propose(dear, LOCATIONS, stock, SourcingRules(min_split_value=20))) == [
        ("ship_split", ("MAN", "LDN"))
    ]


def test_capacity_left_breaks_ties_and_a_full_store_does_not_ship() -> None:
    stock = {("BAG", "LDN"): 3, ("BAG", "MAN"): 3}
    order = Order((OrderLine("BAG", 1),), destination=BIRMINGHAM)
    capacity_first = SourcingRules(("capacity_left", "nearest"))
    plans = propose(order, LOCATIONS, stock, capacity_first, capacity_left={"MAN": 9, "LDN": 2})
    assert _kinds(plans) == [("ship_from_store", ("MAN",)), ("ship_from_store", ("LDN",))]
    assert plans[0].scores["capacity_left"] == -8 and plans[1].decided_by == "capacity_left"
    full = propose(order, LOCATIONS, stock, capacity_left={"MAN": 0})
    assert _kinds(full) == [("ship_from_store", ("LDN",))]


def test_bad_orders_and_rules_are_refused() -> None:
    with pytest.raises(InventoryError, match="not a pickup store"):
        propose(Order((OrderLine("BAG", 1),), pickup_store="EDI"), LOCATIONS, {})
    with pytest.raises(InventoryError, match="delivery address or a pickup store"):
        propose(Order((OrderLine("BAG", 1),)), LOCATIONS, {})
    with pytest.raises(InventoryError, match="rules"):
        SourcingRules(("nearest", "cheapest"))


@pytest.mark.parametrize(
    "order_of_rules",
    [RULES, ("capacity_left", "nearest", "fewest_shipments"), ("fewest_shipments",)],
)
def test_keeping_the_best_few_ranks_as_scoring_them_all(order_of_rules: tuple[str, ...]) -> None:
    rng = random.Random(3)
    many = [
        Location(f"S{n:03d}", f"S{n}", "store", "GB", rng.uniform(50, 56), rng.uniform(-5, 1))
        for n in range(120)
    ] + [Location("WH", "W", "warehouse", "GB", 52.3, -1.2)]
    stock = {(sku, loc.id): rng.randint(0, 3) for sku in ("A", "B") for loc in many}
    left = {loc.id: rng.randint(0, 3) for loc in many}
    order = Order((OrderLine("A", 1, 30), OrderLine("B", 1, 30)), destination=MANCHESTER)

    def ranked(keep: int) -> list[tuple[str, ...]]:
        rules = SourcingRules(order_of_rules, max_plans=keep)
        return [
            tuple(s.location_id for s in p.shipments)
            for p in propose(order, many, stock, rules, left)
        ]

    assert ranked(4) == ranked(1000)[:4]
    assert len(ranked(1000)) > 10
