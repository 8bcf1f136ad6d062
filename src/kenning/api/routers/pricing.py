"""Pricing: one basket price for every channel, price books, promotions, coupon uses and
the price audit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from kenning.api.deps import IdempotencyHeader, Now, PricingReader, PricingWriter, idempotency_key
from kenning.api.pricing_schemas import (
    AuditCreate,
    AuditPublic,
    BasketCreate,
    CouponRedemptionCreate,
    PriceBookCreate,
    PricedBasketPublic,
    PromotionsCreate,
    WrittenPublic,
)
from kenning.commerce.pricing.promotions import Promotion
from kenning.services import price_audit, pricing

router = APIRouter(prefix="/v1", tags=["pricing"])


async def _facts(request: Request) -> pricing.CustomerFacts:
    facts: pricing.CustomerFacts = request.app.state.customer_facts
    return facts


Facts = Annotated[pricing.CustomerFacts, Depends(_facts)]


@router.post("/price")
async def price(
    body: BasketCreate, db: PricingReader, now: Now, facts: Facts
) -> PricedBasketPublic:
    """Price a basket for any channel (web, pos, shelf…), every adjustment explained. The
    same basket costs the same in every channel unless a rule targets one on purpose."""
    basket = body.basket()
    priced = await db.run(lambda store: pricing.price(store, basket, body.at or now, facts))
    return PricedBasketPublic.of(priced)


@router.post("/price-book")
async def load_prices(body: PriceBookCreate, db: PricingWriter) -> WrittenPublic:
    """Add or replace price entries (an entry with the same sku, market, channel, kind,
    group and start replaces the old one, so a repeat changes nothing)."""
    entries = [e.entry() for e in body.entries]
    return WrittenPublic(written=await db.run(lambda store: pricing.save_prices(store, entries)))


@router.post("/promotions")
async def load_promotions(body: PromotionsCreate, db: PricingWriter, now: Now) -> WrittenPublic:
    """Add or replace promotions by id (a coupon keeps its count of uses)."""
    written = await db.run(lambda store: pricing.save_promotions(store, body.promotions, now))
    return WrittenPublic(written=written)


@router.get("/promotions")
async def list_promotions(db: PricingReader) -> list[Promotion]:
    return await db.run(pricing.list_promotions)


@router.post("/coupons/{code}/redemptions")
async def redeem(
    code: str,
    db: PricingWriter,
    header: IdempotencyHeader,
    now: Now,
    body: CouponRedemptionCreate | None = None,
) -> pricing.Redemption:
    """Count one use of a coupon, within its total and per-customer limits."""
    found = body or CouponRedemptionCreate()
    key = idempotency_key(header, found.idempotency_key)
    return await db.run(
        lambda store: pricing.redeem_coupon(
            store, code, found.customer_id, found.reference, key, now
        )
    )


@router.post("/prices/audit")
async def audit(body: AuditCreate, db: PricingReader) -> AuditPublic:
    """What channels showed or charged, against the price book and promotions: every
    discrepancy, by store and SKU."""
    seen = [o.observation() for o in body.observations]
    return AuditPublic.of(await db.run(lambda store: price_audit.audit(store, seen)))
