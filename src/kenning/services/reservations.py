"""Reservations and sourcing: hold stock for a checkout or an order, confirm it into an
allocation, release it, fulfil it; propose where an order should come from and reserve
exactly the chosen plan.

A hold expires at ``expires_at``; expired holds are released lazily before every
availability answer, sourcing proposal and status change, whenever a reservation finds stock
short (then it tries again), and by ``kenning inventory expire``: an expired hold never
counts against stock that is read or reserved.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from kenning.commerce.inventory.errors import InventoryError
from kenning.commerce.inventory.locations import LocationSet
from kenning.commerce.inventory.sourcing import Order, Plan, SourcingRules, propose
from kenning.commerce.inventory.stock import (
    ACTIVE,
    Reservation,
    ReservationKind,
    ReservationLine,
    check_lines,
    stamp,
)
from kenning.services.idempotency import Answering, KeptRefusal, once, once_saved_by_write
from kenning.services.inventory import SCOPE, location_set, utcnow
from kenning.store import Store
from kenning.store.inventory import StockShortage

DEFAULT_TTL = timedelta(minutes=15)


def expire_due(store: Store, now: datetime | None = None) -> int:
    """Release every hold past its expiry; returns how many. Each in its own transaction
    (a savepoint inside a caller's), so a sweep alone never holds many locks."""
    when = stamp(now or utcnow())
    released = 0
    for reservation_id in store.due_reservations(when):
        if store.move_reservation(
            reservation_id, ("held",), "expired", when, effect="release", expired=True
        ):
            released += 1
    return released


def swept_locations(store: Store, now: datetime) -> LocationSet:
    """Every location, after releasing the holds past their expiry at ``now``: what a read
    of stock starts with. One query when no hold is due (the usual case)."""
    version, due = store.read_state(stamp(now))
    if due:
        expire_due(store, now)
    return location_set(store, version)


def get_reservation(store: Store, reservation_id: str) -> Reservation:
    found = store.reservation_rows(reservation_id)
    if found is None:
        raise InventoryError("not_found", f"no reservation {reservation_id!r}")
    (id_, reference, kind, status, created, expires), lines = found
    return Reservation(
        id_,
        reference,
        kind,
        status,
        created,
        expires,
        tuple(ReservationLine(sku, loc, qty, mode) for sku, loc, qty, mode in lines),  # type: ignore[arg-type]
    )


def reserve(
    store: Store,
    lines: Sequence[ReservationLine],
    *,
    kind: ReservationKind = "checkout",
    reference: str | None = None,
    ttl: timedelta = DEFAULT_TTL,
    key: str | None = None,
    now: datetime | None = None,
) -> Reservation:
    """Hold every line at its location, all or nothing; never more than is available."""
    moment = now or utcnow()

    def act(answering: Answering | None) -> Reservation:
        checked = check_lines(lines)
        if ttl <= timedelta(0):
            raise InventoryError("invalid", "a hold needs a positive time to live")
        made = Reservation(
            "res_" + uuid.uuid4().hex,
            reference,
            kind,
            "held",
            stamp(moment),
            stamp(moment + ttl),
            checked,
        )
        rows = [(ln.sku, ln.location_id, ln.quantity, ln.mode) for ln in checked]
        # The answer is saved with the write (one statement at one place on PostgreSQL),
        # and so is the refusal a write at one place would get.
        places = {(ln.sku, ln.location_id) for ln in checked}
        refusal = _short(StockShortage(*places.pop())) if len(places) == 1 else None
        answer = None if answering is None else answering.row(made, refusal)
        try:
            store.insert_reservation(_header(made), rows, answer)
        except StockShortage as short:
            # Stock looks short: release holds past their expiry and try once more. Sweeping
            # only here keeps the common path to one conditional update per line.
            if short.answered or not expire_due(store, moment):
                raise _refused(short) from None
            try:
                store.insert_reservation(_header(made), rows, answer)
            except StockShortage as still:
                raise _refused(still) from None
        return made  # exactly what was written: no need to read it back

    request: dict[str, Any] = {
        "op": "reserve",
        # As dataclasses.asdict would give, without its deep copies (a tenth of a hold's CPU).
        "lines": [
            {"sku": ln.sku, "location_id": ln.location_id, "quantity": ln.quantity, "mode": ln.mode}
            for ln in lines
        ],
        "kind": kind,
        "reference": reference,
        "ttl": ttl.total_seconds(),
    }
    return once_saved_by_write(store, SCOPE, key, request, act, Reservation)


def _short(short: StockShortage) -> InventoryError:
    return InventoryError(
        "insufficient_stock", f"not enough {short.sku} available at {short.location_id}"
    )


def _refused(short: StockShortage) -> Exception:
    """The refusal, or, if the write already kept it as the key's answer, saying so."""
    return KeptRefusal(_short(short)) if short.answered else _short(short)


def _header(r: Reservation) -> tuple[str, str | None, str, str, str, str | None]:
    return (r.id, r.reference, r.kind, r.status, r.created_at, r.expires_at)


# action -> (statuses it applies to, new status, effect on stock)
_MOVES = {
    "confirm": (("held",), "allocated", "keep"),
    "release": (ACTIVE, "released", "release"),
    "fulfil": (ACTIVE, "fulfilled", "consume"),
}


def _move(
    store: Store, action: str, reservation_id: str, key: str | None, now: datetime | None
) -> Reservation:
    from_statuses, to_status, effect = _MOVES[action]

    def act() -> Reservation:
        when = now or utcnow()
        expire_due(store, when)
        current = get_reservation(store, reservation_id)
        try:
            moved = store.move_reservation(
                reservation_id, from_statuses, to_status, stamp(when), effect=effect
            )
        except StockShortage as short:
            raise InventoryError(
                "insufficient_stock", f"{short.sku} at {short.location_id}: not enough on hand"
            ) from None
        if not moved:
            raise InventoryError(
                "conflict", f"cannot {action} a reservation that is {current.status}"
            )
        return get_reservation(store, reservation_id)

    return once(store, SCOPE, key, {"op": action, "reservation": reservation_id}, act, Reservation)


def confirm(
    store: Store, reservation_id: str, key: str | None = None, now: datetime | None = None
) -> Reservation:
    """A hold becomes an allocation: kept (no expiry) until released or fulfilled."""
    return _move(store, "confirm", reservation_id, key, now)


def release(
    store: Store, reservation_id: str, key: str | None = None, now: datetime | None = None
) -> Reservation:
    """Give the units back to available stock."""
    return _move(store, "release", reservation_id, key, now)


def fulfil(
    store: Store, reservation_id: str, key: str | None = None, now: datetime | None = None
) -> Reservation:
    """The goods left (shipped or collected): reserved and on hand both go down."""
    return _move(store, "fulfil", reservation_id, key, now)


# --------------------------------------------------------------------- sourcing
def _start_of_day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def propose_plans(
    store: Store,
    order: Order,
    rules: SourcingRules | None = None,
    now: datetime | None = None,
) -> list[Plan]:
    """Ranked fulfilment plans for an order from the current stock and today's shipments."""
    moment = now or utcnow()
    locations = swept_locations(store, moment).locations
    skus = sorted({line.sku for line in order.lines})
    available = {(sku, location): units for sku, location, units in store.available_rows(skus)}
    shipped = store.ship_counts_since(stamp(_start_of_day(moment)))
    left = {
        loc.id: loc.ship_capacity - shipped.get(loc.id, 0)
        for loc in locations
        if loc.ship_capacity is not None
    }
    return propose(order, locations, available, rules, left)
