"""Locations and stock: the network of stores and warehouses, adjustments, receipts and
transfers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kenning.api.deps import (
    IdempotencyHeader,
    InventoryReader,
    InventoryWriter,
    Now,
    StoreDep,
    idempotency_key,
)
from kenning.api.inventory_schemas import (
    AdjustmentCreate,
    LocationCreate,
    LocationPublic,
    ReceiptCreate,
    StockLevelPublic,
    TransferCreate,
    TransferPublic,
    TransferReceive,
)
from kenning.commerce.inventory.locations import Location
from kenning.services import inventory

router = APIRouter(prefix="/v1", tags=["stock"])


@router.get("/locations")
def list_locations(
    store: StoreDep, _: InventoryReader, market: Annotated[str | None, Query()] = None
) -> list[LocationPublic]:
    return [LocationPublic.of(loc) for loc in inventory.list_locations(store, market)]


@router.put("/locations/{location_id}")
def put_location(
    location_id: str, body: LocationCreate, store: StoreDep, _: InventoryWriter
) -> LocationPublic:
    """Create or replace a location (a PUT is idempotent by itself)."""
    location = Location(location_id, **body.model_dump())
    inventory.save_locations(store, [location])
    return LocationPublic.of(location)


@router.get("/location-groups")
def location_groups(store: StoreDep, _: InventoryReader) -> dict[str, list[str]]:
    """One group per market: market -> its location ids."""
    return inventory.location_groups(store)


@router.get("/stock/{sku}")
def stock(sku: str, store: StoreDep, _: InventoryReader) -> list[StockLevelPublic]:
    return [StockLevelPublic.of(level) for level in inventory.stock_levels(store, sku)]


@router.post("/adjustments")
def adjust(
    body: AdjustmentCreate, store: StoreDep, _: InventoryWriter, header: IdempotencyHeader
) -> StockLevelPublic:
    key = idempotency_key(header, body.idempotency_key)
    level = inventory.adjust(store, body.sku, body.location_id, body.delta, body.reason, key)
    return StockLevelPublic.of(level)


@router.post("/receipts")
def receive(
    body: ReceiptCreate, store: StoreDep, _: InventoryWriter, header: IdempotencyHeader
) -> StockLevelPublic:
    key = idempotency_key(header, body.idempotency_key)
    level = inventory.receive(store, body.sku, body.location_id, body.quantity, key)
    return StockLevelPublic.of(level)


@router.post("/transfers")
def start_transfer(
    body: TransferCreate, store: StoreDep, _: InventoryWriter, header: IdempotencyHeader, now: Now
) -> TransferPublic:
    key = idempotency_key(header, body.idempotency_key)
    transfer = inventory.start_transfer(
        store,
        body.sku,
        body.from_location,
        body.to_location,
        body.quantity,
        body.expected_arrival,
        key,
        now,
    )
    return TransferPublic.of(transfer)


@router.get("/transfers/{transfer_id}")
def get_transfer(transfer_id: str, store: StoreDep, _: InventoryReader) -> TransferPublic:
    return TransferPublic.of(inventory.get_transfer(store, transfer_id))


@router.post("/transfers/{transfer_id}/receive")
def receive_transfer(
    transfer_id: str,
    store: StoreDep,
    _: InventoryWriter,
    header: IdempotencyHeader,
    now: Now,
    body: TransferReceive | None = None,
) -> TransferPublic:
    key = idempotency_key(header, body.idempotency_key if body else None)
    return TransferPublic.of(inventory.receive_transfer(store, transfer_id, key, now))
