"""The ledger API's request (``XCreate``) and answer (``XPublic``) models. Amounts are whole
numbers in minor units (pence, cents) or points, never decimals."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kenning.api.bounds import Moment
from kenning.api.inventory_schemas import _Public, _Write

Currency = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. GBP; PTS for points.")
MOST = 10**12  # a trillion minor units in one posting: far beyond any real one
Amount = Field(gt=0, le=MOST, description="Minor units (pence, cents) or points.")
Reason = Field(min_length=1, max_length=500)


class PostingPublic(_Public):
    account_id: str
    unit: str
    amount: int = Field(description="Added to the account: negative takes value out.")
    lot_id: str | None


class TransactionPublic(_Public):
    id: str
    kind: str
    created_at: str
    postings: list[PostingPublic]
    order_id: str | None
    customer_id: str | None
    spend: int | None
    currency: str | None
    memo: str


class GiftCardCreate(_Write):
    amount: int = Amount
    currency: str = Currency
    customer_id: str | None = Field(default=None, max_length=200)
    expires_at: Moment | None = None


class GiftCardIssuedPublic(_Public):
    account_id: str
    code: str | None = Field(
        description="Shown once: only its hash is kept, and a retry answers with null."
    )
    last4: str
    unit: str
    amount: int
    expires_at: str | None
    transaction: TransactionPublic


class RedemptionCreate(_Write):
    amount: int = Amount
    order_id: str | None = Field(default=None, max_length=200)


class CustomerRedemptionCreate(RedemptionCreate):
    currency: str | None = Field(
        default=None, pattern=r"^[A-Z]{3}$", description="The store credit's currency."
    )


class StoreCreditCreate(_Write):
    amount: int = Amount
    currency: str = Currency
    expires_at: Moment | None = None
    reason: str = Field(default="", max_length=500)


class AccountBalancePublic(_Public):
    account_id: str
    kind: str
    unit: str
    balance: int = Field(description="Every lot's value left, expired or not yet swept.")
    available: int = Field(description="What can be spent now.")
    last4: str | None
    next_expiry: str | None
    expiring: int = Field(description="How much expires at next_expiry.")


class CustomerBalancesPublic(_Public):
    customer_id: str
    accounts: list[AccountBalancePublic]
    tier: str | None
    rolling_spend: int


class AccountPublic(_Public):
    id: str
    kind: str
    unit: str
    customer_id: str | None
    balance: int
    last4: str | None


class PostingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account_id: str = Field(min_length=1, max_length=200)
    unit: str = Currency
    amount: int = Field(ge=-MOST, le=MOST, description="Negative takes value out.")
    lot_id: str | None = None
    expires_at: Moment | None = Field(default=None, description="A credit's new lot expires.")


class TransactionCreate(_Write):
    kind: Literal["issue", "redeem", "transfer", "adjust"] = "adjust"
    postings: list[PostingCreate] = Field(min_length=2, max_length=100)
    order_id: str | None = Field(default=None, max_length=200)
    actor: str = Field(min_length=1, max_length=200, description="Who asked: kept in the audit.")
    reason: str = Reason


class EarnLineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sku: str = Field(min_length=1, max_length=100)
    amount: int = Field(
        ge=0, le=MOST, description="What the customer paid for the line, minor units."
    )
    category: str | None = Field(default=None, max_length=100)


class EarnCreate(_Write):
    order_id: str = Field(min_length=1, max_length=200)
    customer_id: str = Field(min_length=1, max_length=200)
    channel: str = Field(min_length=1, max_length=50, description="store, web, app …")
    currency: str = Currency
    lines: list[EarnLineCreate] = Field(min_length=1, max_length=500)


class LineEarnPublic(_Public):
    sku: str
    base: int
    points: int
    campaign: str | None


class EarnPublic(BaseModel):
    points: int
    tier: str | None
    lines: list[LineEarnPublic]
    bonuses: list[tuple[str, int]]
    transaction: TransactionPublic | None


class RefundCreate(_Write):
    amount: int | None = Field(
        default=None,
        gt=0,
        le=MOST,
        description="Refunded value (minor units); none: the whole order.",
    )
    order_total: int | None = Field(
        default=None, gt=0, le=MOST, description="The order's value, if it earned no points."
    )


class RefundPublic(_Public):
    transaction: TransactionPublic
    refunded: int
    forgiven: dict[str, int] = Field(description="Points already spent, not taken back.")


class GoodwillCreate(_Write):
    customer_id: str = Field(min_length=1, max_length=200)
    kind: Literal["gift_card", "store_credit", "loyalty_points", "coupon"]
    amount: int | None = Field(
        default=None, gt=0, le=MOST, description="Minor units or points; a coupon's amount off."
    )
    currency: str | None = Field(
        default=None, pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. GBP; PTS for points."
    )
    percent_off: Decimal | None = Field(
        default=None, gt=0, le=100, description="A coupon's percentage off the basket."
    )
    reason: str = Reason
    associate_id: str = Field(min_length=1, max_length=200)
    expires_at: Moment | None = None

    @model_validator(mode="after")
    def _one_value(self) -> Self:
        if self.kind == "coupon":
            if (self.percent_off is None) == (self.amount is None):
                raise ValueError("a coupon takes percent_off or an amount (with its currency)")
        elif self.percent_off is not None:
            raise ValueError("percent_off is for coupons")
        if self.amount is not None and self.currency is None:
            raise ValueError("an amount needs its currency")
        if self.kind != "coupon" and self.amount is None:
            raise ValueError(f"{self.kind} goodwill needs an amount and its currency")
        return self


class GoodwillCouponPublic(_Public):
    code: str = Field(description="The coupon to give the customer: one use, theirs only.")
    promotion_id: str
    customer_id: str
    percent_off: Decimal | None
    amount_off: int | None
    currency: str | None
    expires_at: datetime | None


class GoodwillPublic(_Public):
    transaction: TransactionPublic | None = Field(description="None for a coupon.")
    card: GiftCardIssuedPublic | None = None
    coupon: GoodwillCouponPublic | None = None


class AuditPublic(BaseModel):
    at: str
    actor: str
    action: str
    customer_id: str | None
    account_id: str | None
    transaction_id: str | None
    reason: str
    details: dict[str, object]
