"""Inventory: locations, stock files, adjustments, receipts and transfers, availability.

Every write through here takes an idempotency key (None from trusted local callers such as
the CLI); times come in as ``now`` so tests and jobs choose the clock.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

from kenning.commerce.inventory.errors import InventoryError
from kenning.commerce.inventory.locations import (
    Location,
    LocationSet,
    Point,
    check_location,
    haversine_km,
)
from kenning.commerce.inventory.stock import (
    StockLevel,
    Transfer,
    available_units,
    check_quantity,
    stamp,
)
from kenning.ingest.readers import RowError
from kenning.ingest.tables import TableRow, all_rejected, table_rows
from kenning.services.idempotency import once
from kenning.store import Store
from kenning.store.inventory import LOCATION_COLUMNS, StockShortage

SCOPE = "inventory"
# A customer id -> that customer's favourite store ids, best first.
FavouriteStores = Callable[[Store, str], list[str]]


def profile_favourite_stores(store: Store, customer_id: str) -> list[str]:
    """Favourite stores from the customer profile's traits. Profiles (computed traits) are
    not built yet, so no customer has any: the answer is an honest empty list until then."""
    return []


def utcnow() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------- locations
def _location(row: Sequence[Any]) -> Location:
    id_, name, kind, market, lat, lon, pickup, capacity = row
    cap = None if capacity is None else int(capacity)
    return Location(id_, name, kind, market, float(lat), float(lon), bool(pickup), cap)


def save_locations(store: Store, locations: Sequence[Location]) -> int:
    rows = [
        (
            loc.id,
            loc.name,
            loc.kind,
            loc.market,
            loc.latitude,
            loc.longitude,
            int(loc.pickup),
            loc.ship_capacity,
        )
        for loc in map(check_location, locations)
    ]
    with store.transaction():
        store.upsert_locations(rows)
    return len(rows)


# database URL -> (locations version, every location). Reading 500 locations on every
# availability request would cost more than the rest of the answer; one version query
# tells whether anyone (any process) changed them since.
_CACHE: dict[str, tuple[int, LocationSet]] = {}


def location_set(store: Store, version: int | None = None) -> LocationSet:
    """Every location; ``version`` if the caller already read it."""
    if version is None:
        version = store.locations_version()
    cached = _CACHE.get(store.url)
    if cached is None or cached[0] != version:
        cached = (version, LocationSet(_location(row) for row in store.location_rows()))
        _CACHE[store.url] = cached
    return cached[1]


def list_locations(store: Store, market: str | None = None) -> list[Location]:
    everywhere = location_set(store).locations
    return [loc for loc in everywhere if market is None or loc.market == market]


def location_groups(store: Store) -> dict[str, list[str]]:
    """One group per market: market -> location ids."""
    groups: dict[str, list[str]] = {}
    for loc in list_locations(store):
        groups.setdefault(loc.market, []).append(loc.id)
    return groups


@dataclass
class FileReport:
    written: int
    rejected: list[str]  # "line N: reason"
    read: int = 0  # rows read: each written or rejected

    def accounting(self, what: str) -> str:
        rows = "row" if self.read == 1 else "rows"
        return (
            f"{self.read:,} {rows} read: {self.written:,} {what} written, "
            f"{len(self.rejected):,} rejected."
        )


def _csv_rows(path: Path) -> Iterator[TableRow]:
    """The header, then each row or its RowError; a file that cannot be read to its end
    raises SourceFileError with its line (see ingest/tables.py)."""
    return table_rows(path)


def _finish(path: Path, read: int, rejected: list[str]) -> None:
    """Fail a file whose every row was rejected, before anything of it is written."""
    if (error := all_rejected(path, read, rejected)) is not None:
        raise error


def _header(rows: Iterator[TableRow], path: Path, needed: set[str]) -> None:
    _, header = next(rows, (1, {}))
    missing = sorted(needed - set(header if isinstance(header, dict) else ()))
    if missing:
        raise InventoryError("invalid", f"{path}: missing columns {', '.join(missing)}")


def import_locations(store: Store, path: Path) -> FileReport:
    """CSV with LOCATION_COLUMNS (pickup: yes/no/1/0; ship_capacity empty for no limit)."""
    columns = LOCATION_COLUMNS.split(", ")
    rows = _csv_rows(path)
    _header(rows, path, set(columns) - {"pickup", "ship_capacity"})
    good: list[Location] = []
    rejected: list[str] = []
    read = 0
    for number, row in rows:
        read += 1
        if isinstance(row, RowError):
            rejected.append(f"line {number}: {row}")
            continue
        try:
            capacity = row.get("ship_capacity", "")
            location = Location(
                row["id"],
                row["name"],
                row["kind"],  # type: ignore[arg-type]  # checked by check_location
                row["market"],
                float(row["latitude"]),
                float(row["longitude"]),
                row.get("pickup", "").lower() in ("1", "yes", "true", "y"),
                int(capacity) if capacity else None,
            )
            good.append(check_location(location))
        except (ValueError, InventoryError) as exc:
            rejected.append(f"line {number}: {exc}")
    _finish(path, read, rejected)
    return FileReport(save_locations(store, good), rejected, read)


# --------------------------------------------------------------------- stock
def _level(row: Sequence[Any]) -> StockLevel:
    # Both drivers return the integer columns as int already.
    return StockLevel(*row)


def stock_levels(store: Store, sku: str) -> list[StockLevel]:
    return [_level(row) for row in store.stock_rows([sku])]


def import_stock(
    store: Store,
    path: Path,
    progress: Callable[[int], None] | None = None,
    batch: int = 5000,
) -> FileReport:
    """Counted stock from a CSV (sku, location, on_hand, safety_stock optional): sets on hand
    (and safety stock when given), keeps reservations. The good rows are written in one
    transaction; a malformed row or an unknown location is rejected with its line."""
    known = {loc.id for loc in list_locations(store)}
    rows = _csv_rows(path)
    _header(rows, path, {"sku", "location", "on_hand"})
    good: list[tuple[str, str, int, int | None]] = []
    rejected: list[str] = []
    read = 0
    for number, row in rows:
        read += 1
        if isinstance(row, RowError):
            rejected.append(f"line {number}: {row}")
            continue
        try:
            sku, location = row["sku"], row["location"]
            on_hand = int(row["on_hand"])
            safety = int(row["safety_stock"]) if row.get("safety_stock") else None
            if not sku:
                raise ValueError("empty sku")
            if location not in known:
                raise ValueError(f"unknown location {location!r}")
            if on_hand < 0 or (safety is not None and safety < 0):
                raise ValueError("negative quantity")
            good.append((sku, location, on_hand, safety))
        except (ValueError, KeyError) as exc:
            rejected.append(f"line {number}: {exc}")
    _finish(path, read, rejected)
    with store.transaction():
        for start in range(0, len(good), batch):
            store.set_stock(good[start : start + batch])
            if progress:
                progress(len(good[start : start + batch]))
    return FileReport(len(good), rejected, read)


def _known_location(store: Store, location_id: str) -> None:
    if not store.location_exists(location_id):
        raise InventoryError("not_found", f"no location {location_id!r}")


def adjust(
    store: Store, sku: str, location_id: str, delta: int, reason: str, key: str | None = None
) -> StockLevel:
    """Correct on hand by ``delta`` (a count, damage, shrinkage); never below zero."""

    def act() -> StockLevel:
        if delta == 0:
            raise InventoryError("invalid", "an adjustment needs a non-zero delta")
        _known_location(store, location_id)
        row = store.change_on_hand(sku, location_id, delta)
        if row is None:
            raise InventoryError(
                "insufficient_stock", f"{sku} at {location_id}: on hand would go below zero"
            )
        return _level(row)

    request = {"op": "adjust", "sku": sku, "location": location_id, "delta": delta}
    request["reason"] = reason
    return once(store, SCOPE, key, request, act, StockLevel)


def receive(
    store: Store, sku: str, location_id: str, quantity: int, key: str | None = None
) -> StockLevel:
    """Goods received at a location (from a supplier): on hand goes up."""

    def act() -> StockLevel:
        check_quantity(quantity)
        _known_location(store, location_id)
        row = store.change_on_hand(sku, location_id, quantity)
        assert row is not None  # an increase always applies
        return _level(row)

    request = {"op": "receive", "sku": sku, "location": location_id, "quantity": quantity}
    return once(store, SCOPE, key, request, act, StockLevel)


def _transfer(row: Sequence[Any]) -> Transfer:
    id_, sku, source, target, quantity, status, expected, created, received = row
    return Transfer(id_, sku, source, target, int(quantity), status, expected, created, received)


def get_transfer(store: Store, transfer_id: str) -> Transfer:
    row = store.transfer_row(transfer_id)
    if row is None:
        raise InventoryError("not_found", f"no transfer {transfer_id!r}")
    return _transfer(row)


def start_transfer(
    store: Store,
    sku: str,
    from_location: str,
    to_location: str,
    quantity: int,
    expected_arrival: datetime | None,
    key: str | None = None,
    now: datetime | None = None,
) -> Transfer:
    """Send available units from one location to another; they show as in transit (with
    the expected arrival) at the destination until received."""

    def act() -> Transfer:
        check_quantity(quantity)
        if from_location == to_location:
            raise InventoryError("invalid", "a transfer needs two different locations")
        for location_id in (from_location, to_location):
            _known_location(store, location_id)
        transfer_id = "trf_" + uuid.uuid4().hex
        expected = None if expected_arrival is None else stamp(expected_arrival)
        created = stamp(now or utcnow())
        try:
            store.start_transfer(
                (transfer_id, sku, from_location, to_location, quantity, expected, created)
            )
        except StockShortage:
            raise InventoryError(
                "insufficient_stock", f"{sku} at {from_location}: fewer than {quantity} available"
            ) from None
        return get_transfer(store, transfer_id)

    request = {
        "op": "transfer",
        "sku": sku,
        "from": from_location,
        "to": to_location,
        "quantity": quantity,
        "expected_arrival": None if expected_arrival is None else stamp(expected_arrival),
    }
    return once(store, SCOPE, key, request, act, Transfer)


def receive_transfer(
    store: Store, transfer_id: str, key: str | None = None, now: datetime | None = None
) -> Transfer:
    def act() -> Transfer:
        transfer = get_transfer(store, transfer_id)
        if not store.receive_transfer(transfer_id, stamp(now or utcnow())):
            raise InventoryError("conflict", f"transfer {transfer_id} is {transfer.status}")
        return get_transfer(store, transfer_id)

    request = {"op": "receive_transfer", "transfer": transfer_id}
    return once(store, SCOPE, key, request, act, Transfer)


# --------------------------------------------------------------------- availability
class AvailableAt(TypedDict):
    """One location's stock of the SKU, as the API lists it (same fields, same order):
    available = on_hand - reserved - safety_stock (never below zero); distance_km rounded
    to metres, None without an origin. A plain dict at run time: 500 of them are built and
    written as JSON per request, several times faster than frozen dataclasses."""

    location_id: str
    on_hand: int
    reserved: int
    safety_stock: int
    in_transit: int
    next_arrival: str | None  # earliest expected arrival of stock in transit
    available: int
    pickup: bool
    distance_km: float | None


@dataclass(frozen=True, slots=True)
class Availability:
    sku: str
    on_hand: int
    available: int
    locations: list[AvailableAt]


_METRES = 3  # decimals of the distances in km


def availability(
    store: Store,
    sku: str,
    *,
    near: Point | None = None,
    near_location: str | None = None,
    customer_id: str | None = None,
    favourites: FavouriteStores = profile_favourite_stores,
    market: str | None = None,
    limit: int | None = None,
    now: datetime | None = None,
) -> Availability:
    """Stock of one SKU at each location and in total. Nearest first when given a point or
    a location; only the customer's favourite stores (in their order) given a customer.
    Totals cover the locations listed. Holds past their expiry are released first."""
    from kenning.services.reservations import swept_locations

    everywhere = swept_locations(store, now or utcnow())
    origin = near
    if near_location is not None:
        if near_location not in everywhere.by_id:
            raise InventoryError("not_found", f"no location {near_location!r}")
        origin = everywhere.by_id[near_location].point
    chosen: list[tuple[Location, float | None]]
    if customer_id is not None:
        ids = [i for i in favourites(store, customer_id) if i in everywhere.by_id]
        chosen = [
            (loc, None if origin is None else round(haversine_km(origin, loc.point), _METRES))
            for loc in (everywhere.by_id[i] for i in ids)
        ]
    elif origin is not None:
        chosen = list(everywhere.nearest(origin, _METRES))
    else:
        chosen = [(loc, None) for loc in everywhere.locations]
    if market is not None:
        chosen = [(loc, d) for loc, d in chosen if loc.market == market]
    if limit is not None:
        chosen = chosen[:limit]
    # One pass, one small object per location: the answer lists every location (500 and
    # more) and is read far more often than anything else.
    stocked = {row[1]: row for row in store.stock_rows([sku])}
    rows: list[AvailableAt] = []
    on_hand = available = 0
    for loc, distance in chosen:
        row = stocked.get(loc.id)
        units, reserved, safety, in_transit, arrival = row[2:] if row else (0, 0, 0, 0, None)
        here = available_units(units, reserved, safety)
        on_hand += units
        available += here
        rows.append(
            {
                "location_id": loc.id,
                "on_hand": units,
                "reserved": reserved,
                "safety_stock": safety,
                "in_transit": in_transit,
                "next_arrival": arrival,
                "available": here,
                "pickup": loc.pickup,
                "distance_km": distance,
            }
        )
    return Availability(sku, on_hand, available, rows)
