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
async def list_locations(
    db: InventoryReader, market: Annotated[str | None, Query()] = None
) -> list[LocationPublic]:
    found = await db.run(lambda store: inventory.list_locations(store, market))
    return [LocationPublic.of(loc) for loc in found]


@router.put("/locations/{location_id}")
async def put_location(
    location_id: str, body: LocationCreate, db: InventoryWriter
) -> LocationPublic:
    """Create or replace a location (a PUT is idempotent by itself)."""
    location = Location(location_id, **body.model_dump())
    await db.run(lambda store: inventory.save_locations(store, [location]))
    return LocationPublic.of(location)


@router.get("/location-groups")
async def location_groups(db: InventoryReader) -> dict[str, list[str]]:
    """One group per market: market -> its location ids."""
    return await db.run(inventory.location_groups)


@router.get("/stock/{sku}")
async def stock(sku: str, db: InventoryReader) -> list[StockLevelPublic]:
    levels = await db.run(lambda store: inventory.stock_levels(store, sku))
    return [StockLevelPublic.of(level) for level in levels]


@router.post("/adjustments")
async def adjust(
    body: AdjustmentCreate, db: InventoryWriter, header: IdempotencyHeader
) -> StockLevelPublic:
    key = idempotency_key(header, body.idempotency_key)
    level = await db.run(
        lambda store: inventory.adjust(
            store, body.sku, body.location_id, body.delta, body.reason, key
        )
    )
    return StockLevelPublic.of(level)


@router.post("/receipts")
async def receive(
    body: ReceiptCreate, db: InventoryWriter, header: IdempotencyHeader
) -> StockLevelPublic:
    key = idempotency_key(header, body.idempotency_key)
    level = await db.run(
        lambda store: inventory.receive(store, body.sku, body.location_id, body.quantity, key)
    )
    return StockLevelPublic.of(level)


@router.post("/transfers")
async def start_transfer(
    body: TransferCreate, db: InventoryWriter, header: IdempotencyHeader, now: Now
) -> TransferPublic:
    key = idempotency_key(header, body.idempotency_key)
    transfer = await db.run(
        lambda store: inventory.start_transfer(
            store,
            body.sku,
            body.from_location,
            body.to_location,
            body.quantity,
            body.expected_arrival,
            key,
            now,
        )
    )
    return TransferPublic.of(transfer)


@router.get("/transfers/{transfer_id}")
async def get_transfer(transfer_id: str, db: InventoryReader) -> TransferPublic:
    return TransferPublic.of(await db.run(lambda store: inventory.get_transfer(store, transfer_id)))


@router.post("/transfers/{transfer_id}/receive")
async def receive_transfer(
    transfer_id: str,
    db: InventoryWriter,
    header: IdempotencyHeader,
    now: Now,
    body: TransferReceive | None = None,
) -> TransferPublic:
    key = idempotency_key(header, body.idempotency_key if body else None)
    transfer = await db.run(lambda store: inventory.receive_transfer(store, transfer_id, key, now))
    return TransferPublic.of(transfer)
