"""The pricing API's request (``XCreate``) and answer (``XPublic``) models.

Amounts are decimal strings in answers (``"19.99"``), never floats; requests may send
strings or numbers.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Self

from pydantic import BaseModel, ConfigDict, Field

from kenning.api.bounds import Moment
from kenning.api.inventory_schemas import IdempotencyField, Sku
from kenning.commerce.pricing.engine import (
    Adjustment,
    Basket,
    BasketLine,
    PricedBasket,
    PricedLine,
)
from kenning.commerce.pricing.pricebook import PriceEntry, PriceKind
from kenning.commerce.pricing.promotions import Promotion
from kenning.services.price_audit import AuditReport, Discrepancy, Observation

Amount = Field(ge=0, max_digits=18, decimal_places=6)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BasketLineCreate(_Strict):
    sku: str = Sku
    quantity: int = Field(default=1, ge=1, le=10_000)


class BasketCreate(_Strict):
    lines: list[BasketLineCreate] = Field(min_length=1, max_length=500)
    channel: str = Field(min_length=1, description="web, pos, shelf, or another channel.")
    store: str | None = Field(default=None, description="A location id (its market is used).")
    market: str | None = Field(default=None, description="Else the store's market.")
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    customer_id: str | None = None
    customer_segments: list[str] = Field(
        default_factory=list, description="Also the customer's price groups."
    )
    customer_traits: dict[str, str] = Field(default_factory=dict)
    coupons: list[str] = Field(default_factory=list, max_length=20)
    shipping: Decimal = Field(default=Decimal(0), ge=0, max_digits=18, decimal_places=6)
    at: Moment | None = Field(default=None, description="Price as of this time; else now.")

    def basket(self) -> Basket:
        return Basket(
            tuple(BasketLine(line.sku, line.quantity) for line in self.lines),
            self.channel,
            self.market or "",
            self.currency,
            self.store,
            self.customer_id,
            frozenset(self.customer_segments),
            dict(self.customer_traits),
            tuple(self.coupons),
            self.shipping,
        )


class CouponRejectionPublic(BaseModel):
    code: str
    reason: str


class PricedBasketPublic(BaseModel):
    """The basket priced, with every adjustment in the order it was applied."""

    model_config = ConfigDict(from_attributes=True)
    currency: str
    channel: str
    lines: list[PricedLine]
    subtotal: Decimal
    discount: Decimal
    shipping: Decimal
    shipping_discount: Decimal
    total: Decimal
    adjustments: list[Adjustment]
    coupons_applied: list[str]
    coupons_rejected: list[CouponRejectionPublic]
    notes: list[str]

    @classmethod
    def of(cls, priced: PricedBasket) -> Self:
        return cls.model_validate(
            {
                **{k: getattr(priced, k) for k in cls.model_fields if k != "coupons_rejected"},
                "coupons_rejected": [
                    {"code": code, "reason": reason} for code, reason in priced.coupons_rejected
                ],
            },
            from_attributes=True,
        )


class PriceEntryCreate(_Strict):
    sku: str = Sku
    market: str = Field(min_length=1)
    currency: str = Field(min_length=3, max_length=3)
    price: Decimal = Amount
    kind: PriceKind = "base"
    channel: str = Field(default="", description="Empty: every channel.")
    customer_group: str = Field(default="", description="For a group price only.")
    starts_at: Moment | None = None
    ends_at: Moment | None = None

    def entry(self) -> PriceEntry:
        return PriceEntry(**self.model_dump())


class PriceBookCreate(_Strict):
    entries: list[PriceEntryCreate] = Field(min_length=1, max_length=50_000)


class PromotionsCreate(_Strict):
    promotions: list[Promotion] = Field(min_length=1, max_length=10_000)


class WrittenPublic(BaseModel):
    written: int


class CouponRedemptionCreate(_Strict):
    customer_id: str | None = None
    reference: str | None = Field(default=None, description="The order or receipt.")
    idempotency_key: str | None = IdempotencyField


class ObservationCreate(_Strict):
    channel: str = Field(min_length=1)
    store: str = ""
    sku: str = Sku
    observed_at: Moment
    price: Decimal = Field(
        ge=0, max_digits=18, decimal_places=6, description="Per unit, as shown or charged."
    )
    quantity: int = Field(default=1, ge=1, le=10_000)
    market: str = ""
    coupons: list[str] = Field(default_factory=list)

    def observation(self) -> Observation:
        return Observation(**{**self.model_dump(), "coupons": tuple(self.coupons)})


class AuditCreate(_Strict):
    observations: list[ObservationCreate] = Field(min_length=1, max_length=50_000)


class AuditPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    checked: int
    discrepancies: list[Discrepancy]
    unpriced: list[str]

    @classmethod
    def of(cls, report: AuditReport) -> Self:
        return cls.model_validate(report, from_attributes=True)
