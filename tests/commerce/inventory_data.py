"""The inventory tests' world: a clock and a few real UK and US locations."""

from __future__ import annotations

from datetime import UTC, datetime

from kenning.commerce.inventory.locations import Location

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)

LOCATIONS = [
    Location("LDN", "London Regent St", "store", "GB", 51.5136, -0.1400, True, 20),
    Location("MAN", "Manchester", "store", "GB", 53.4808, -2.2426, True, 10),
    Location("EDI", "Edinburgh", "store", "GB", 55.9533, -3.1883, False, 5),
    Location("WH-GB", "Daventry warehouse", "warehouse", "GB", 52.2569, -1.1600),
    Location("NYC", "New York", "store", "US", 40.7128, -74.0060, True, 10),
]
