"""The customer, whole: her golden record with lineage, computed traits, what she owns, her
repairs, recent orders across channels and recent browsing, and her ledger balances —
gathered from her records' activity in a few indexed queries and computed on read, so an
event is in the profile as soon as the follower has written it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from kenning.domain.refusals import Refusal
from kenning.profiles.golden import (
    RecordValues,
    Survivorship,
    distinct_addresses,
    golden_record,
)
from kenning.profiles.traits import Activity, Line, Order, Owned, Repair, Shop, traits
from kenning.services.inventory import utcnow
from kenning.services.ledger import customer_accounts
from kenning.services.loyalty import customer_balances
from kenning.services.trust import PROVABLE, claimed_value, unverified_claims
from kenning.store import Store, StoredRecord

RecordKey = tuple[str, str]
RECENT_ORDERS = 10
RECENT_BROWSING = 20


@dataclass(frozen=True, slots=True)
class ProfileSettings:
    survivorship: Survivorship = field(default_factory=Survivorship)
    lapsed_days: int = 365


@dataclass
class CustomerData:
    """Everything stored about one customer, before it is shaped into a profile."""

    customer_id: str
    records: list[RecordValues]
    activity: Activity
    shops: dict[str, Shop]
    keys: list[RecordKey]
    # Orders an untrusted source sent for a record whose identity is not verified.
    unverified_orders: list[Order] = field(default_factory=list)


def _record_values(r: StoredRecord) -> RecordValues:
    return RecordValues(r.source, r.record_id, r.normalised.get("updated_at"), r.raw, r.normalised)


def _orders(store: Store, customer_id: str) -> tuple[list[Order], list[Order]]:
    """Her orders: those that count as her purchases, and those an untrusted source sent
    for a record whose identity is not verified (shown, counted in nothing)."""
    heads = store.orders_of(customer_id)
    ids = [str(h[0]) for h in heads]
    lines: dict[str, list[Line]] = defaultdict(list)
    for order_id, _, sku, qty, price, serial, category in sorted(store.lines_of(ids)):
        lines[order_id].append(Line(sku, int(qty), int(price), serial or "", category or ""))
    refunds: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for order_id, sku, _, amount in store.returns_of(ids):
        refunds[order_id].append((sku, int(amount)))
    unvouched = store.unvouched_orders(ids)
    # Such an order is hers while the record placing it holds an e-mail she proved (not
    # one proved once and changed since).
    placers = sorted({(str(h[1]), str(h[2])) for h in heads if h[0] in unvouched})
    verified_claims = store.verified_claims(placers)
    proved = {
        (r.source, r.record_id) for r in store.get_records(placers)
        if (PROVABLE, claimed_value(r.raw.get(PROVABLE))) in verified_claims.get(
            (r.source, r.record_id), set())
    }  # fmt: skip
    counted: list[Order] = []
    claimed: list[Order] = []
    for order_id, source, record_id, channel, store_id, assoc, at, currency, total in heads:
        order = Order(order_id, channel, store_id or "", assoc or "", str(at), currency,
                      int(total), tuple(lines[order_id]), sum(a for _, a in refunds[order_id]),
                      tuple(s for s, _ in refunds[order_id] if s))  # fmt: skip
        verified = order_id not in unvouched or (source, record_id) in proved
        (counted if verified else claimed).append(order)
    return counted, claimed


def _repairs(store: Store, customer_id: str) -> list[Repair]:
    heads = store.repairs_of(customer_id)
    history: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for repair_id, status, at, store_id in store.repair_events_of([str(h[0]) for h in heads]):
        history[repair_id].append((status, str(at), store_id))
    return sorted(
        (Repair(rid, serial, sid, str(at), tuple(history[rid])) for rid, serial, sid, at in heads),
        key=lambda r: r.received_at,
    )


def gather(store: Store, customer_id: str) -> CustomerData:
    keys = store.customer_records(customer_id)
    if not keys:
        raise Refusal("not_found", f"no customer {customer_id}")
    records = [_record_values(r) for r in store.get_records(keys)]
    owned = [
        Owned(serial, sku, name or sku, category or "", sid or "", str(at))
        for serial, sku, sid, _, at, _, _, name, category in store.registrations_of(customer_id)
    ]
    addresses = [
        (str(c.value.get("city", "")), str(c.value.get("country", "")),
         str(c.value.get("postcode", "")), c.at or "")
        for c in distinct_addresses(records)
    ]  # fmt: skip
    loyalty: dict[str, str] = {}
    for r in sorted(records, key=lambda r: r.updated_at or ""):
        if r.source == "loyalty" and r.normalised.get("loyalty_id"):
            attributes = r.raw.get("attributes") or {}
            loyalty = {
                "loyalty_id": str(r.normalised["loyalty_id"]),
                "tier": str(attributes.get("tier") or ""),
                "enrolled_at": str(attributes.get("enrolled_at") or r.updated_at or ""),
            }
    orders, unverified = _orders(store, customer_id)
    activity = Activity(
        orders=orders,
        owned=sorted(owned, key=lambda o: o.registered_at),
        repairs=_repairs(store, customer_id),
        email={e: (int(n), str(at)) for e, n, at in store.email_counts_of(customer_id)},
        addresses=addresses,
        loyalty=loyalty,
    )
    shops = {r[0]: Shop(r[0], r[1], r[2], r[3]) for r in store.activity_stores()}
    return CustomerData(customer_id, records, activity, shops, keys, unverified)


def _claims(store: Store, records: list[RecordValues]) -> list[dict[str, Any]]:
    """What her records of untrusted sources claim and nobody has verified: kept as given,
    left out of the golden record, matching and mail (see services/trust.py)."""
    untrusted = store.untrusted_sources()
    # Records a file gave are as the file gave them, whatever their source's key is.
    claimed = store.claimed_records(
        [(r.source, r.record_id) for r in records if r.source in untrusted]
    )
    return [
        {"source": r.source, "record_id": r.record_id, "field": name,
         "value": str(r.raw[name]), "verified": False}
        for r in records if (r.source, r.record_id) in claimed
        for name in unverified_claims(r.raw, r.normalised)
    ]  # fmt: skip


def _order_view(o: Order, verified: bool = True) -> dict[str, Any]:
    return {
        "order_id": o.order_id,
        "verified": verified,
        "channel": o.channel,
        "store_id": o.store_id,
        "associate_id": o.associate_id,
        "at": o.at,
        "currency": o.currency,
        "total": o.total,
        "returned": o.returned,
        "lines": [
            {"sku": li.sku, "quantity": li.quantity, "unit_price": li.unit_price,
             "serial_number": li.serial_number, "category": li.category}
            for li in o.lines
        ],
    }  # fmt: skip


def _repair_view(r: Repair) -> dict[str, Any]:
    return {
        "repair_id": r.repair_id,
        "serial_number": r.serial_number,
        "store_id": r.store_id,
        "received_at": r.received_at,
        "status": r.status,
        "open": r.open,
        "history": [{"status": s, "at": at, "store_id": sid} for s, at, sid in r.history],
    }


def customer_profile(
    store: Store,
    customer_id: str,
    settings: ProfileSettings,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The whole customer in one answer."""
    moment = now or utcnow()
    data = gather(store, customer_id)
    golden = golden_record(data.records, settings.survivorship)
    computed = traits(data.activity, data.shops, moment, settings.lapsed_days)
    shown = [(o, True) for o in data.activity.orders]
    shown += [(o, False) for o in data.unverified_orders]
    orders = sorted(shown, key=lambda o: o[0].at, reverse=True)[:RECENT_ORDERS]
    visitors = [a for _, a in store.anonymous_ids_of(data.keys)]
    browsing = store.browsing_of(customer_id, visitors, RECENT_BROWSING)
    balances = None
    if customer_accounts(store, customer_id):
        balances = asdict(customer_balances(store, customer_id, moment))
    return {
        "customer_id": customer_id,
        "golden": {name: asdict(lineage) for name, lineage in golden.items()},
        "traits": computed,
        "owned": [asdict(o) for o in data.activity.owned],
        "repairs": [_repair_view(r) for r in data.activity.repairs],
        "recent_orders": [_order_view(o, verified) for o, verified in orders],
        "recent_browsing": [
            {"event": e, "sku": sku or None, "at": str(at)} for e, sku, at, _ in browsing
        ],
        "records": [{"source": r.source, "record_id": r.record_id} for r in data.records],
        "unverified": _claims(store, data.records),
        "balances": balances,
    }


def profile_favourite_stores(store: Store, customer_id: str) -> list[str]:
    """Her favourite stores (the stores she bought in most), for availability near her."""
    try:
        data = gather(store, customer_id)
    except Refusal:
        return []
    return list(traits(data.activity, data.shops, utcnow(), 365)["favourite_stores"])
