"""Orders and people on the ledger: loyalty points earned on an order (by the programme's
rules, campaigns and the customer's tier), refunds that reverse what an order earned and
spent, goodwill an associate gives with a reason, and a customer's balances."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from kenning.commerce.inventory.stock import stamp
from kenning.commerce.ledger.errors import LedgerError
from kenning.commerce.ledger.lots import Lot, spendable
from kenning.commerce.ledger.loyalty import (
    Earned,
    EarnLine,
    Programme,
    check_programme,
    earn,
    programme_from_dict,
    tier_for,
)
from kenning.commerce.ledger.postings import (
    POINTS,
    Posting,
    Transaction,
    check_amount,
    check_unit,
    customer_account_id,
    system_account_id,
)
from kenning.commerce.ledger.refunds import cap_debits, reversal
from kenning.services.aliases import customer_ids
from kenning.services.inventory import utcnow
from kenning.services.ledger import (
    AccountBalance,
    Giving,
    IssuedCard,
    account_balance,
    customer_accounts,
    ensure_customer_account,
    issue_gift_card,
    issue_to_customer,
    post,
    run_once,
)
from kenning.services.pricing import issue_customer_coupon
from kenning.store import Store

PROGRAMME = "default"


# --------------------------------------------------------------------- programme, tiers
def load_programme(store: Store) -> Programme:
    """The loyalty programme (1 point per currency unit, no tiers, until one is saved)."""
    data = store.programme_data(PROGRAMME)
    return Programme() if data is None else programme_from_dict(data)


def save_programme(store: Store, programme: Programme, now: datetime | None = None) -> Programme:
    checked = check_programme(programme)
    with store.transaction():
        store.save_programme(PROGRAMME, checked.to_dict(), stamp(now or utcnow()))
    return checked


def rolling_spend(store: Store, ids: Sequence[str], programme: Programme, now: datetime) -> int:
    """What the customer (by ``ids``: theirs and those merged into it) spent, all
    currencies' minor units together, in the tier window."""
    since = stamp(now - timedelta(days=programme.tier_window_days))
    return sum(n for c in ids for n in store.rolling_spend(c, since).values())


# --------------------------------------------------------------------- earn
@dataclass(frozen=True, slots=True)
class EarnResult:
    earned: Earned
    transaction: Transaction | None  # None when the order earned no points


def earn_for_order(
    store: Store,
    order_id: str,
    customer_id: str,
    lines: Sequence[EarnLine],
    *,
    channel: str,
    currency: str,
    key: str | None = None,
    now: datetime | None = None,
) -> EarnResult:
    """Points for an order into the customer's points account, expiring as the programme
    says; the order's value counts towards the customer's tier. Once per order."""
    moment = now or utcnow()
    when = stamp(moment)
    source = system_account_id("rewards", POINTS)
    ids = customer_ids(store, customer_id)  # the tier counts the spend of merged ids too

    def act() -> EarnResult:
        check_unit(currency, "store_credit")
        if not lines:
            raise LedgerError("invalid", "an order needs at least one line")
        store.lock_order(order_id)
        if any(row[1] == "earn" for row in store.order_transactions(order_id)):
            raise LedgerError("conflict", f"order {order_id} has already earned its points")
        programme = load_programme(store)
        spend = rolling_spend(store, ids, programme, moment)
        earned = earn(programme, lines, channel=channel, currency=currency, at=when, spend=spend)
        if earned.points == 0:
            return EarnResult(earned, None)
        account = ensure_customer_account(store, "loyalty_points", customer_id, POINTS)
        days = programme.points_expire_days
        expiry = None if days is None else stamp(moment + timedelta(days=days))
        postings = [
            Posting(source, POINTS, -earned.points),
            Posting(account, POINTS, earned.points, None, expiry),
        ]
        made = post(
            store,
            "earn",
            postings,
            when=when,
            order_id=order_id,
            customer_id=customer_id,
            spend=sum(line.amount for line in lines),
            currency=currency,
            memo=f"{channel} order",
        )
        return EarnResult(earned, made)

    request = {
        "op": "earn",
        "order": order_id,
        "customer": customer_id,
        "channel": channel,
        "currency": currency,
        "lines": [[line.sku, line.amount, line.category] for line in lines],
    }
    return run_once(store, key, request, act, EarnResult, [source], when)


# --------------------------------------------------------------------- refunds
@dataclass(frozen=True, slots=True)
class RefundResult:
    transaction: Transaction
    refunded: int  # of the order's value, in its currency's minor units
    forgiven: dict[str, int] = field(default_factory=dict)  # account -> not taken back


def refund_order(
    store: Store,
    order_id: str,
    *,
    amount: int | None = None,
    order_total: int | None = None,
    key: str | None = None,
    now: datetime | None = None,
) -> RefundResult:
    """Reverse what the order earned and spent: all of it, or for a partial refund of
    ``amount`` the same share of what is still unrefunded (``order_total`` is the order's
    value, needed when it earned no points). Spent value goes back to the lots it came from;
    points are taken back as far as the customer still has them."""
    moment = now or utcnow()
    when = stamp(moment)

    def act() -> RefundResult:
        store.lock_order(order_id)
        rows = store.order_transactions(order_id)
        if not rows:
            raise LedgerError("not_found", f"no ledger transactions for order {order_id!r}")
        customer = next((r[4] for r in rows if r[4] is not None), None)
        earned = sum(int(r[5]) for r in rows if r[1] == "earn" and r[5] is not None)
        refunded = -sum(int(r[5]) for r in rows if r[1] == "refund" and r[5] is not None)
        currency = next((r[6] for r in rows if r[6] is not None), None)
        total = order_total if order_total is not None else (earned or None)
        remaining = None if total is None else total - refunded
        holdings = [(a, u, lot, n) for a, u, n, lot in store.order_holdings(order_id)]
        if remaining is not None and remaining <= 0:
            raise LedgerError("conflict", f"order {order_id} has nothing left to refund")
        postings = reversal(holdings, amount, remaining)
        available = {
            p.account_id: _spendable(store, p.account_id, when)
            for p in postings
            if p.amount < 0 and not p.account_id.startswith("system:")
        }
        postings, forgiven = cap_debits(postings, available)
        if not postings:
            raise LedgerError("conflict", f"order {order_id} has nothing left to refund")
        back = amount if amount is not None else (remaining or 0)
        made = post(
            store,
            "refund",
            postings,
            when=when,
            order_id=order_id,
            customer_id=customer,
            spend=-back if currency else None,
            currency=currency,
            memo="refund",
        )
        return RefundResult(made, back, forgiven)

    request = {"op": "refund", "order": order_id, "amount": amount, "total": order_total}
    return run_once(store, key, request, act, RefundResult, (), when)


def _spendable(store: Store, account_id: str, when: str) -> int:
    return spendable((Lot(i, int(r), e, c) for i, r, e, c in store.open_lots(account_id)), when)


# --------------------------------------------------------------------- goodwill
GoodwillKind = Literal["gift_card", "store_credit", "loyalty_points"]


@dataclass(frozen=True, slots=True)
class GoodwillResult:
    transaction: Transaction
    card: IssuedCard | None = None  # for a gift card: the card (its code shown once)


def goodwill(
    store: Store,
    customer_id: str,
    kind: GoodwillKind,
    amount: int,
    unit: str,
    *,
    reason: str,
    associate_id: str,
    expires_at: datetime | None = None,
    key: str | None = None,
    now: datetime | None = None,
) -> GoodwillResult:
    """An associate gives a customer a gift card, store credit or points, from the goodwill
    account, with a reason; who, whom, what and why go into the audit trail."""
    _check_goodwill(customer_id, reason, associate_id)
    check_amount(amount)
    options: Giving = {
        "expires_at": expires_at,
        "key": key,
        "now": now,
        "source": "goodwill",
        "actor": associate_id,
        "reason": reason,
    }
    if kind == "gift_card":
        card = issue_gift_card(store, amount, unit, customer_id=customer_id, **options)
        return GoodwillResult(card.transaction, card)
    made = issue_to_customer(store, customer_id, kind, amount, unit, **options)
    return GoodwillResult(made)


def _check_goodwill(customer_id: str, reason: str, associate_id: str) -> None:
    if not reason.strip() or not associate_id.strip():
        raise LedgerError("invalid", "goodwill needs a reason and the associate's id")
    if not customer_id.strip():
        raise LedgerError("invalid", "goodwill is given to a customer")


@dataclass(frozen=True, slots=True)
class GoodwillCoupon:
    """A single-use coupon for one customer; a retry with the same key answers with it."""

    code: str
    promotion_id: str
    customer_id: str
    percent_off: Decimal | None
    amount_off: int | None  # minor units of currency
    currency: str | None
    expires_at: datetime | None


def goodwill_coupon(
    store: Store,
    customer_id: str,
    *,
    percent_off: Decimal | None = None,
    amount_off: int | None = None,
    currency: str | None = None,
    reason: str,
    associate_id: str,
    expires_at: datetime | None = None,
    key: str | None = None,
    now: datetime | None = None,
) -> GoodwillCoupon:
    """An associate gives a customer a discount coupon (a percentage or an amount off the
    basket) with a reason: a promotion only that customer's basket takes, once, priced by
    ``POST /v1/price`` like any other; audited like the other goodwill."""
    _check_goodwill(customer_id, reason, associate_id)
    moment = now or utcnow()
    when = stamp(moment)

    def act() -> GoodwillCoupon:
        promotion = issue_customer_coupon(
            store,
            customer_id,
            percent_off=percent_off,
            amount_off=amount_off,
            currency=currency,
            expires_at=expires_at,
            name="Goodwill",
            now=moment,
        )
        assert promotion.coupon is not None
        made = GoodwillCoupon(
            promotion.coupon.code,
            promotion.id,
            customer_id,
            percent_off,
            amount_off,
            currency,
            expires_at,
        )
        details = {
            "kind": "coupon",
            "promotion_id": promotion.id,
            "code": made.code,
            "percent_off": None if percent_off is None else str(percent_off),
            "amount_off": amount_off,
            "currency": currency,
            "expires_at": None if expires_at is None else stamp(expires_at),
        }
        audit = (when, associate_id, "coupon.goodwill", customer_id, None, None, reason)
        store.add_audit(audit, details)
        return made

    request = {
        "op": "goodwill_coupon",
        "customer": customer_id,
        "percent_off": None if percent_off is None else str(percent_off),
        "amount_off": amount_off,
        "currency": currency,
        "expires_at": None if expires_at is None else stamp(expires_at),
        "actor": associate_id,
        "reason": reason,
    }
    return run_once(store, key, request, act, GoodwillCoupon, (), when)


# --------------------------------------------------------------------- balances
@dataclass(frozen=True, slots=True)
class CustomerBalances:
    customer_id: str
    accounts: list[AccountBalance]
    tier: str | None
    rolling_spend: int


def customer_balances(
    store: Store, customer_id: str, now: datetime | None = None
) -> CustomerBalances:
    """Every account the customer holds (store credit, points, gift cards given to them),
    and those of the ids merged into them, with what is spendable now and what expires
    next, and their loyalty tier (from the spend of all those ids)."""
    moment = now or utcnow()
    ids = customer_ids(store, customer_id)
    accounts = [account_balance(store, a, moment) for c in ids for a in customer_accounts(store, c)]
    programme = load_programme(store)
    spend = rolling_spend(store, ids, programme, moment)
    tier = tier_for(programme.tiers, spend)
    return CustomerBalances(customer_id, accounts, tier.name if tier else None, spend)


def points_account_id(customer_id: str) -> str:
    return customer_account_id("loyalty_points", customer_id, POINTS)
