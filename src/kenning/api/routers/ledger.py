"""The value ledger: gift cards, store credit, loyalty points, refunds and goodwill, from any
channel. Every write takes an idempotency key; amounts are whole minor units or points."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from kenning.api.deps import IdempotencyHeader, LedgerReader, LedgerWriter, Now, idempotency_key
from kenning.api.ledger_schemas import (
    AccountBalancePublic,
    AccountPublic,
    AuditPublic,
    CustomerBalancesPublic,
    CustomerRedemptionCreate,
    EarnCreate,
    EarnPublic,
    GiftCardCreate,
    GiftCardIssuedPublic,
    GoodwillCouponPublic,
    GoodwillCreate,
    GoodwillPublic,
    LineEarnPublic,
    RedemptionCreate,
    RefundCreate,
    RefundPublic,
    StoreCreditCreate,
    TransactionCreate,
    TransactionPublic,
)
from kenning.commerce.inventory.stock import stamp
from kenning.commerce.ledger.errors import LedgerError
from kenning.commerce.ledger.loyalty import EarnLine, Programme
from kenning.commerce.ledger.postings import POINTS, Posting
from kenning.services import ledger, loyalty

router = APIRouter(prefix="/v1", tags=["ledger"])


# --------------------------------------------------------------------- gift cards
@router.post("/gift-cards", status_code=201)
async def issue_gift_card(
    body: GiftCardCreate, db: LedgerWriter, header: IdempotencyHeader, now: Now
) -> GiftCardIssuedPublic:
    """Sell a gift card: its code is in this answer only (a retry answers with null)."""
    key = idempotency_key(header, body.idempotency_key)
    card = await db.run(
        lambda store: ledger.issue_gift_card(
            store,
            body.amount,
            body.currency,
            customer_id=body.customer_id,
            expires_at=body.expires_at,
            key=key,
            now=now,
        )
    )
    return GiftCardIssuedPublic.of(card)


@router.get("/gift-cards/{code}")
async def gift_card(code: str, db: LedgerReader, now: Now) -> AccountBalancePublic:
    """A card's balance, what can be spent now and what expires next."""
    found = await db.run(
        lambda store: ledger.account_balance(store, ledger.card_account(store, code), now)
    )
    return AccountBalancePublic.of(found)


@router.post("/gift-cards/{code}/redeem", status_code=201)
async def redeem_gift_card(
    code: str, body: RedemptionCreate, db: LedgerWriter, header: IdempotencyHeader, now: Now
) -> TransactionPublic:
    """Spend from a card, soonest-expiring value first; never more than it holds."""
    key = idempotency_key(header, body.idempotency_key)
    made = await db.run(
        lambda store: ledger.redeem_gift_card(
            store, code, body.amount, order_id=body.order_id, key=key, now=now
        )
    )
    return TransactionPublic.of(made)


# --------------------------------------------------------------------- customers
@router.get("/customers/{customer_id}/balances")
async def balances(customer_id: str, db: LedgerReader, now: Now) -> CustomerBalancesPublic:
    """Store credit, points and gift cards the customer holds, and their loyalty tier."""
    found = await db.run(lambda store: loyalty.customer_balances(store, customer_id, now))
    return CustomerBalancesPublic.of(found)


@router.post("/customers/{customer_id}/store-credit", status_code=201)
async def issue_store_credit(
    customer_id: str, body: StoreCreditCreate, db: LedgerWriter, header: IdempotencyHeader, now: Now
) -> TransactionPublic:
    key = idempotency_key(header, body.idempotency_key)
    made = await db.run(
        lambda store: ledger.issue_to_customer(
            store,
            customer_id,
            "store_credit",
            body.amount,
            body.currency,
            expires_at=body.expires_at,
            key=key,
            now=now,
            reason=body.reason,
        )
    )
    return TransactionPublic.of(made)


def _customer_redeem(what: Literal["store_credit", "loyalty_points"], path: str) -> None:
    async def redeem(
        customer_id: str,
        body: CustomerRedemptionCreate,
        db: LedgerWriter,
        header: IdempotencyHeader,
        now: Now,
    ) -> TransactionPublic:
        key = idempotency_key(header, body.idempotency_key)
        unit = POINTS if what == "loyalty_points" else body.currency
        if unit is None:
            raise LedgerError("invalid", "say which currency's store credit to spend")
        made = await db.run(
            lambda store: ledger.redeem_customer(
                store,
                customer_id,
                what,
                unit,
                body.amount,
                order_id=body.order_id,
                key=key,
                now=now,
            )
        )
        return TransactionPublic.of(made)

    router.add_api_route(
        f"/customers/{{customer_id}}/{path}/redeem",
        redeem,
        methods=["POST"],
        status_code=201,
        summary=f"Spend the customer's {what.replace('_', ' ')}, soonest-expiring first",
        name=f"redeem_{what}",
    )


_customer_redeem("store_credit", "store-credit")
_customer_redeem("loyalty_points", "points")


# --------------------------------------------------------------------- loyalty, orders
@router.post("/loyalty/earn", status_code=201)
async def earn(
    body: EarnCreate, db: LedgerWriter, header: IdempotencyHeader, now: Now
) -> EarnPublic:
    """Points for an order, by the programme's rules, campaigns and the customer's tier."""
    key = idempotency_key(header, body.idempotency_key)
    lines = [EarnLine(ln.sku, ln.amount, ln.category) for ln in body.lines]
    result = await db.run(
        lambda store: loyalty.earn_for_order(
            store,
            body.order_id,
            body.customer_id,
            lines,
            channel=body.channel,
            currency=body.currency,
            key=key,
            now=now,
        )
    )
    made = result.transaction
    return EarnPublic(
        points=result.earned.points,
        tier=result.earned.tier,
        lines=[LineEarnPublic.of(line) for line in result.earned.lines],
        bonuses=list(result.earned.bonuses),
        transaction=None if made is None else TransactionPublic.of(made),
    )


@router.get("/loyalty/programme")
async def get_programme(db: LedgerReader) -> Programme:
    return await db.run(loyalty.load_programme)


@router.put("/loyalty/programme")
async def put_programme(body: Programme, db: LedgerWriter, now: Now) -> Programme:
    """Replace the earn rules, campaigns and tiers (a PUT is idempotent by itself)."""
    return await db.run(lambda store: loyalty.save_programme(store, body, now))


@router.post("/orders/{order_id}/refund", status_code=201)
async def refund(
    order_id: str, body: RefundCreate, db: LedgerWriter, header: IdempotencyHeader, now: Now
) -> RefundPublic:
    """Reverse what the order earned and spent on the ledger, wholly or in part."""
    key = idempotency_key(header, body.idempotency_key)
    result = await db.run(
        lambda store: loyalty.refund_order(
            store, order_id, amount=body.amount, order_total=body.order_total, key=key, now=now
        )
    )
    return RefundPublic.of(result)


@router.post("/goodwill", status_code=201)
async def goodwill(
    body: GoodwillCreate, db: LedgerWriter, header: IdempotencyHeader, now: Now
) -> GoodwillPublic:
    """An associate gives a gift card, store credit, points or a single-use discount
    coupon for that customer, with a reason; audited."""
    key = idempotency_key(header, body.idempotency_key)
    if body.kind == "coupon":
        coupon = await db.run(
            lambda store: loyalty.goodwill_coupon(
                store,
                body.customer_id,
                percent_off=body.percent_off,
                amount_off=body.amount,
                currency=body.currency,
                reason=body.reason,
                associate_id=body.associate_id,
                expires_at=body.expires_at,
                key=key,
                now=now,
            )
        )
        return GoodwillPublic(transaction=None, coupon=GoodwillCouponPublic.of(coupon))
    kind, amount, currency = body.kind, body.amount or 0, body.currency or ""
    result = await db.run(
        lambda store: loyalty.goodwill(
            store,
            body.customer_id,
            kind,
            amount,
            currency,
            reason=body.reason,
            associate_id=body.associate_id,
            expires_at=body.expires_at,
            key=key,
            now=now,
        )
    )
    return GoodwillPublic.of(result)


# --------------------------------------------------------------------- the books
@router.post("/ledger/transactions", status_code=201)
async def post_transaction(
    body: TransactionCreate, db: LedgerWriter, header: IdempotencyHeader, now: Now
) -> TransactionPublic:
    """Any balanced transaction (a correction, a transfer …), audited with who and why."""
    key = idempotency_key(header, body.idempotency_key)
    postings = [
        Posting(
            p.account_id,
            p.unit,
            p.amount,
            p.lot_id,
            None if p.expires_at is None else stamp(p.expires_at),
        )
        for p in body.postings
    ]
    made = await db.run(
        lambda store: ledger.post_transaction(
            store,
            body.kind,
            postings,
            key=key,
            now=now,
            order_id=body.order_id,
            actor=body.actor,
            reason=body.reason,
        )
    )
    return TransactionPublic.of(made)


@router.get("/ledger/transactions/{transaction_id}")
async def get_transaction(transaction_id: str, db: LedgerReader) -> TransactionPublic:
    found = await db.run(lambda store: ledger.get_transaction(store, transaction_id))
    return TransactionPublic.of(found)


@router.get("/ledger/accounts/{account_id}")
async def get_account(account_id: str, db: LedgerReader) -> AccountPublic:
    found = await db.run(lambda store: ledger.get_account(store, account_id))
    return AccountPublic.of(found)


@router.get("/ledger/audit")
async def audit(
    db: LedgerReader,
    customer_id: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditPublic]:
    """Goodwill, manual transactions and gift cards given by hand: who, why, newest first."""
    rows = await db.run(lambda store: ledger.audit_trail(store, customer_id, limit))
    return [AuditPublic.model_validate(row) for row in rows]
