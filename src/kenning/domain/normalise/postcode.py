"""Postal codes in their national format ("sw1a1aa" → "SW1A 1AA", "2134" → US "02134")."""

from __future__ import annotations

import re
from functools import lru_cache

from kenning.domain.normalise.placeholders import is_placeholder_text
from kenning.domain.normalise.result import Cleaned, invalid, missing, ok, placeholder

_WHITESPACE = re.compile(r"\s+")
_GB_COUNTRIES = frozenset({"GB", "UK", "GG", "JE", "IM"})  # Crown Dependencies use UK codes
_GB = re.compile(
    r"(?:[A-PR-UWYZ][0-9][0-9]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
    r"[0-9][ABD-HJLNP-UW-Z]{2}|GIR0AA"
)
_US = re.compile(r"([0-9]{4,5})(?:-?[0-9]{4})?")
_CA = re.compile(r"[ABCEGHJ-NPRSTVXY][0-9][ABCEGHJ-NPRSTV-Z][0-9][ABCEGHJ-NPRSTV-Z][0-9]")
_IE = re.compile(r"(?:[ACDEFHKNPRTVWXY][0-9]{2}|D6W)[0-9ACDEFHKNPRTVWXY]{4}")
_NL = re.compile(r"[1-9][0-9]{3}(?!SA|SD|SS)[A-Z]{2}")
_COUNTRY_PREFIX = re.compile(r"[A-Z]{1,3}-")  # the old "D-80331", "CH-8001" convention
# Digits only, with the length a value may have lost leading zeros down to (spreadsheets
# store "01067" Dresden as 1067 and "0800" Darwin as 800).
_DIGIT_FORMATS = {
    "DE": (5, 4),
    "FR": (5, 4),
    "IT": (5, 4),
    "ES": (5, 4),
    "AU": (4, 3),
    "NO": (4, 3),
    "AT": (4, 4),
    "BE": (4, 4),
    "CH": (4, 4),
    "DK": (4, 4),
}
_GB_FILLER_OUTWARD = "ZZ99"  # the NHS pseudo-postcode for no fixed abode


def _split_before(compact: str, inward: int) -> str:
    return f"{compact[:-inward]} {compact[-inward:]}"


def _national(compact: str, country: str) -> str | None:
    """The formatted code, or None when `compact` is not a code of `country`."""
    if country in _GB_COUNTRIES:
        return _split_before(compact, 3) if _GB.fullmatch(compact) else None
    if country == "US":
        match = _US.fullmatch(compact)
        return match.group(1).zfill(5) if match else None
    if country == "CA":
        return _split_before(compact, 3) if _CA.fullmatch(compact) else None
    if country == "IE":
        return _split_before(compact, 4) if _IE.fullmatch(compact) else None
    if country == "NL":
        return _split_before(compact, 2) if _NL.fullmatch(compact) else None
    size, shortest = _DIGIT_FORMATS[country]
    compact = _COUNTRY_PREFIX.sub("", compact, count=1)
    if compact.isdigit() and compact.isascii() and shortest <= len(compact) <= size:
        return compact.zfill(size)
    return None


_KNOWN = _GB_COUNTRIES | {"US", "CA", "IE", "NL"} | _DIGIT_FORMATS.keys()


@lru_cache(maxsize=32_768)  # a country has a few million codes; a customer base far fewer
def normalise_postcode(raw: str | None, country: str | None) -> Cleaned[str]:
    """The postcode in its country's canonical form; unknown countries are only uppercased
    and have their spacing collapsed."""
    if raw is None:
        return missing()
    text = raw.strip().upper()
    if not text:
        return missing()
    compact = _WHITESPACE.sub("", text)
    if (
        is_placeholder_text(text)
        or compact.count(compact[0]) == len(compact)
        or compact.startswith(_GB_FILLER_OUTWARD)
    ):
        return placeholder()  # N/A, XXXXX, 00000, 99999
    code = country.upper() if country else None
    if code is not None and code in _KNOWN:
        formatted = _national(compact, code)
        return invalid() if formatted is None else ok(formatted)
    if code is None and _GB.fullmatch(compact):
        return ok(_split_before(compact, 3))  # unmistakably British: format it so it compares
    if not any(c.isalnum() for c in compact):
        return invalid()
    return ok(_WHITESPACE.sub(" ", text))


def postcode_district(normalised: str, country: str | None) -> str | None:
    """The coarse area of a normalised postcode: the GB outward code ("SW1A") or the first
    three digits of a US ZIP; None elsewhere."""
    code = country.upper() if country else None
    if code == "US":
        return normalised[:3] if len(normalised) == 5 and normalised.isdigit() else None
    compact = normalised.replace(" ", "")
    if (code is None or code in _GB_COUNTRIES) and _GB.fullmatch(compact):
        return compact[:-3]
    return None
