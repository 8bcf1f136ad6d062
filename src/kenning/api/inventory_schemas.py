"""The inventory API's request (``XCreate``) and answer (``XPublic``) models."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from kenning.api.bounds import MAX_UNITS, Moment, Units
from kenning.commerce.inventory.sourcing import Plan
from kenning.commerce.inventory.stock import LineMode
from kenning.services.inventory import Availability

Sku = Field(min_length=1, max_length=100)
IdempotencyField = Field(
    default=None, min_length=1, max_length=255, description="Or send the Idempotency-Key header."
)


class _Write(BaseModel):
    model_config = ConfigDict(extra="forbid")
    idempotency_key: str | None = IdempotencyField


class LocationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    kind: Literal["store", "warehouse"]
    market: str = Field(min_length=1, description="The location group, e.g. GB or US.")
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    pickup: bool = False
    ship_capacity: int | None = Field(
        default=None, ge=0, le=MAX_UNITS, description="Shipments per day; null: no limit."
    )


class _Public(BaseModel):
    """An answer read from a service's dataclass, attribute by attribute."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, found: object) -> Self:
        return cls.model_validate(found, from_attributes=True)


class LocationPublic(LocationCreate, _Public):
    id: str


class LocationStockPublic(BaseModel):
    """One location's stock of one SKU; available = on_hand - reserved - safety_stock."""

    location_id: str
    on_hand: int
    reserved: int
    safety_stock: int
    in_transit: int
    next_arrival: str | None = Field(description="Earliest expected arrival of stock in transit.")
    available: int


class StockLevelPublic(LocationStockPublic, _Public):
    sku: str


class AdjustmentCreate(_Write):
    sku: str = Sku
    location_id: str
    delta: int = Field(
        ge=-MAX_UNITS, le=MAX_UNITS, description="Units to add (positive) or remove (negative)."
    )
    reason: str = Field(default="", max_length=200)


class ReceiptCreate(_Write):
    sku: str = Sku
    location_id: str
    quantity: Units


class TransferCreate(_Write):
    sku: str = Sku
    from_location: str
    to_location: str
    quantity: Units
    expected_arrival: Moment | None = None


class TransferReceive(_Write):
    pass


class TransferPublic(_Public):
    id: str
    sku: str
    from_location: str
    to_location: str
    quantity: int
    status: Literal["in_transit", "received"]
    expected_arrival: str | None
    created_at: str
    received_at: str | None


class ReservationLineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)
    sku: str = Sku
    location_id: str
    quantity: Units
    mode: LineMode | None = None


class ReservationCreate(_Write):
    lines: list[ReservationLineCreate] = Field(min_length=1, max_length=200)
    kind: Literal["checkout", "order"] = "checkout"
    reference: str | None = Field(default=None, max_length=200, description="Checkout or order id.")
    ttl_seconds: int | None = Field(default=None, gt=0, le=7 * 24 * 3600)


class ReservationAction(_Write):
    pass


class ReservationPublic(_Public):
    id: str
    reference: str | None
    kind: Literal["checkout", "order"]
    status: Literal["held", "allocated", "released", "expired", "fulfilled"]
    created_at: str
    expires_at: str | None
    lines: list[ReservationLineCreate]


class AvailabilityRowPublic(LocationStockPublic):
    """A row of an availability answer; the location's name, kind and market are in
    GET /v1/locations (they change rarely; availability is the hot path)."""

    pickup: bool
    distance_km: float | None


class AvailabilityPublic(BaseModel):
    sku: str
    on_hand: int
    available: int
    locations: list[AvailabilityRowPublic]

    @staticmethod
    def payload(found: Availability) -> dict[str, Any]:
        """The answer as data orjson writes directly (its rows are already dicts with this
        model's row fields). Availability lists every location (500 and more), and building
        and validating a model per row would cost more than computing the answer."""
        return {
            "sku": found.sku,
            "on_hand": found.on_hand,
            "available": found.available,
            "locations": found.locations,
        }


class PointCreate(BaseModel):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class OrderLineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Sku
    quantity: Units
    unit_price: float = Field(default=0.0, ge=0, le=1e12)


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lines: list[OrderLineCreate] = Field(min_length=1, max_length=200)
    destination: PointCreate | None = Field(default=None, description="The delivery address.")
    pickup_store: str | None = None
    rules: list[str] | None = Field(default=None, description="Override the configured rule order.")
    min_split_value: float | None = Field(default=None, ge=0, le=1e12)


class ShipmentPublic(BaseModel):
    location_id: str
    mode: LineMode
    distance_km: float
    lines: list[OrderLineCreate]


class PlanPublic(BaseModel):
    rank: int
    kind: str
    shipments: list[ShipmentPublic]
    scores: dict[str, float]
    decided_by: str | None
    explanation: str
    lines: list[ReservationLineCreate] = Field(description="What to reserve for this plan.")

    @classmethod
    def of(cls, rank: int, plan: Plan) -> PlanPublic:
        return cls(
            rank=rank,
            kind=plan.kind,
            shipments=[
                ShipmentPublic(
                    location_id=s.location_id,
                    mode=s.mode,
                    distance_km=s.distance_km,
                    lines=[OrderLineCreate(sku=sku, quantity=q) for sku, q in s.lines],
                )
                for s in plan.shipments
            ],
            scores=plan.scores,
            decided_by=plan.decided_by,
            explanation=plan.explanation,
            lines=[ReservationLineCreate.model_validate(line) for line in plan.lines],
        )


class PlansPublic(BaseModel):
    plans: list[PlanPublic]


class PlanReservationCreate(_Write):
    lines: list[ReservationLineCreate] = Field(
        min_length=1, max_length=200, description="The chosen plan's lines, as proposed."
    )
    reference: str | None = Field(default=None, max_length=200)
    ttl_seconds: int | None = Field(default=None, gt=0, le=7 * 24 * 3600)
