"""Stores and warehouses, and distances between points on the earth."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from kenning.commerce.inventory.errors import InventoryError

LocationKind = Literal["store", "warehouse"]
KINDS: tuple[LocationKind, ...] = ("store", "warehouse")
EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


@dataclass(frozen=True, slots=True)
class Point:
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Location:
    """A place that holds stock. ``market`` groups locations (one group per market);
    ``ship_capacity`` is shipments per day (None: no limit)."""

    id: str
    name: str
    kind: LocationKind
    market: str
    latitude: float
    longitude: float
    pickup: bool = False
    ship_capacity: int | None = None

    @property
    def point(self) -> Point:
        return Point(self.latitude, self.longitude)

    @property
    def ships(self) -> bool:
        return self.ship_capacity is None or self.ship_capacity > 0


def check_location(location: Location) -> Location:
    """The location itself if it makes sense; InventoryError saying why not otherwise."""
    if not location.id.strip():
        raise InventoryError("invalid", "a location needs an id")
    if location.kind not in KINDS:
        raise InventoryError("invalid", f"location kind must be one of {KINDS}")
    if not -90 <= location.latitude <= 90 or not -180 <= location.longitude <= 180:
        raise InventoryError("invalid", f"location {location.id}: coordinates out of range")
    if location.ship_capacity is not None and location.ship_capacity < 0:
        raise InventoryError("invalid", f"location {location.id}: negative shipping capacity")
    if location.kind == "warehouse" and location.pickup:
        raise InventoryError("invalid", f"warehouse {location.id} cannot offer pickup")
    return location


def haversine_km(a: Point, b: Point) -> float:
    """Great-circle distance; within 0.5 % of the ellipsoid, plenty to rank stores."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


class LocationSet:
    """Locations in id order with their coordinates as arrays, built once and ranked by
    distance many times: ranking 500 stores per request must cost microseconds."""

    def __init__(self, locations: Iterable[Location]) -> None:
        self.locations = tuple(sorted(locations, key=lambda loc: loc.id))
        self.by_id = {loc.id: loc for loc in self.locations}
        count = len(self.locations)
        self._lat = np.radians(np.fromiter((loc.latitude for loc in self.locations), float, count))
        self._lon = np.radians(np.fromiter((loc.longitude for loc in self.locations), float, count))

    def nearest(self, origin: Point, decimals: int | None = None) -> list[tuple[Location, float]]:
        """Locations nearest first with their distance in km (equal distances in id order),
        rounded to ``decimals`` if given."""
        if not self.locations:
            return []
        lat0, lon0 = math.radians(origin.latitude), math.radians(origin.longitude)
        h = (
            np.sin((self._lat - lat0) / 2) ** 2
            + math.cos(lat0) * np.cos(self._lat) * np.sin((self._lon - lon0) / 2) ** 2
        )
        km = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
        rank = np.argsort(km, kind="stable")
        ranked = km[rank] if decimals is None else np.round(km[rank], decimals)
        locations = self.locations
        return [(locations[i], d) for i, d in zip(rank.tolist(), ranked.tolist(), strict=True)]


def by_distance(locations: Iterable[Location], origin: Point) -> list[tuple[Location, float]]:
    """Locations nearest first, with their distance in km (ties by id, so order is stable)."""
    return LocationSet(locations).nearest(origin)
