"""The canonical source record: the interchange format every part of Kenning relies on.

A source record is what one system (a till, the web shop, the repair desk, the e-mail list,
loyalty) knows about one person, keyed by ``(source, record_id)``. It arrives as strings; the
normalised view derived from it is what identity resolution compares. The raw record is kept
as received, so the normalised view can always be recomputed when the rules improve.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any

import orjson

# Order matters: it is the column order of exports and of the documentation.
CANONICAL_FIELDS: tuple[str, ...] = (
    "source",
    "record_id",
    "first_name",
    "last_name",
    "full_name",
    "email",
    "phone",
    "date_of_birth",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postcode",
    "country",
    "loyalty_id",
    "serial_number",
    "updated_at",
)
DETAIL_FIELDS: tuple[str, ...] = CANONICAL_FIELDS[2:]
_CANONICAL = frozenset(CANONICAL_FIELDS)

# Headers real exports use for the canonical columns. Matching is on the folded header
# (lower case, separators as underscores), so "First Name" and "first-name" both work.
COLUMN_ALIASES: dict[str, str] = {
    "id": "record_id",
    "customer_id": "record_id",
    "firstname": "first_name",
    "given_name": "first_name",
    "forename": "first_name",
    "lastname": "last_name",
    "surname": "last_name",
    "family_name": "last_name",
    "name": "full_name",
    "fullname": "full_name",
    "customer_name": "full_name",
    "e_mail": "email",
    "email_address": "email",
    "mail": "email",
    "phone_number": "phone",
    "telephone": "phone",
    "tel": "phone",
    "mobile": "phone",
    "dob": "date_of_birth",
    "birth_date": "date_of_birth",
    "birthdate": "date_of_birth",
    "birthday": "date_of_birth",
    "address": "address_line1",
    "address1": "address_line1",
    "street": "address_line1",
    "address2": "address_line2",
    "town": "city",
    "state": "region",
    "county": "region",
    "province": "region",
    "zip": "postcode",
    "zipcode": "postcode",
    "zip_code": "postcode",
    "postal_code": "postcode",
    "post_code": "postcode",
    "country_code": "country",
    "loyalty_number": "loyalty_id",
    "loyalty_card": "loyalty_id",
    "serial": "serial_number",
    "serial_no": "serial_number",
    "last_modified": "updated_at",
    "modified_at": "updated_at",
    "updated": "updated_at",
}

_SOURCE_RE = re.compile(r"[a-z0-9][a-z0-9_.:-]{0,63}")
_FOLD_RE = re.compile(r"[\s\-./]+")
MAX_RECORD_ID = 256


class RecordError(ValueError):
    """A row that cannot become a source record; the message says why, for the import report."""


# Headers compared without separators too: "E-mail Address", "FirstName", "post_code".
_COMPACT: dict[str, str] = {
    **{name.replace("_", ""): name for name in CANONICAL_FIELDS},
    **{alias.replace("_", ""): name for alias, name in COLUMN_ALIASES.items()},
}


def fold_column(name: str) -> str:
    """The canonical column a file header stands for (or the folded header itself)."""
    folded = _FOLD_RE.sub("_", name.strip().lower()).strip("_")
    return _COMPACT.get(folded.replace("_", ""), folded)


def check_source_name(name: str) -> str:
    """A source name as stored: lower case, short, no spaces (it appears in ids and URLs)."""
    cleaned = name.strip().lower()
    if not _SOURCE_RE.fullmatch(cleaned):
        raise RecordError(
            f"invalid source name {name!r}: use up to 64 letters, digits, '_', '-', '.' or ':'"
        )
    return cleaned


@dataclass(slots=True)
class SourceRecord:
    """One record as a source system holds it: canonical fields as text plus extra attributes."""

    source: str
    record_id: str
    fields: dict[str, str] = field(default_factory=dict)  # canonical detail fields, non-empty
    attributes: dict[str, Any] = field(default_factory=dict)  # every other column

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.record_id)

    def to_payload(self) -> dict[str, Any]:
        """The record as the event log stores it."""
        payload: dict[str, Any] = {"source": self.source, "record_id": self.record_id}
        payload.update(self.fields)
        if self.attributes:
            payload["attributes"] = self.attributes
        return payload

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> SourceRecord:
        attributes = payload.get("attributes") or {}
        fields = {k: v for k, v in payload.items() if k in _CANONICAL and k not in _KEY_FIELDS}
        return cls(str(payload["source"]), str(payload["record_id"]), fields, dict(attributes))

    def canonical_json(self) -> bytes:
        """The payload as JSON with sorted keys: the same record always gives the same bytes,
        whatever the column order of the file it came from."""
        return orjson.dumps(self.to_payload(), option=orjson.OPT_SORT_KEYS, default=str)


def content_hash(canonical_json: bytes) -> str:
    """A digest of everything a record says, to tell an update from a repeat."""
    return blake2b(canonical_json, digest_size=16).hexdigest()


_KEY_FIELDS = frozenset(("source", "record_id"))


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, bool):
        raise RecordError("expected text, found a boolean")
    elif isinstance(value, int | float):
        # Spreadsheets and JSON turn phone numbers and ids into numbers; 2155550134.0 is an id.
        text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    elif isinstance(value, dict | list):
        raise RecordError("expected text, found a nested object")
    else:
        text = str(value).strip()
    return text or None


def build_record(
    row: Mapping[str, Any], default_source: str | None = None, default_country: str | None = None
) -> SourceRecord:
    """A source record from one row whose keys are already folded column names.

    ``default_source`` and ``default_country`` fill in a record that lacks them, as if the
    file had those columns (a till export seldom says which country it is in).

    Raises RecordError with a reason fit for the import report.
    """
    fields: dict[str, str] = {}
    attributes: dict[str, Any] = {}
    source: str | None = None
    record_id: str | None = None
    for name, value in row.items():
        if name in _CANONICAL:
            if value.__class__ is str:  # the common case, kept cheap: a million rows per import
                text = value.strip() or None
            else:
                try:
                    text = _as_text(value)
                except RecordError as exc:
                    raise RecordError(f"{name}: {exc}") from None
            if text is None:
                continue
            if name == "source":
                source = text
            elif name == "record_id":
                record_id = text
            else:
                fields[name] = text
        elif value is not None and value != "":
            attributes[name] = value
    source = source or default_source
    if source is None:
        raise RecordError("no source: add a 'source' column or name one with --source")
    if record_id is None:
        raise RecordError("record_id is missing")
    if default_country and "country" not in fields:
        fields["country"] = default_country
    if len(record_id) > MAX_RECORD_ID:
        raise RecordError(f"record_id is longer than {MAX_RECORD_ID} characters")
    return SourceRecord(check_source_name(source), record_id, fields, attributes)
