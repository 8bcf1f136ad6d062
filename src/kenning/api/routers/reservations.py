"""Reservations (hold, confirm, release, fulfil), availability and sourcing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from kenning.api.answers import json_answer
from kenning.api.deps import (
    IdempotencyHeader,
    InventoryReader,
    InventoryWriter,
    Now,
    Session,
    SettingsDep,
    idempotency_key,
)
from kenning.api.inventory_schemas import (
    AvailabilityPublic,
    OrderCreate,
    PlanPublic,
    PlanReservationCreate,
    PlansPublic,
    ReservationAction,
    ReservationCreate,
    ReservationLineCreate,
    ReservationPublic,
)
from kenning.commerce.inventory.errors import InventoryError
from kenning.commerce.inventory.locations import Point
from kenning.commerce.inventory.sourcing import Order, OrderLine, SourcingRules
from kenning.commerce.inventory.stock import ReservationKind, ReservationLine
from kenning.services import inventory, reservations
from kenning.services.inventory import FavouriteStores
from kenning.settings import Settings

router = APIRouter(prefix="/v1", tags=["reservations"])


def _ttl(settings: Settings, seconds: int | None) -> timedelta:
    return timedelta(seconds=seconds or settings.reservation_ttl_seconds)


def _lines(lines: list[ReservationLineCreate]) -> list[ReservationLine]:
    return [ReservationLine(ln.sku, ln.location_id, ln.quantity, ln.mode) for ln in lines]


async def _hold(
    db: Session,
    body: ReservationCreate | PlanReservationCreate,
    kind: ReservationKind,
    header: str | None,
    now: datetime,
    settings: Settings,
) -> Response:
    key = idempotency_key(header, body.idempotency_key)
    lines = _lines(body.lines)
    ttl = _ttl(settings, body.ttl_seconds)
    reservation = await db.run(
        lambda store: reservations.reserve(
            store, lines, kind=kind, reference=body.reference, ttl=ttl, key=key, now=now
        )
    )
    # The hot write path: the service's Reservation has ReservationPublic's shape already,
    # so orjson writes it as it is, instead of a model built, validated and dumped.
    return json_answer(reservation, 201)


@router.post("/reservations", status_code=201, response_model=ReservationPublic)
async def create_reservation(
    body: ReservationCreate,
    db: InventoryWriter,
    header: IdempotencyHeader,
    now: Now,
    settings: SettingsDep,
) -> Response:
    """Hold stock for a checkout or an order, all lines or none, until ``expires_at``."""
    return await _hold(db, body, body.kind, header, now, settings)


@router.get("/reservations/{reservation_id}")
async def get_reservation(reservation_id: str, db: InventoryReader) -> ReservationPublic:
    found = await db.run(lambda store: reservations.get_reservation(store, reservation_id))
    return ReservationPublic.of(found)


def _action(name: str, summary: str) -> None:
    move = getattr(reservations, name)

    async def act(
        reservation_id: str,
        db: InventoryWriter,
        header: IdempotencyHeader,
        now: Now,
        body: ReservationAction | None = None,
    ) -> ReservationPublic:
        key = idempotency_key(header, body.idempotency_key if body else None)
        moved = await db.run(lambda store: move(store, reservation_id, key, now))
        return ReservationPublic.of(moved)

    router.add_api_route(
        f"/reservations/{{reservation_id}}/{name}",
        act,
        methods=["POST"],
        summary=summary,
        name=f"{name}_reservation",
    )


_action("confirm", "Confirm a hold into an allocation (no longer expires)")
_action("release", "Release a hold or allocation back to available stock")
_action("fulfil", "Fulfil: the goods left, on hand goes down")


@router.get("/availability", response_model=AvailabilityPublic)
async def availability(
    request: Request,
    db: InventoryReader,
    now: Now,
    sku: Annotated[str, Query(min_length=1)],
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    near_location: Annotated[str | None, Query(description="Nearest to this store")] = None,
    customer_id: Annotated[
        str | None, Query(description="Only this customer's favourite stores")
    ] = None,
    market: Annotated[str | None, Query()] = None,
    limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> Response:
    """A SKU's stock per location and in total; nearest first given a point or a store."""
    if (lat is None) != (lon is None):
        raise InventoryError("invalid", "give both lat and lon, or neither")
    favourites: FavouriteStores = request.app.state.favourite_stores
    near = None if lat is None or lon is None else Point(lat, lon)
    found = await db.run(
        lambda store: inventory.availability(
            store,
            sku,
            near=near,
            near_location=near_location,
            customer_id=customer_id,
            favourites=favourites,
            market=market,
            limit=limit,
            now=now,
        )
    )
    # Shaped as AvailabilityPublic (the declared response model) without a model per row.
    return json_answer(AvailabilityPublic.payload(found))


@router.post("/sourcing/plans")
async def propose_plans(
    body: OrderCreate, db: InventoryReader, now: Now, settings: SettingsDep
) -> PlansPublic:
    """Ranked fulfilment plans for an order; each says how every rule scored it."""
    rules = SourcingRules(
        tuple(body.rules or settings.sourcing_rules.split(",")),
        settings.sourcing_min_split_value if body.min_split_value is None else body.min_split_value,
    )
    order = Order(
        tuple(OrderLine(ln.sku, ln.quantity, ln.unit_price) for ln in body.lines),
        None if body.destination is None else Point(**body.destination.model_dump()),
        body.pickup_store,
    )
    plans = await db.run(lambda store: reservations.propose_plans(store, order, rules, now))
    return PlansPublic(plans=[PlanPublic.of(rank, p) for rank, p in enumerate(plans, start=1)])


@router.post("/sourcing/reservations", status_code=201, response_model=ReservationPublic)
async def reserve_plan(
    body: PlanReservationCreate,
    db: InventoryWriter,
    header: IdempotencyHeader,
    now: Now,
    settings: SettingsDep,
) -> Response:
    """Reserve exactly a chosen plan's lines at their locations, all or nothing: an order
    reservation whose lines keep their mode (ship, pickup, transfer)."""
    return await _hold(db, body, "order", header, now, settings)
