"""Normalisers: pure functions from a raw source value to a comparable one, with a verdict.

Each returns a `Cleaned` value that says whether the input was usable (OK), absent
(MISSING), a filler such as "N/A" or 0000000000 (PLACEHOLDER), or malformed (INVALID).
"""

from kenning.domain.normalise.address import Address, address_key, normalise_address
from kenning.domain.normalise.country import normalise_country
from kenning.domain.normalise.dates import normalise_birth_date, parse_date, parse_timestamp
from kenning.domain.normalise.email import email_domain, normalise_email
from kenning.domain.normalise.identifiers import normalise_identifier
from kenning.domain.normalise.inference import infer_country, market_of, phone_in_markets
from kenning.domain.normalise.names import (
    canonical_first_names,
    is_initial,
    name_key,
    normalise_first_name,
    normalise_name,
    split_full_name,
    strip_accents,
)
from kenning.domain.normalise.phone import normalise_phone, phone_kind
from kenning.domain.normalise.placeholders import is_placeholder_text
from kenning.domain.normalise.postcode import normalise_postcode, postcode_district
from kenning.domain.normalise.result import Cleaned, Verdict

__all__ = [
    "Address",
    "Cleaned",
    "Verdict",
    "address_key",
    "canonical_first_names",
    "email_domain",
    "infer_country",
    "is_initial",
    "is_placeholder_text",
    "market_of",
    "name_key",
    "normalise_address",
    "normalise_birth_date",
    "normalise_country",
    "normalise_email",
    "normalise_first_name",
    "normalise_identifier",
    "normalise_name",
    "normalise_phone",
    "normalise_postcode",
    "parse_date",
    "parse_timestamp",
    "phone_in_markets",
    "phone_kind",
    "postcode_district",
    "split_full_name",
    "strip_accents",
]
