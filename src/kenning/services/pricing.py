"""Pricing: loading price books and promotions, pricing a basket for any channel, and
redeeming coupons.

Every channel — the shelf label, the web shop, the till — prices through ``price``, so the
same basket costs the same everywhere unless a rule says otherwise on purpose. The price
book and the active promotions are cached per database and re-read only when the pricing
version moves (any process's write bumps it), so pricing costs one small query plus the
engine.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import TypeAdapter, ValidationError

from kenning.commerce.ledger.cards import new_code
from kenning.commerce.pricing.engine import Basket, PricedBasket, price_basket
from kenning.commerce.pricing.errors import PricingError
from kenning.commerce.pricing.money import minor_unit, parse_amount
from kenning.commerce.pricing.pricebook import PriceBook, PriceEntry, check_entry
from kenning.commerce.pricing.promotions import (
    Coupon,
    Promotion,
    PromotionKind,
    Target,
    check_promotion,
    coupon_code,
)
from kenning.ingest.readers import RowError
from kenning.services.aliases import customer_ids
from kenning.services.idempotency import once
from kenning.services.inventory import FileReport, _csv_rows, _finish, _header, location_set
from kenning.store import Store
from kenning.store.pricing import PRICE_COLUMNS, CouponRefused

SCOPE = "pricing"
# A customer id -> that customer's (segments, traits), from wherever profiles live.
CustomerFacts = Callable[[Store, str], tuple[frozenset[str], dict[str, str]]]
PROMOTION = TypeAdapter(Promotion)
_PROMOTIONS = TypeAdapter(list[Promotion])


def profile_customer_facts(store: Store, customer_id: str) -> tuple[frozenset[str], dict[str, str]]:
    """Segments and traits from the customer profile. Profiles (computed traits, segments)
    are not built yet, so no customer has any: callers send their own until then."""
    return frozenset(), {}


def _stamp(moment: datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        raise PricingError("invalid", "times must carry a time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


# --------------------------------------------------------------------- the catalogue
@dataclass(frozen=True, slots=True)
class Catalogue:
    version: int
    book: PriceBook
    promotions: tuple[Promotion, ...]


# database URL -> the catalogue as of a version.
_CACHE: dict[str, Catalogue] = {}


def _entry(row: Sequence[Any]) -> PriceEntry:
    sku, market, channel, kind, group, starts, ends, currency, price = row
    return PriceEntry(
        sku, market, currency, Decimal(price), kind, channel, group, _moment(starts), _moment(ends)
    )


def catalogue(store: Store) -> Catalogue:
    """The price book and every promotion, read again only if someone changed them."""
    version = store.pricing_version()
    cached = _CACHE.get(store.url)
    if cached is None or cached.version != version:
        book = PriceBook([_entry(row) for row in store.price_entry_rows()])
        promotions = tuple(PROMOTION.validate_python(d) for _, d in store.promotion_rows())
        cached = Catalogue(version, book, promotions)
        _CACHE[store.url] = cached
    return cached


def save_prices(store: Store, entries: Sequence[PriceEntry]) -> int:
    rows = [
        (
            e.sku,
            e.market,
            e.channel,
            e.kind,
            e.customer_group,
            _stamp(e.starts_at),
            _stamp(e.ends_at) or None,
            e.currency,
            str(parse_amount(e.price, e.currency)),
        )
        for e in map(check_entry, entries)
    ]
    store.upsert_price_entries(rows)
    return len(rows)


def save_promotions(store: Store, promotions: Sequence[Promotion], now: datetime) -> int:
    checked = [check_promotion(p) for p in promotions]
    rows = [(p.id, PROMOTION.dump_python(p, mode="json"), _stamp(now)) for p in checked]
    coupons = [
        (coupon_code(p.coupon.code), p.id, p.coupon.total_limit, p.coupon.per_customer_limit)
        for p in checked
        if p.coupon is not None
    ]
    if len({c[0] for c in coupons}) != len(coupons):
        raise PricingError("invalid", "two promotions share a coupon code")
    store.upsert_promotions(rows, coupons)
    return len(rows)


def list_promotions(store: Store) -> list[Promotion]:
    return list(catalogue(store).promotions)


# --------------------------------------------------------------------- files
PRICE_FILE_COLUMNS = PRICE_COLUMNS.split(", ")


def import_prices(store: Store, path: Path) -> FileReport:
    """CSV: sku, market, channel (empty: every channel), currency, price, kind (base,
    channel, sale, group; empty: base), customer_group, starts_at, ends_at (ISO-8601 with
    a zone; empty: open). Bad rows are reported by line; the rest is written."""
    rows = _csv_rows(path)
    _header(rows, path, {"sku", "market", "currency", "price"})
    good: list[PriceEntry] = []
    rejected: list[str] = []
    read = 0
    for number, row in rows:
        read += 1
        if isinstance(row, RowError):
            rejected.append(f"line {number}: {row}")
            continue
        try:
            currency = row["currency"].upper()
            entry = PriceEntry(
                row["sku"],
                row["market"],
                currency,
                parse_amount(row["price"], currency),
                row.get("kind") or "base",  # type: ignore[arg-type]
                row.get("channel", ""),
                row.get("customer_group", ""),
                _moment(row.get("starts_at")),
                _moment(row.get("ends_at")),
            )
            good.append(check_entry(entry))
        except PricingError as exc:
            rejected.append(f"line {number}: {exc.message}")
        except ValueError as exc:
            rejected.append(f"line {number}: {exc}")
    _finish(path, read, rejected)
    return FileReport(save_prices(store, good), rejected, read)


def read_promotions(path: Path) -> list[Promotion]:
    """A JSON or YAML file: a list of promotions, or {"promotions": [...]}."""
    text = path.read_text(encoding="utf-8")
    try:
        data = orjson.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (orjson.JSONDecodeError, yaml.YAMLError) as exc:
        raise PricingError("invalid", f"{path}: {exc}") from None
    if isinstance(data, dict):
        data = data.get("promotions")
    try:
        return _PROMOTIONS.validate_python(data)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        raise PricingError("invalid", f"{path}: {where}: {problem['msg']}") from None


# --------------------------------------------------------------------- pricing
def with_market(store: Store, basket: Basket) -> Basket:
    """The basket with its market: as given, or the market of its store."""
    if basket.market:
        return basket
    if basket.store is not None:
        for location in location_set(store).locations:
            if location.id == basket.store:
                return replace(basket, market=location.market)
    raise PricingError("invalid", "say the market, or a store Kenning knows")


def with_customer(store: Store, basket: Basket, facts: CustomerFacts) -> Basket:
    """The basket with the customer's segments and traits added to those it carries."""
    if basket.customer_id is None:
        return basket
    segments, traits = facts(store, basket.customer_id)
    if not segments and not traits:
        return basket
    return replace(basket, segments=basket.segments | segments, traits={**traits, **basket.traits})


def with_aliases(store: Store, basket: Basket, promotions: Sequence[Promotion]) -> Basket:
    """The basket with the ids merged into its customer (an offer made to one of them is
    hers), looked up only when some promotion is for given customers."""
    if basket.customer_id is None or not any(p.target.customers for p in promotions):
        return basket
    aliases = frozenset(customer_ids(store, basket.customer_id)[1:])
    return replace(basket, customer_aliases=basket.customer_aliases | aliases)


def spent_coupons(store: Store, basket: Basket) -> dict[str, str]:
    """Code -> why it cannot be used now, for the basket's coupons that have no use left."""
    codes = sorted({coupon_code(c) for c in basket.coupons})
    spent: dict[str, str] = {}
    for code, used, limit, mine, per_customer in store.coupon_uses(codes, basket.customer_id):
        if limit is not None and int(used) >= int(limit):
            spent[code] = "no uses left"
        elif (
            per_customer is not None
            and basket.customer_id is not None
            and int(mine) >= int(per_customer)
        ):
            spent[code] = "no uses left for this customer"
    return spent


def price(
    store: Store,
    basket: Basket,
    now: datetime,
    facts: CustomerFacts = profile_customer_facts,
) -> PricedBasket:
    """Price ``basket`` at ``now`` for its channel: the one function every channel calls."""
    found = catalogue(store)
    basket = with_customer(store, with_market(store, basket), facts)
    basket = with_aliases(store, basket, found.promotions)
    spent = spent_coupons(store, basket) if basket.coupons else {}
    return price_basket(basket, found.book, found.promotions, now, spent)


# --------------------------------------------------------------------- coupons
@dataclass(frozen=True, slots=True)
class Redemption:
    id: str
    code: str
    customer_id: str | None
    reference: str | None
    uses: int
    total_limit: int | None
    redeemed_at: datetime


_REFUSALS = {
    "not_found": ("not_found", "no coupon {code!r}"),
    "total": ("coupon_exhausted", "coupon {code!r} has no uses left"),
    "customer": ("coupon_exhausted", "coupon {code!r} has no uses left for this customer"),
}


def _bound_to(store: Store, code: str) -> frozenset[str]:
    """The customers a coupon is for (empty: anyone)."""
    for p in catalogue(store).promotions:
        if p.coupon is not None and coupon_code(p.coupon.code) == code:
            return p.target.customers
    return frozenset()


def redeem_coupon(
    store: Store,
    code: str,
    customer_id: str | None,
    reference: str | None,
    key: str | None,
    now: datetime,
) -> Redemption:
    """Count one use of a coupon (when an order is placed or a sale is rung up): never
    beyond its limits; a retry with the same idempotency key counts nothing again."""
    normal = coupon_code(code)
    request = {"code": normal, "customer_id": customer_id, "reference": reference}

    def act() -> Redemption:
        bound = _bound_to(store, normal)
        if bound and (customer_id is None or bound.isdisjoint(customer_ids(store, customer_id))):
            raise PricingError("invalid", f"coupon {normal!r} is for another customer")
        redemption_id = str(uuid.uuid4())
        try:
            uses, limit = store.redeem_coupon(
                (redemption_id, normal, customer_id, reference, _stamp(now))
            )
        except CouponRefused as refused:
            why, message = _REFUSALS[refused.reason]
            raise PricingError(why, message.format(code=normal)) from None
        return Redemption(redemption_id, normal, customer_id, reference, uses, limit, now)

    return once(store, f"{SCOPE}:coupon", key, request, act, Redemption)


def issue_customer_coupon(
    store: Store,
    customer_id: str,
    *,
    percent_off: Decimal | None = None,
    amount_off: int | None = None,
    currency: str | None = None,
    expires_at: datetime | None = None,
    name: str = "",
    now: datetime,
) -> Promotion:
    """A new single-use coupon for one customer: ``percent_off`` the basket, or
    ``amount_off`` (minor units of ``currency``) off it, until ``expires_at`` (None: no end).
    Only that customer's basket takes it, and it counts one use in all."""
    if (percent_off is None) == (amount_off is None):
        raise PricingError("invalid", "a coupon takes a percentage or an amount off, not both")
    kind: PromotionKind = "basket_percent_off"
    if amount_off is not None:
        if not currency or amount_off < 1:
            raise PricingError("invalid", "an amount off is a whole number of minor units > 0")
        kind, value = "basket_amount_off", amount_off * minor_unit(currency)
    elif percent_off is not None and 0 < percent_off <= 100:
        value, currency = percent_off, None
    else:
        raise PricingError("invalid", "a percentage off is more than 0 and at most 100")
    if expires_at is not None and _stamp(expires_at) <= _stamp(now):
        raise PricingError("invalid", "a coupon cannot expire before it is given")
    promotion = Promotion(
        "coupon_" + uuid.uuid4().hex,
        kind,
        value,
        name=name,
        currency=currency,
        target=Target(customers=frozenset({customer_id})),
        coupon=Coupon(new_code(), total_limit=1, per_customer_limit=1),
        ends_at=expires_at,
    )
    save_promotions(store, [promotion], now)
    return promotion
