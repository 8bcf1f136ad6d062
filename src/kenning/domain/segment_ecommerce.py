"""The properties of Segment's e-commerce events (and Kenning's own repair and registration
events) that Kenning reads, checked when the event arrives: a client sending a malformed
order hears a 400 naming the field, instead of an event that can never be applied.

Only what the spec makes clear and what ``services.activity`` reads is checked; everything
else in ``properties`` is kept as sent.
https://segment.com/docs/connections/spec/ecommerce/v2/
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from kenning.domain.refusals import Refusal

# Events whose properties describe products (the event's own, or a products array).
PRODUCT_EVENTS = frozenset(
    {
        "Order Completed",
        "Order Refunded",
        "Product Viewed",
        "Product Added",
        "Product Removed",
        "Cart Viewed",
        "Checkout Started",
    }
)
# Statuses of a repair, in order (services.activity applies only these).
REPAIR_STATUSES = ("received", "in_repair", "ready_for_pickup", "shipped", "collected")
# A money amount in major units (pounds, dollars): stored as minor units in 64 bits with room
# to add up an order's lines.
MAX_AMOUNT = 1e12
MAX_QUANTITY = 10**6
# Amounts of the whole event (a product's price is checked with the product).
_AMOUNTS = frozenset(("revenue", "total", "value", "subtotal", "shipping", "tax", "discount"))
_IDS = frozenset(("order_id", "checkout_id", "cart_id", "product_id", "sku", "serial_number"))
_CHECKED = _AMOUNTS | _IDS | {"price", "quantity"}
_TEXT = (str, int, float)


def _refuse(where: str, problem: str) -> Refusal:
    return Refusal("invalid_request", f"properties.{where} {problem}")


def _identifier(value: Any, where: str) -> None:
    if value is not None and type(value) not in _TEXT:
        raise _refuse(where, "must be a string or a number")


def _amount(value: Any, where: str) -> float:
    """The amount, which may also be sent as a numeric string ("12.99"). Numbers skip
    Decimal (this is on the path of every product event); strings are read as activity
    reads them."""
    kind = type(value)
    if kind is float or kind is int:
        amount = value  # an int past any float compares exactly, never overflows
    elif kind is str:
        try:
            amount = float(Decimal(value))
        except (InvalidOperation, ValueError):
            raise _refuse(where, "must be a number") from None
    else:
        raise _refuse(where, "must be a number")
    if not abs(amount) <= MAX_AMOUNT:  # also NaN and infinity
        raise _refuse(where, f"must be a number no larger than {MAX_AMOUNT:,.0f}")
    return float(amount)


def _quantity(value: Any, where: str) -> int:
    kind = type(value)
    if kind is not int and kind is not float:
        raise _refuse(where, "must be a number")
    if not 0 <= value <= MAX_QUANTITY or value != int(value):
        raise _refuse(where, f"must be a whole number from 0 to {MAX_QUANTITY:,}")
    return int(value)


def _fields(fields: Mapping[str, Any], where: str) -> float:
    """Checks the event's or one product's fields, in one pass over the keys sent; returns
    what the line costs (price times quantity)."""
    price = 0.0
    quantity = 1
    for name, value in fields.items():
        if name not in _CHECKED:
            continue
        if name == "price":
            price = _amount(value, where + name)
        elif name == "quantity":
            quantity = _quantity(value, where + name)
        elif name in _IDS:
            _identifier(value, where + name)
        elif value is not None:
            _amount(value, where + name)
    return abs(price) * quantity


def check_ecommerce(event: str, properties: Mapping[str, Any]) -> None:
    """Refuses a track event whose known properties cannot be what the spec says."""
    if event in PRODUCT_EVENTS:
        lines = _fields(properties, "")
        products = properties.get("products")
        if products is not None:
            if not isinstance(products, list):
                raise _refuse("products", "must be an array of products")
            for n, product in enumerate(products):
                if not isinstance(product, dict):
                    raise _refuse(f"products[{n}]", "must be an object")
                lines += _fields(product, f"products[{n}].")
        if lines > MAX_AMOUNT:
            raise _refuse("products", f"add up to more than {MAX_AMOUNT:,.0f}")
    elif event in ("Repair Received", "Repair Status Changed"):
        repair_id = properties.get("repair_id")
        if repair_id in (None, "") or isinstance(repair_id, bool):
            raise _refuse("repair_id", "is required")
        _identifier(repair_id, "repair_id")
        status = properties.get("status")
        if status is None and event == "Repair Received":
            return
        if status not in REPAIR_STATUSES:
            raise _refuse("status", f"must be one of {', '.join(REPAIR_STATUSES)}")
    elif event == "Product Registered":
        serial = properties.get("serial_number")
        if serial in (None, "") or isinstance(serial, bool):
            raise _refuse("serial_number", "is required")
        _identifier(serial, "serial_number")
