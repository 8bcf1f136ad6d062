"""What customers do, into the activity tables: from the retailer's files (orders, lines,
returns, registrations, repairs, e-mail, browsing) and from collected events named as in
Segment's e-commerce and e-mail specs (``Order Completed``, ``Product Viewed``,
``Email Opened`` …) plus ``Product Registered`` and ``Repair Status Changed``.

A repair's new status queues an e-mail to its owner in the outbox (sent by ``services.mail``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from kenning.domain.normalise.identifiers import normalise_identifier
from kenning.ingest.readers import RowError, SourceFileError
from kenning.ingest.tables import table_rows
from kenning.services.collect import KIND_PREFIX
from kenning.services.mail import queue_repair_mail
from kenning.store import Store
from kenning.store.activity import ACTIVITY_TABLES
from kenning.store.realtime import LoggedEvent

RecordKey = tuple[str, str]
_BATCH = 5000
REPAIR_STATUSES = ("received", "in_repair", "ready_for_pickup", "shipped", "collected")
_BROWSING = {
    "Product Viewed": "product_viewed",
    "Product Added": "product_added",
    "Product Removed": "product_removed",
    "Cart Viewed": "cart_viewed",
    "Checkout Started": "checkout_started",
}
_EMAIL = {"Email Delivered": "send", "Email Opened": "open", "Email Link Clicked": "click"}


def minor(amount: Any) -> int:
    """Whole minor units (pence, cents) of a decimal amount given as text or number."""
    try:
        return int((Decimal(str(amount)) * 100).quantize(Decimal(1)))
    except (InvalidOperation, ValueError):
        return 0


def serial(value: Any) -> str:
    return normalise_identifier(str(value) if value else None).value or ""


# --------------------------------------------------------------------- files
@dataclass
class ActivityReport:
    read: dict[str, int] = field(default_factory=dict)  # rows read: given + skipped + rejected
    given: dict[str, int] = field(default_factory=dict)
    new: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)  # registrations without a serial
    rejected: dict[str, int] = field(default_factory=dict)
    rejections: list[str] = field(default_factory=list)  # "file:line: reason", the first few

    def accounting(self) -> str:
        read, given = sum(self.read.values()), sum(self.given.values())
        skipped, rejected = sum(self.skipped.values()), sum(self.rejected.values())
        parts = [f"{given:,} given"]
        if skipped:
            parts.append(f"{skipped:,} skipped (no serial number)")
        parts.append(f"{rejected:,} rejected")
        return f"{read:,} {'row' if read == 1 else 'rows'} read: {', '.join(parts)}"


_KEEP_REJECTIONS = 1000


def _converters(
    records_dir: Path,
) -> dict[str, tuple[Path | None, Callable[[dict[str, str]], tuple[Any, ...]]]]:
    return {
        "activity_stores": (None, lambda r: (r["store_id"], r["name"], r["city"], r["country"],
                            r["postcode"], float(r["lat"]), float(r["lon"]), r["kind"])),
        "activity_products": (None, lambda r: (r["sku"], r["currency"], r["name"],
                              r["category"], minor(r["price"]))),
        "activity_orders": (None, lambda r: (r["order_id"], r["source"], r["record_id"],
                            r["channel"], r["store_id"], r["associate_id"], r["ordered_at"],
                            r["currency"], minor(r["total"]))),
        "activity_order_lines": (None, lambda r: (r["order_id"], int(r["line_no"]), r["sku"],
                                 int(r["quantity"]), minor(r["unit_price"]),
                                 serial(r["serial_number"]))),
        "activity_returns": (None, lambda r: (r["order_id"], r["sku"], r["returned_at"],
                             minor(r["amount"]))),
        "activity_registrations": (records_dir / "registrations.csv", lambda r: (
            r["source"], r["record_id"], serial(r["serial_number"]), r["product_sku"],
            r["purchase_store_id"], r["purchase_date"], r["updated_at"])),
        "activity_repairs": (None, lambda r: (r["repair_id"], serial(r["serial_number"]),
                             r["source"], r["record_id"], r["store_id"], r["received_at"])),
        "activity_repair_events": (None, lambda r: (r["repair_id"], r["status"], r["at"],
                                   r["store_id"])),
        "activity_email": (None, lambda r: (r["source"], r["record_id"], r["campaign_id"],
                           r["event"], r["at"], r["url"])),
        "activity_browsing": (None, lambda r: (r["anonymous_id"], r["session_id"], r["source"],
                              r["record_id"], r["event"], r["sku"], r["at"])),
    }  # fmt: skip


def activity_files(directory: Path) -> dict[str, Path]:
    """The files of ``directory`` (a generated retailer, or its activity/ folder) by table."""
    base = directory.parent if directory.name == "activity" else directory
    activity = base / "activity"
    files: dict[str, Path] = {}
    for table, (path, _) in _converters(base / "records").items():
        found = path or activity / (table.removeprefix("activity_") + ".csv")
        if table == "activity_email":
            found = activity / "email_events.csv"
        if table == "activity_browsing":
            found = activity / "browsing.csv"
        if found.exists():
            files[table] = found
    return files


def import_activity(
    store: Store, directory: Path, progress: Callable[[int], None] | None = None
) -> ActivityReport:
    """Import every activity file of ``directory``; rows already stored are left alone, so
    importing again changes nothing. Registrations come from records/registrations.csv."""
    files = activity_files(directory)
    if not files:
        raise FileNotFoundError(f"no activity files in {directory}")
    base = directory.parent if directory.name == "activity" else directory
    converters = _converters(base / "records")
    report = ActivityReport()
    untrusted = store.untrusted_sources()
    # One transaction for every file: one that cannot be read to its end (or whose every
    # row is rejected) leaves the store as it was, and importing again is safe.
    with store.transaction():
        for table, path in files.items():
            before = store.activity_count(table)
            report.given[table] = _import_table(
                store, table, path, converters[table][1], report, progress, untrusted
            )
            report.new[table] = store.activity_count(table) - before
    return report


def _import_table(
    store: Store,
    table: str,
    path: Path,
    convert: Callable[[dict[str, str]], tuple[Any, ...]],
    report: ActivityReport,
    progress: Callable[[int], None] | None,
    untrusted: set[str],
) -> int:
    given = read = skipped = rejected = 0
    first: str | None = None
    batch: list[tuple[Any, ...]] = []
    rows = table_rows(path)
    next(rows)  # the header: a missing column rejects each row, naming it
    for line, row in rows:
        read += 1
        if not isinstance(row, RowError):
            if table == "activity_registrations" and not row.get("serial_number"):
                skipped += 1
                continue
            try:
                batch.append(convert(row))
            except KeyError as exc:
                row = RowError(f"no {exc.args[0]!r} column")
            except (ValueError, TypeError) as exc:
                row = RowError(str(exc))
        if isinstance(row, RowError):
            rejected += 1
            first = first or f"{path}:{line}: {row}"
            if len(report.rejections) < _KEEP_REJECTIONS:
                report.rejections.append(f"{path}:{line}: {row}")
            continue
        if len(batch) == _BATCH:
            given += _add_rows(store, table, batch, untrusted)
            if progress:
                progress(len(batch))
            batch = []
    if read and rejected == read:
        raise SourceFileError(f"every row was rejected ({read:,}); the first, {first}")
    given += _add_rows(store, table, batch, untrusted)
    if progress:
        progress(len(batch))
    report.read[table] = read
    report.skipped[table] = skipped
    report.rejected[table] = rejected
    return given


def _add_rows(store: Store, table: str, batch: list[tuple[Any, ...]], untrusted: set[str]) -> int:
    """Add a file's rows; a file is the retailer's word, so an order or repair a public key
    named first is the file's (its lines and status trail come in the files after)."""
    if untrusted and table == "activity_orders":
        store.release_orders([str(r[0]) for r in batch], untrusted)
    if untrusted and table == "activity_repairs":
        store.release_repairs([str(r[0]) for r in batch], untrusted)
    return store.add_activity(table, batch)


def count_rows(directory: Path) -> int:
    """Rows in the activity files (for a progress bar)."""
    total = 0
    for path in activity_files(directory).values():
        with path.open("rb") as handle:
            total += max(0, sum(1 for _ in handle) - 1)
    return total


# --------------------------------------------------------------------- collected events
def _props(payload: dict[str, Any]) -> dict[str, Any]:
    props = payload.get("properties")
    return props if isinstance(props, dict) else {}


def _products(props: dict[str, Any]) -> list[dict[str, Any]]:
    products = props.get("products")
    if isinstance(products, list):
        return [p for p in products if isinstance(p, dict)]
    return [props] if props.get("sku") or props.get("product_id") else []


def _sku(product: dict[str, Any]) -> str:
    return str(product.get("sku") or product.get("product_id") or "")


@dataclass
class _Rows:
    by_table: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {t: [] for t in ACTIVITY_TABLES}
    )

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.by_table[table].append(row)

    def drop(self, tables: Sequence[str], first: str) -> None:
        """Forget the rows of ``tables`` this run gathered whose first column is ``first``."""
        for table in tables:
            self.by_table[table] = [r for r in self.by_table[table] if r[0] != first]


_ORDER_TABLES = ("activity_orders", "activity_order_lines", "activity_returns")
_REPAIR_TABLES = ("activity_repairs", "activity_repair_events")


def _order_id(props: dict[str, Any]) -> str:
    return str(props.get("order_id") or props.get("checkout_id") or "")


class _Owners:
    """Whose each order and repair named by the events is (stored, or first named in this
    run): an untrusted source's events may act on their own visitor's only. A trusted
    source naming one an untrusted source's record holds takes it over (a public key may
    have named the id first: the till's and repair desk's ids are no secret)."""

    def __init__(self, store: Store, events: Sequence[LoggedEvent]) -> None:
        collected = [e for e in events if e.kind.startswith(KIND_PREFIX)]
        self.untrusted = store.untrusted_sources() if collected else set()
        self.unvouched: set[str] = set()  # orders an untrusted source placed in this run
        # Orders and repairs a trusted source took from an untrusted source's record.
        self.taken_orders: set[str] = set()
        self.taken_repairs: set[str] = set()
        orders: set[str] = set()
        repairs: set[str] = set()
        # With no untrusted source, no id can be held by one: nothing to look up.
        for event in collected if self.untrusted else ():
            props = _props(event.payload)
            orders.update(o for o in (_order_id(props), str(props.get("order_id") or "")) if o)
            if props.get("repair_id"):
                repairs.add(str(props["repair_id"]))
        # Records of theirs that came by file (or another writer): they do not speak for them.
        named = sorted({(e.source, str(e.record_id)) for e in collected
                        if e.source in self.untrusted and e.record_id})  # fmt: skip
        stored = set(store.record_states(named)) if named else set()
        self.foreign = stored - store.claimed_records(sorted(stored)) if stored else set()
        self._orders = store.order_keys(sorted(orders)) if orders else {}
        self._stored = set(self._orders)
        self._repairs: dict[str, RecordKey] = {}
        for repair_id in sorted(repairs):
            if (found := store.repair(repair_id)) is not None:
                self._repairs[repair_id] = (str(found[2]), str(found[3]))

    def take_order(self, key: RecordKey, order_id: str) -> bool:
        """Whether trusted ``key`` takes ``order_id`` from the untrusted record holding it."""
        owner = self._orders.get(order_id)
        if not order_id or key[0] in self.untrusted or owner is None:
            return False
        if owner[0] not in self.untrusted:
            return False
        self._orders[order_id] = key
        self.unvouched.discard(order_id)
        self.taken_orders.add(order_id)
        return True

    def take_repair(self, key: RecordKey, repair_id: str) -> bool:
        """Whether trusted ``key`` takes ``repair_id`` from the untrusted record holding it."""
        owner = self._repairs.get(repair_id)
        if key[0] in self.untrusted or owner is None or owner[0] not in self.untrusted:
            return False
        self._repairs[repair_id] = key
        self.taken_repairs.add(repair_id)
        return True

    def may_place(self, key: RecordKey, order_id: str) -> bool:
        """Whether ``key`` may place ``order_id``: a trusted source always (placing a
        stored order again changes nothing), an untrusted one a new order or its own."""
        if not order_id:
            return True
        owner = self._orders.setdefault(order_id, key)
        if key[0] not in self.untrusted:
            return True
        if owner == key and order_id not in self._stored:
            self.unvouched.add(order_id)
        return owner == key

    def may_refund(self, key: RecordKey, order_id: str) -> bool:
        return key[0] not in self.untrusted or self._orders.get(order_id) == key

    def may_repair(self, key: RecordKey, repair_id: str) -> bool:
        owner = self._repairs.setdefault(repair_id, key)
        return key[0] not in self.untrusted or owner == key


def _order(rows: _Rows, key: RecordKey, at: str, props: dict[str, Any]) -> None:
    order_id = _order_id(props)
    if not order_id:
        return
    products = _products(props)
    total = props.get("total", props.get("revenue"))
    if total is None:
        total = sum(Decimal(str(p.get("price", 0))) * int(p.get("quantity", 1)) for p in products)
    channel = str(props.get("channel") or ("pos" if props.get("store_id") else "web"))
    rows.add(
        "activity_orders",
        (order_id, *key, channel, str(props.get("store_id") or ""),
         str(props.get("associate_id") or ""), at, str(props.get("currency") or "GBP"),
         minor(total)),
    )  # fmt: skip
    for n, p in enumerate(products, 1):
        rows.add(
            "activity_order_lines",
            (order_id, n, _sku(p), int(p.get("quantity", 1)), minor(p.get("price", 0)),
             serial(p.get("serial_number"))),
        )  # fmt: skip


def _refund(rows: _Rows, at: str, props: dict[str, Any]) -> None:
    order_id = str(props.get("order_id") or "")
    products = _products(props)
    if not order_id:
        return
    if not products:
        rows.add("activity_returns", (order_id, "", at, minor(props.get("total", 0))))
    for p in products:
        amount = Decimal(str(p.get("price", 0))) * int(p.get("quantity", 1))
        rows.add("activity_returns", (order_id, _sku(p), at, minor(amount)))


def record_activity(store: Store, events: Sequence[LoggedEvent]) -> list[str]:
    """Write what collected track and page events say customers did (in the caller's
    transaction); returns the repairs whose status changed (an e-mail is queued for each).

    An untrusted source's events speak for their own visitor only (see services/trust.py):
    for no record they did not make (its browsing stays the anonymous visitor's), for no
    order or repair another record holds; their orders are kept apart as unvouched (not
    her purchases until she is verified), and they never queue mail. An order or repair
    such a source named first is taken over by a trusted source that names it: its rows
    (lines, returns, status trail) are replaced by the trusted source's."""
    rows = _Rows()
    repairs: list[tuple[str, str, str, str]] = []  # repair id, status, at, store
    owners = _Owners(store, events)
    for event in events:
        if not event.kind.startswith(KIND_PREFIX):
            continue  # records imported from files: no activity of their own
        payload = event.payload
        kind = event.kind.removeprefix(KIND_PREFIX)
        at = str(payload.get("timestamp") or payload.get("receivedAt") or event.recorded_at)
        user = event.record_id or payload.get("userId")
        key: RecordKey = (event.source, str(user)) if user else ("", "")
        if key in owners.foreign:  # a public key naming a record it did not make
            user, key = None, ("", "")
        props = _props(payload)
        anonymous = str(event.anonymous_id or "")
        if kind == "page":
            rows.add("activity_browsing", (anonymous or key[1], "", *key, "page", "", at))
            continue
        if kind != "track":
            continue
        name = str(payload.get("event") or "")
        if name in _BROWSING:
            session = str(props.get("cart_id") or props.get("checkout_id") or "")
            for p in _products(props) or [{}]:
                rows.add(
                    "activity_browsing",
                    (anonymous or key[1], session, *key, _BROWSING[name], _sku(p), at),
                )
        elif not user:
            continue
        elif name == "Order Completed":
            if owners.take_order(key, _order_id(props)):  # the squatter's rows go
                rows.drop(_ORDER_TABLES, _order_id(props))
            if owners.may_place(key, _order_id(props)):
                _order(rows, key, at, props)
        elif name == "Order Refunded":
            if owners.may_refund(key, str(props.get("order_id") or "")):
                _refund(rows, at, props)
        elif name in _EMAIL:
            campaign = str(props.get("campaign_id") or props.get("email_id") or "")
            url = str(props.get("link_url") or "")
            rows.add("activity_email", (*key, campaign, _EMAIL[name], at, url))
        elif name == "Product Registered":
            rows.add(
                "activity_registrations",
                (*key, serial(props.get("serial_number")), _sku(props),
                 str(props.get("store_id") or ""), str(props.get("purchase_date") or ""), at),
            )  # fmt: skip
        elif name in ("Repair Received", "Repair Status Changed"):
            repair_id = str(props.get("repair_id") or "")
            status = str(props.get("status") or "received")
            store_id = str(props.get("store_id") or "")
            if not repair_id or status not in REPAIR_STATUSES:
                continue
            if owners.take_repair(key, repair_id):  # its trail as the trusted source tells it
                rows.drop(_REPAIR_TABLES, repair_id)
            if not owners.may_repair(key, repair_id):
                continue
            rows.add(
                "activity_repairs",
                (repair_id, serial(props.get("serial_number")), *key, store_id, at),
            )
            rows.add("activity_repair_events", (repair_id, status, at, store_id))
            if key[0] not in owners.untrusted:  # a public key never makes Kenning write
                repairs.append((repair_id, status, at, store_id))
    # Before the new status is checked against the trail: the squatter's trail is gone.
    store.release_orders(sorted(owners.taken_orders), owners.untrusted)
    store.release_repairs(sorted(owners.taken_repairs), owners.untrusted)
    changed = [
        r for r in repairs if not store.has_activity("activity_repair_events", {
            "repair_id": r[0], "status": r[1], "at": r[2]})
    ]  # fmt: skip
    for table, batch in rows.by_table.items():
        store.add_activity(table, batch)
    store.add_unvouched_orders(owners.unvouched)
    if changed:
        for repair_id, status, at, store_id in changed:
            queue_repair_mail(store, repair_id, status, at, store_id)
    return [r[0] for r in changed]
