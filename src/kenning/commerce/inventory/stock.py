"""Stock levels, reservations and transfers, and the one formula for what can be sold."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from kenning.commerce.inventory.errors import InventoryError

ReservationKind = Literal["checkout", "order"]
ReservationStatus = Literal["held", "allocated", "released", "expired", "fulfilled"]
# How a reserved line leaves its location: shipped to the customer, picked up there, or
# sent to the pickup store first. None when the caller did not say.
LineMode = Literal["ship", "pickup", "transfer"]
TransferStatus = Literal["in_transit", "received"]
# Holds that still count against stock.
ACTIVE: tuple[ReservationStatus, ...] = ("held", "allocated")


@dataclass(frozen=True, slots=True)
class StockLevel:
    sku: str
    location_id: str
    on_hand: int
    reserved: int
    safety_stock: int
    in_transit: int = 0
    next_arrival: str | None = None  # earliest expected arrival of stock in transit

    @property
    def available(self) -> int:
        return available_units(self.on_hand, self.reserved, self.safety_stock)


def available_units(on_hand: int, reserved: int, safety_stock: int) -> int:
    """What can still be promised: on hand less held and allocated units less the safety
    stock kept back for the shop floor (never below zero)."""
    units = on_hand - reserved - safety_stock
    return units if units > 0 else 0


@dataclass(frozen=True, slots=True)
class ReservationLine:
    sku: str
    location_id: str
    quantity: int
    mode: LineMode | None = None


@dataclass(frozen=True, slots=True)
class Reservation:
    id: str
    reference: str | None
    kind: ReservationKind
    status: ReservationStatus
    created_at: str
    expires_at: str | None
    lines: tuple[ReservationLine, ...]


@dataclass(frozen=True, slots=True)
class Transfer:
    id: str
    sku: str
    from_location: str
    to_location: str
    quantity: int
    status: TransferStatus
    expected_arrival: str | None
    created_at: str
    received_at: str | None


def stamp(moment: datetime) -> str:
    """UTC ISO-8601 of one fixed width, so stored times compare correctly as text."""
    if moment.tzinfo is None:
        raise InventoryError("invalid", "times must carry a time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_quantity(quantity: int, what: str = "quantity") -> int:
    if quantity <= 0:
        raise InventoryError("invalid", f"{what} must be positive, got {quantity}")
    return quantity


def check_lines(lines: Iterable[ReservationLine]) -> tuple[ReservationLine, ...]:
    checked = tuple(lines)
    if not checked:
        raise InventoryError("invalid", "a reservation needs at least one line")
    for line in checked:
        check_quantity(line.quantity, f"line {line.sku}@{line.location_id} quantity")
    return checked
