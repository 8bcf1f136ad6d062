"""The country of a record that does not say, from evidence that can only mean one country.

Till and list exports often leave the country out, and a phone number means nothing without
it. Only unambiguous shapes count: a UK, Canadian, Irish or Dutch postcode, a US ZIP+4, a
number in international form, or a North American number written the North American way
("(215) 555-0134": ten digits starting 2-9, which no European national format has). A bare
five-digit code could be a ZIP or a German, French, Spanish or Italian postcode, so alone it
decides nothing.

Within a retailer's markets (the countries it trades in, as its settings name them) more is
unambiguous: "07911 123456" fits the British plan and no American one, "19146" an American
ZIP and no British postcode. A value that fits exactly one market is read as that market's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

import phonenumbers

from kenning.domain.normalise.phone import normalise_phone
from kenning.domain.normalise.postcode import _CA, _GB, _IE, _NL, normalise_postcode
from kenning.domain.normalise.result import Cleaned, Verdict

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


def market_of(
    raw: str | None, markets: tuple[str, ...], read: Callable[[str, str], Cleaned[str]]
) -> str | None:
    """The one market whose format `read` finds ``raw`` fits; None when none or several do."""
    if not raw or not markets:
        return None
    fits = [market for market in markets if read(raw, market).ok]
    return fits[0] if len(fits) == 1 else None


def phone_in_markets(
    raw: str | None, country: str | None, markets: tuple[str, ...] = ()
) -> Cleaned[str]:
    """The number read in ``country``, or else in the one other market it fits: a visitor's
    number at a till ("07700 900123" in a US store), or a country box left at a default."""
    phone = normalise_phone(raw, country)
    if phone.verdict is Verdict.INVALID:
        market = market_of(raw, tuple(m for m in markets if m != country), normalise_phone)
        if market is not None:
            return normalise_phone(raw, market)
    return phone


@lru_cache(maxsize=32_768)
def infer_country(
    postcode: str | None, phone: str | None, markets: tuple[str, ...] = ()
) -> str | None:
    """ISO alpha-2 when the postcode or the phone can only belong to one country, or to one
    of the retailer's ``markets``; they must not disagree."""
    by_postcode = _from_postcode(postcode) if postcode else None
    by_phone = _from_phone(phone) if phone else None
    by_postcode = by_postcode or market_of(postcode, markets, normalise_postcode)
    by_phone = by_phone or market_of(phone, markets, normalise_phone)
    if by_postcode and by_phone and by_postcode != by_phone:
        return None  # a foreign number at a UK address: no guess
    return by_postcode or by_phone
