"""Sourcing: which locations should fulfil an order. Pure: handed the order, the locations,
what each has available and the shipping capacity left, it returns ranked plans, each
saying how every rule scored it and which rule put it below the plan ranked above it.

Rules are data: an ordered tuple of names; plans are compared on the first rule, ties go
to the next, and so on. ``min_split_value`` is a filter rather than a ranking: an order worth
less is never shipped in more than one parcel.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from kenning.commerce.inventory.errors import InventoryError
from kenning.commerce.inventory.locations import Location, Point, by_distance
from kenning.commerce.inventory.stock import LineMode, ReservationLine, check_quantity

PlanKind = Literal[
    "pickup", "pickup_transfer", "ship_from_store", "ship_from_warehouse", "ship_split"
]
RULES = ("pickup_store_first", "fewest_shipments", "nearest", "capacity_left")
RULE_MEANING = {
    "pickup_store_first": "collect from the pickup store's own stock, then transfer in, "
    "then ship (0, 1, 2)",
    "fewest_shipments": "fewer parcels and transfers",
    "nearest": "shorter distance of the farthest source (km)",
    "capacity_left": "more shipping capacity left today at the busiest store shipping",
}
UNLIMITED = 10**9  # capacity of a location with no daily limit (a warehouse)
StockKey = tuple[str, str]  # (sku, location id)


@dataclass(frozen=True, slots=True)
class OrderLine:
    sku: str
    quantity: int
    unit_price: float = 0.0


@dataclass(frozen=True, slots=True)
class Order:
    lines: tuple[OrderLine, ...]
    destination: Point | None = None  # the delivery address
    pickup_store: str | None = None

    @property
    def value(self) -> float:
        return sum(line.quantity * line.unit_price for line in self.lines)


@dataclass(frozen=True, slots=True)
class SourcingRules:
    order: tuple[str, ...] = RULES
    min_split_value: float = 0.0
    max_plans: int = 5

    def __post_init__(self) -> None:
        unknown = [rule for rule in self.order if rule not in RULES]
        if unknown or len(set(self.order)) != len(self.order):
            raise InventoryError("invalid", f"rules must be distinct names from {RULES}")


@dataclass(frozen=True, slots=True)
class Shipment:
    location_id: str
    mode: LineMode
    distance_km: float  # to the customer, or to the pickup store for a transfer
    lines: tuple[tuple[str, int], ...]  # (sku, quantity)


@dataclass(frozen=True, slots=True)
class Plan:
    kind: PlanKind
    shipments: tuple[Shipment, ...]
    scores: dict[str, float] = field(default_factory=dict)
    decided_by: str | None = None  # the rule that ranked it below the plan above
    explanation: str = ""

    @property
    def lines(self) -> tuple[ReservationLine, ...]:
        """What to reserve: each line at the location it comes from."""
        return tuple(
            ReservationLine(sku, s.location_id, quantity, s.mode)
            for s in self.shipments
            for sku, quantity in s.lines
        )


def propose(
    order: Order,
    locations: Sequence[Location],
    available: Mapping[StockKey, int],
    rules: SourcingRules | None = None,
    capacity_left: Mapping[str, int] | None = None,
) -> list[Plan]:
    """Ranked fulfilment plans for ``order``, best first (at most ``rules.max_plans``)."""
    rules = rules or SourcingRules()
    needed = _needed(order)
    left = _capacity(locations, capacity_left or {})
    by_id = {loc.id: loc for loc in locations}
    candidates: list[Plan] = []
    if order.pickup_store is not None:
        store = by_id.get(order.pickup_store)
        if store is None or not store.pickup:
            raise InventoryError("invalid", f"{order.pickup_store} is not a pickup store")
        candidates += _pickup_plans(store, needed, locations, available)
    if order.destination is not None:
        candidates += _ship_plans(order, needed, locations, available, left, rules)
    if order.destination is None and order.pickup_store is None:
        raise InventoryError("invalid", "an order needs a delivery address or a pickup store")
    scored = [_score(plan, left, rules) for plan in candidates]
    scored.sort(key=lambda plan: (*(plan.scores[r] for r in rules.order), _identity(plan)))
    return _explain(scored[: rules.max_plans], rules)


def _needed(order: Order) -> dict[str, int]:
    if not order.lines:
        raise InventoryError("invalid", "an order needs at least one line")
    needed: dict[str, int] = {}
    for line in order.lines:
        needed[line.sku] = needed.get(line.sku, 0) + check_quantity(line.quantity)
    return needed


def _capacity(locations: Sequence[Location], left: Mapping[str, int]) -> dict[str, int]:
    """Shipments each location can still send today (a store not in ``left`` has sent none)."""
    return {
        loc.id: UNLIMITED
        if loc.ship_capacity is None
        else max(0, left.get(loc.id, loc.ship_capacity))
        for loc in locations
    }


def _covers(loc: Location, needed: Mapping[str, int], available: Mapping[StockKey, int]) -> bool:
    return all(available.get((sku, loc.id), 0) >= qty for sku, qty in needed.items())


def _best_singles(
    singles: list[tuple[Location, float]], left: Mapping[str, int], rules: SourcingRules
) -> list[tuple[Location, float]]:
    """The one-parcel candidates that can still make the top ``max_plans``.

    One-parcel plans tie on pickup_store_first and fewest_shipments, so among themselves
    they rank by nearest and capacity_left in rule order (then id), exactly as ``_score``
    and the final sort would rank them: scoring hundreds of stores to keep five is waste.
    """
    if len(singles) <= rules.max_plans:
        return singles

    ranking = [rule for rule in rules.order if rule in ("nearest", "capacity_left")]

    def key(pair: tuple[Location, float]) -> tuple[float | str, ...]:
        loc, distance = pair
        values = {"nearest": round(distance, 3), "capacity_left": -float(_after_one(left[loc.id]))}
        return (*(values[rule] for rule in ranking), loc.id)

    return heapq.nsmallest(rules.max_plans, singles, key=key)


def _after_one(left: int) -> int:
    """Shipments a location has left after one more (a location without limit keeps it)."""
    return left - 1 if left < UNLIMITED else UNLIMITED


def _covering(needed: Mapping[str, int], available: Mapping[StockKey, int]) -> set[str]:
    """Ids of the locations that have every line, in one pass over the stock."""
    per_sku: dict[str, set[str]] = {sku: set() for sku in needed}
    for (sku, location), units in available.items():
        if units >= needed.get(sku, units + 1):
            per_sku[sku].add(location)
    return set.intersection(*per_sku.values())


def _pickup_plans(
    store: Location,
    needed: Mapping[str, int],
    locations: Sequence[Location],
    available: Mapping[StockKey, int],
) -> list[Plan]:
    if _covers(store, needed, available):
        return [Plan("pickup", (Shipment(store.id, "pickup", 0.0, tuple(needed.items())),))]
    # What the store lacks comes from the locations nearest to it.
    own = {sku: min(qty, available.get((sku, store.id), 0)) for sku, qty in needed.items()}
    missing = {sku: qty - own[sku] for sku, qty in needed.items() if qty > own[sku]}
    others = [(loc, d) for loc, d in by_distance(locations, store.point) if loc.id != store.id]
    transfers = _greedy(missing, others, available)
    if transfers is None:
        return []
    shipments = [Shipment(store.id, "pickup", 0.0, tuple((s, q) for s, q in own.items() if q))]
    shipments += [Shipment(loc, "transfer", d, lines) for loc, d, lines in transfers]
    return [Plan("pickup_transfer", tuple(s for s in shipments if s.lines))]


def _ship_plans(
    order: Order,
    needed: Mapping[str, int],
    locations: Sequence[Location],
    available: Mapping[StockKey, int],
    left: Mapping[str, int],
    rules: SourcingRules,
) -> list[Plan]:
    assert order.destination is not None
    shippers = [(loc, d) for loc, d in by_distance(locations, order.destination) if left[loc.id]]
    whole = _covering(needed, available)
    singles = [(loc, d) for loc, d in shippers if loc.id in whole]
    plans = [
        Plan(
            "ship_from_warehouse" if loc.kind == "warehouse" else "ship_from_store",
            (Shipment(loc.id, "ship", d, tuple(needed.items())),),
        )
        for loc, d in _best_singles(singles, left, rules)
    ]
    if order.value >= rules.min_split_value:
        # Two ways to split: fewest parcels, and nearest parcels; the rules choose.
        seen: set[tuple[str, ...]] = set()
        # When one location covers everything the fewest-parcels split is that location.
        fewest = None if plans else _greedy(needed, shippers, available)
        for split in (fewest, _nearest(needed, shippers, available)):
            if split is None or len(split) < 2 or tuple(s[0] for s in split) in seen:
                continue
            seen.add(tuple(s[0] for s in split))
            shipments = tuple(Shipment(loc, "ship", d, lines) for loc, d, lines in split)
            plans.append(Plan("ship_split", shipments))
    return plans


def _greedy(
    needed: Mapping[str, int],
    sources: Sequence[tuple[Location, float]],
    available: Mapping[StockKey, int],
) -> list[tuple[str, float, tuple[tuple[str, int], ...]]] | None:
    """Cover ``needed`` from few sources: take the source that supplies the most units
    (nearest on ties), repeat. None when the sources together cannot cover it."""
    remaining = dict(needed)
    chosen: list[tuple[str, float, tuple[tuple[str, int], ...]]] = []
    pool = list(sources)
    while remaining:
        best: tuple[int, int] | None = None  # (units, index)
        for index, (loc, _) in enumerate(pool):
            units = sum(min(q, available.get((s, loc.id), 0)) for s, q in remaining.items())
            if units and (best is None or units > best[0]):
                best = (units, index)
        if best is None:
            return None
        loc, distance = pool.pop(best[1])
        chosen.append((loc.id, distance, _take(remaining, loc, available)))
    return chosen


def _nearest(
    needed: Mapping[str, int],
    sources: Sequence[tuple[Location, float]],
    available: Mapping[StockKey, int],
) -> list[tuple[str, float, tuple[tuple[str, int], ...]]] | None:
    """Cover ``needed`` from the nearest sources first (``sources`` is nearest first)."""
    remaining = dict(needed)
    chosen: list[tuple[str, float, tuple[tuple[str, int], ...]]] = []
    for loc, distance in sources:
        lines = _take(remaining, loc, available)
        if lines:
            chosen.append((loc.id, distance, lines))
        if not remaining:
            return chosen
    return None


def _take(
    remaining: dict[str, int], loc: Location, available: Mapping[StockKey, int]
) -> tuple[tuple[str, int], ...]:
    """Take what ``loc`` has of ``remaining`` (which shrinks); the lines taken."""
    lines = []
    for sku, qty in list(remaining.items()):
        take = min(qty, available.get((sku, loc.id), 0))
        if take:
            lines.append((sku, take))
            remaining[sku] = qty - take
            if remaining[sku] == 0:
                del remaining[sku]
    return tuple(lines)


def _score(plan: Plan, left: Mapping[str, int], rules: SourcingRules) -> Plan:
    pickup = {"pickup": 0.0, "pickup_transfer": 1.0}.get(plan.kind, 2.0)
    shipping = [s for s in plan.shipments if s.mode == "ship"]
    busiest = min((_after_one(left[s.location_id]) for s in shipping), default=UNLIMITED)
    scores = {
        "pickup_store_first": pickup,
        "fewest_shipments": float(len(plan.shipments)),
        "nearest": round(max(s.distance_km for s in plan.shipments), 3),
        # Lower sorts first, so more capacity left is a more negative score.
        "capacity_left": -float(busiest),
    }
    return Plan(plan.kind, plan.shipments, {r: scores[r] for r in rules.order})


def _identity(plan: Plan) -> tuple[str, ...]:
    return tuple(s.location_id for s in plan.shipments)


def _explain(plans: list[Plan], rules: SourcingRules) -> list[Plan]:
    explained: list[Plan] = []
    for rank, plan in enumerate(plans):
        parts = [f"{r}={_show(plan.scores[r])}" for r in rules.order]
        decided = None
        if rank:
            above = plans[rank - 1]
            decided = next((r for r in rules.order if plan.scores[r] != above.scores[r]), None)
        why = (
            "best plan"
            if rank == 0
            else f"below plan {rank} on {decided}"
            if decided
            else f"tied with plan {rank} on every rule; ordered by location id"
        )
        explained.append(
            Plan(plan.kind, plan.shipments, plan.scores, decided, f"{why} ({', '.join(parts)})")
        )
    return explained


def _show(value: float) -> str:
    if value in (float(UNLIMITED), -float(UNLIMITED)):
        return "unlimited"
    return f"{value:g}"
