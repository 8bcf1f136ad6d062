"""Inventory fixtures: the locations of inventory_data on whichever backend is under test."""

from __future__ import annotations

import pytest
from inventory_data import LOCATIONS

from kenning.services.inventory import save_locations
from kenning.store import Store


@pytest.fixture
def inventory(store: Store) -> Store:
    save_locations(store, LOCATIONS)
    return store
