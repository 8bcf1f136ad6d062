"""Who is this? Customers by id or by any identifier, their events, the change feed, and
manual links and unlinks applied at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kenning.domain.normalise import normalise_email, normalise_identifier, phone_in_markets
from kenning.domain.refusals import Refusal
from kenning.resolution.blocking import lookup_key
from kenning.resolution.settings import ResolutionSettings
from kenning.services.follow import ANONYMOUS_RECORD
from kenning.services.identity import MODEL_NAME
from kenning.services.matching import ModelCache, resolve_records
from kenning.store import Store
from kenning.store.identity import IdentityChangeRow
from kenning.store.realtime import LoggedEvent

RecordKey = tuple[str, str]
# The identifiers a customer is shown with, by normalised column.
_IDENTIFIERS = {
    "email": "emails",
    "phone": "phones",
    "loyalty_id": "loyalty_ids",
    "serial_number": "serial_numbers",
}
_SHOWN = ("first_name", "last_name", "email", "phone", "date_of_birth", "city", "postcode",
          "country", "loyalty_id", "serial_number")  # fmt: skip


@dataclass
class CustomerView:
    customer_id: str
    records: list[dict[str, Any]]
    identifiers: dict[str, list[str]]
    anonymous_ids: list[dict[str, str]] = field(default_factory=list)


def customer(store: Store, customer_id: str) -> CustomerView:
    rows, visitors = store.customer_view(customer_id, _SHOWN)
    if not rows:
        raise Refusal("not_found", f"no customer {customer_id}")
    identifiers: dict[str, set[str]] = {name: set() for name in _IDENTIFIERS.values()}
    records = []
    for source, record_id, *values in rows:
        record = {
            "source": source,
            "record_id": record_id,
            **dict(zip(_SHOWN, values, strict=True)),
        }
        records.append(record)
        for column, name in _IDENTIFIERS.items():
            if record[column]:
                identifiers[name].add(str(record[column]))
    return CustomerView(
        customer_id,
        records,
        {name: sorted(values) for name, values in identifiers.items()},
        [{"source": s, "anonymous_id": a} for s, a in visitors],
    )


def _normalised(column: str, value: str, country: str | None, markets: tuple[str, ...]) -> str:
    if column == "email":
        cleaned = normalise_email(value)
    elif column == "phone":
        cleaned = phone_in_markets(value, country, markets)
    else:
        cleaned = normalise_identifier(value)
    if cleaned.value is None:
        raise Refusal("invalid", f"{value!r} is not a usable {column.replace('_', ' ')}")
    return cleaned.value


def lookup(
    store: Store,
    *,
    email: str | None = None,
    phone: str | None = None,
    loyalty_id: str | None = None,
    serial_number: str | None = None,
    user_id: str | None = None,
    anonymous_id: str | None = None,
    source: str | None = None,
    record_id: str | None = None,
    country: str | None = None,
    markets: tuple[str, ...] = (),
) -> CustomerView:
    """The one customer an identifier belongs to. Several customers holding it (a family's
    shared e-mail) is a conflict, not a guess: showing one the other's data is the harm."""
    asked = {
        "email": email,
        "phone": phone,
        "loyalty_id": loyalty_id,
        "serial_number": serial_number,
        "user_id": user_id,
        "anonymous_id": anonymous_id,
        "record_id": record_id,
    }
    given = {k: v for k, v in asked.items() if v}
    if len(given) != 1:
        raise Refusal(
            "invalid",
            "look up by exactly one of email, phone, loyalty_id, serial_number, user_id, "
            "anonymous_id or record_id (with source)",
        )
    ((kind, value),) = given.items()
    if kind in _IDENTIFIERS:
        normalised = _normalised(kind, value, country, markets)
        key = lookup_key(kind, normalised)
        return _the_one(store, store.customers_holding(key, kind, normalised, source), kind, value)
    if kind == "record_id" and not source:
        raise Refusal("invalid", "record_id needs its source")
    sources = [source] if source else [s.name for s in store.sources()]
    if kind == "anonymous_id":
        keys = [
            (name, store.anonymous_record(name, value) or ANONYMOUS_RECORD + value)
            for name in sources
        ]
    else:
        keys = [(name, value) for name in sources]
    return _the_one(store, sorted(set(store.customers_of(keys).values())), kind, value)


def _the_one(store: Store, customers: list[str], kind: str, value: str) -> CustomerView:
    # A holder not resolved yet may be another person: no answer is safer than a guess.
    if customers == [""]:
        raise Refusal("not_found", f"the {kind.replace('_', ' ')} {value} is not resolved yet")
    if not customers:
        raise Refusal("not_found", f"no customer with {kind.replace('_', ' ')} {value}")
    if len(customers) > 1:
        raise Refusal(
            "ambiguous",
            f"{len(customers)} customers share this {kind.replace('_', ' ')}: "
            + ", ".join(c or "(not resolved yet)" for c in customers),
        )
    return customer(store, customers[0])


def events(
    store: Store, customer_id: str, before: int | None, limit: int
) -> tuple[list[LoggedEvent], int | None]:
    """A page of a customer's events, newest first, and the cursor of the next page."""
    if not store.customer_records(customer_id):
        raise Refusal("not_found", f"no customer {customer_id}")
    page = store.customer_events(customer_id, before, limit)
    return page, (page[-1].seq if len(page) == limit else None)


def changes(store: Store, since: int, limit: int) -> list[IdentityChangeRow]:
    return store.identity_changes(since, limit)


def correct(
    store: Store,
    kind: str,
    a: RecordKey,
    b: RecordKey,
    reason: str | None,
    models: ModelCache,
    settings: ResolutionSettings | None = None,
) -> dict[RecordKey, str | None]:
    """Record a must-link or cannot-link and resolve the two records again at once;
    returns their customers afterwards. Repeating it changes nothing."""
    for key in (a, b):
        if store.get_record(*key) is None:
            raise Refusal("not_found", f"no record {key[0]}:{key[1]}")
    if a == b:
        raise Refusal("invalid", "a record is always linked to itself")
    with store.transaction():
        store.serialise_identity()
        store.add_correction(kind, a, b, reason)
        model = models.get(store, MODEL_NAME)
        if model is not None:
            resolve_records(store, [a, b], model, settings or models.settings(store))
    placed = store.customers_of([a, b])
    return {key: placed.get(key) for key in (a, b)}
