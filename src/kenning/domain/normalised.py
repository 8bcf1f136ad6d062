"""The normalised view of a source record: what identity resolution compares.

Every field is either a clean value or None. A value that was present but a placeholder
(``noemail@…``, ``0000000000``) or malformed is dropped as evidence and noted in ``dropped``
so the import report can count it.
"""

from __future__ import annotations

from typing import NamedTuple

from kenning.domain.normalise import (
    Verdict,
    infer_country,
    normalise_address,
    normalise_birth_date,
    normalise_country,
    normalise_email,
    normalise_first_name,
    normalise_identifier,
    normalise_name,
    normalise_postcode,
    parse_timestamp,
    phone_in_markets,
    split_full_name,
)
from kenning.domain.records import SourceRecord

# Columns of the normalised view, in storage order (after source and record_id).
NORMALISED_FIELDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "date_of_birth",
    "house_number",
    "street",
    "unit",
    "city",
    "region",
    "postcode",
    "country",
    "loyalty_id",
    "serial_number",
    "updated_at",
)


class NormalisedRecord(NamedTuple):
    """A named tuple rather than a dataclass: a million of them are built per import."""

    source: str
    record_id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None  # E.164
    date_of_birth: str | None = None  # ISO date
    house_number: str | None = None
    street: str | None = None
    unit: str | None = None
    city: str | None = None
    region: str | None = None
    postcode: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2
    loyalty_id: str | None = None
    serial_number: str | None = None
    updated_at: str | None = None  # ISO timestamp, UTC
    # (field, verdict) for each value present in the source but dropped as evidence.
    dropped: tuple[tuple[str, Verdict], ...] = ()

    def values(self) -> tuple[str | None, ...]:
        """The normalised fields in NORMALISED_FIELDS order, for bulk writes."""
        return self[2:17]


_OK, _MISSING = Verdict.OK, Verdict.MISSING


def _simple_text(raw: str | None) -> str | None:
    """City and region: compared case-insensitively with collapsed whitespace."""
    if raw is None:
        return None
    cleaned = normalise_name(raw)
    return cleaned.value if cleaned.ok else None


def normalise_record(record: SourceRecord, markets: tuple[str, ...] = ()) -> NormalisedRecord:
    """Derive the comparable view of a record; never raises on bad values. ``markets`` are
    the countries the retailer trades in (ISO alpha-2), for records that do not say."""
    f = record.fields
    dropped: list[tuple[str, Verdict]] = []

    def note(name: str, verdict: Verdict) -> None:
        if verdict is not _OK and verdict is not _MISSING:
            dropped.append((name, verdict))

    country: str | None = None
    if "country" in f:
        c = normalise_country(f["country"])
        note("country", c.verdict)
        country = c.value
    if country is None:
        country = infer_country(f.get("postcode"), f.get("phone"), markets)

    first_raw, last_raw = f.get("first_name"), f.get("last_name")
    if (first_raw is None or last_raw is None) and "full_name" in f:
        split_first, split_last = split_full_name(f["full_name"])
        first_raw = first_raw or split_first
        last_raw = last_raw or split_last
    first = normalise_first_name(first_raw)
    last = normalise_name(last_raw)
    # A till's filler split over both boxes ("Walk" "In", "Cash" "Sale") is no one's name.
    if first_raw and last_raw:
        whole = normalise_name(f"{first_raw} {last_raw}")
        if whole.verdict is Verdict.PLACEHOLDER:
            first = last = whole
    note("first_name", first.verdict)
    note("last_name", last.verdict)

    email = normalise_email(f.get("email"))
    note("email", email.verdict)
    phone = phone_in_markets(f.get("phone"), country, markets)
    note("phone", phone.verdict)
    dob = normalise_birth_date(f.get("date_of_birth"), country)
    note("date_of_birth", dob.verdict)

    house_number = street = unit = None
    if "address_line1" in f or "address_line2" in f:
        address = normalise_address(f.get("address_line1"), f.get("address_line2"), country)
        note("address", address.verdict)
        if address.value is not None:
            house_number = address.value.house_number
            street = address.value.street
            unit = address.value.unit

    postcode = normalise_postcode(f.get("postcode"), country)
    note("postcode", postcode.verdict)
    loyalty = normalise_identifier(f.get("loyalty_id"))
    note("loyalty_id", loyalty.verdict)
    serial = normalise_identifier(f.get("serial_number"))
    note("serial_number", serial.verdict)

    updated_at = None
    if "updated_at" in f:
        stamp = parse_timestamp(f["updated_at"])
        if stamp is None:
            dropped.append(("updated_at", Verdict.INVALID))
        else:
            updated_at = stamp.isoformat()

    return NormalisedRecord(
        source=record.source,
        record_id=record.record_id,
        first_name=first.value,
        last_name=last.value,
        email=email.value,
        phone=phone.value,
        date_of_birth=dob.value.isoformat() if dob.value is not None else None,
        house_number=house_number,
        street=street,
        unit=unit,
        city=_simple_text(f.get("city")),
        region=_simple_text(f.get("region")),
        postcode=postcode.value,
        country=country,
        loyalty_id=loyalty.value,
        serial_number=serial.value,
        updated_at=updated_at,
        dropped=tuple(dropped),
    )
