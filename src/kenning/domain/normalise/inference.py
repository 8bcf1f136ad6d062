"""The country of a record that does not say, from evidence that can only mean one country.

Till and list exports often leave the country out, and a phone number means nothing without
it. Only unambiguous shapes count: a UK, Canadian, Irish or Dutch postcode, a US ZIP+4, a
number in international form, or a North American number written the North American way
("(215) 555-0134": ten digits starting 2-9, which no European national format has). A bare
five-digit code could be a ZIP or a German, French, Spanish or Italian postcode, so alone it
decides nothing.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from kenning.domain.normalise.postcode import _CA, _GB, _IE, _NL

_COMPACT = re.compile(r"[\s-]+")
_ZIP_PLUS_4 = re.compile(r"[0-9]{5}-[0-9]{4}")
_NANP = re.compile(r"(?:\+?1[\s.-]?)?\(?([2-9][0-9]{2})\)?[\s.-]?[2-9][0-9]{2}[\s.-]?[0-9]{4}")
_NON_DIGITS = re.compile(r"[^0-9]+")
_INTERNATIONAL = re.compile(r"(?:\+|00)\s*([1-9][0-9\s().-]{6,})")


def _from_postcode(raw: str) -> str | None:
    text = raw.strip().upper()
    if _ZIP_PLUS_4.fullmatch(text):
        return "US"
    compact = _COMPACT.sub("", text)
    for pattern, country in ((_GB, "GB"), (_CA, "CA"), (_IE, "IE"), (_NL, "NL")):
        if pattern.fullmatch(compact):
            return country
    return None


def _from_phone(raw: str) -> str | None:
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    digits = _NON_DIGITS.sub("", text)
    if _NANP.fullmatch(text):
        return _nanp_region(digits[-10:-7])
    if _INTERNATIONAL.match(text):
        if digits.startswith("1") and len(digits) == 11:
            return _nanp_region(digits[1:4])
        for size in (1, 2, 3):
            code = int(digits[:size])
            if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                region = phonenumbers.region_code_for_country_code(code)
                return region if region != "001" else None
    return None


@lru_cache(maxsize=1024)
def _nanp_region(area_code: str) -> str | None:
    """The country of a North American area code (215: US, 416: CA, 876: JM)."""
    try:
        number = phonenumbers.parse(f"+1{area_code}2345678", None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.region_code_for_number(number)


@lru_cache(maxsize=32_768)
def infer_country(postcode: str | None, phone: str | None) -> str | None:
    """ISO alpha-2 when the postcode or the phone can only belong to one country; they must
    not disagree."""
    by_postcode = _from_postcode(postcode) if postcode else None
    by_phone = _from_phone(phone) if phone else None
    if by_postcode and by_phone and by_postcode != by_phone:
        return None  # a foreign number at a UK address: no guess
    return by_postcode or by_phone
