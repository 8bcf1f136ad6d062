"""Telephone numbers to E.164, with filler numbers told apart from real ones.

phonenumbers costs ~40 µs a number, so results are cached by the digits that matter:
"(215) 555-0134", "215.555.0134" and "2155550134" in the US share one parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from kenning.domain.normalise.placeholders import is_placeholder_text
from kenning.domain.normalise.result import Cleaned, invalid, missing, ok, placeholder

_CACHE_SIZE = 65_536
_NEEDS_CARE = re.compile(r"[A-Za-z#;]")  # an extension, a "tel:" prefix or a vanity number
_EXTENSION = re.compile(
    r"\s*[,;]?\s*(?:ext(?:ension)?|x|#|;?ext=)\.?\s*:?\s*\d{1,7}\s*$", re.IGNORECASE
)
_TEL_PREFIX = re.compile(r"^\s*(?:tel|phone|mob(?:ile)?|cell|home|work|t|m)\s*[:.]\s*", re.I)
_LETTER = re.compile(r"[A-Za-z]")
_NON_DIGITS = re.compile(r"[^0-9]+")
_SEVERAL = re.compile(r"\s*(?:/|,|;|&|\bor\b)\s*")  # "07911 123456 / 020 7946 0958"
_ASCENDING = "01234567890123456789"
_DESCENDING = "98765432109876543210"
_MIN_DIGITS = 5
_MAX_DIGITS = 17  # 15 for E.164 plus an IDD prefix such as 011


def _is_filler(digits: str) -> bool:
    """0000000000, 1234567890, 5555555, 0700000000 and the like."""
    return len(digits) >= 7 and (
        len(set(digits)) < 4 or digits in _ASCENDING or digits in _DESCENDING
    )


def _judge(text: str, region: str | None, digits: str) -> Cleaned[str]:
    if _is_filler(digits):
        return placeholder()
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return invalid()
    if _is_filler(str(number.national_number)):
        return placeholder()
    if not _in_numbering_plan(number):
        return invalid()
    return ok(phonenumbers.format_number(number, PhoneNumberFormat.E164))


@lru_cache(maxsize=512)
def _plan_pattern(country_code: int) -> re.Pattern[str] | None:
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None:
        return None
    pattern = metadata.general_desc.national_number_pattern
    return re.compile(pattern) if pattern else None


def _in_numbering_plan(number: phonenumbers.PhoneNumber) -> bool:
    """Whether the number lies in its country's numbering plan (the metadata's general
    pattern, as libphonenumber's own validity rests on). is_valid_number also works out the
    line type, which costs 15-20 µs a number — half an import's time; the line type is only
    needed for phone_kind, later and on far fewer numbers."""
    pattern = _plan_pattern(number.country_code or 0)
    if pattern is None:
        return bool(phonenumbers.is_valid_number(number))
    national = phonenumbers.national_significant_number(number)
    return pattern.fullmatch(national) is not None and phonenumbers.is_possible_number(number)


@dataclass(frozen=True, slots=True)
class _Plan:
    """What the fast path needs of one region's numbering plan."""

    country_code: int
    pattern: re.Pattern[str]
    lengths: frozenset[int]
    national_prefix: re.Pattern[str] | None
    international_prefix: re.Pattern[str] | None


@lru_cache(maxsize=512)
def _plan(region: str) -> _Plan | None:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None or metadata.country_code is None:
        return None
    desc = metadata.general_desc
    if not desc.national_number_pattern or metadata.national_prefix_transform_rule:
        return None  # plans that rewrite numbers (AR, MX, …) always take the full parser
    prefix = metadata.national_prefix_for_parsing or metadata.national_prefix
    return _Plan(
        metadata.country_code,
        re.compile(desc.national_number_pattern),
        frozenset(desc.possible_length),
        re.compile(prefix) if prefix else None,
        re.compile(metadata.international_prefix) if metadata.international_prefix else None,
    )


def _fast_e164(international: bool, digits: str, region: str | None) -> tuple[str, str] | None:
    """(E.164, national number) for a plain digit string, without phonenumbers.parse, which
    costs ~25 µs a number — most of an import's time when numbers are new.

    Follows libphonenumber's own steps for the ordinary case — country code, then national
    prefix stripped when what remains is viable, then the plan's pattern and lengths — and
    answers only when they succeed; anything else (None) goes to the full parser. A test
    holds the two to the same answers.
    """
    if international:
        if digits[0] == "0":
            return None  # no country code starts with 0
        for size in (1, 2, 3):
            code = int(digits[:size])
            if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                region = phonenumbers.region_code_for_country_code(code)
                national = digits[size:]
                break
        else:
            return None
    elif region is None:
        return None
    else:
        national = digits
    plan = _plan(region)
    if plan is None:
        return None
    idd = plan.international_prefix
    if not international and idd is not None and idd.match(national):
        return None  # dialled out, e.g. 011 44… in the US: the full parser knows the rules
    if plan.national_prefix is not None:
        found = plan.national_prefix.match(national)
        if found is not None and found.end() and not any(found.groups()):
            stripped = national[found.end() :]
            if plan.pattern.fullmatch(stripped):
                national = stripped
            elif not plan.pattern.fullmatch(national):
                return None
    if len(national) in plan.lengths and plan.pattern.fullmatch(national):
        return f"+{plan.country_code}{national}", national
    return None


@lru_cache(maxsize=_CACHE_SIZE)
def _from_digits(international: bool, digits: str, region: str | None) -> Cleaned[str]:
    if not _MIN_DIGITS <= len(digits) <= _MAX_DIGITS:
        return invalid()
    if _is_filler(digits):
        return placeholder()
    fast = _fast_e164(international, digits, region)
    if fast is not None:
        e164, national = fast
        # As _judge does, on the national number as libphonenumber holds it (an integer).
        return placeholder() if _is_filler(national.lstrip("0")) else ok(e164)
    if international:
        return _judge("+" + digits, None, digits)
    if region is None:
        return invalid()  # a national number means nothing without its country
    return _judge(digits, region, digits)


def _from_text(text: str, region: str | None) -> Cleaned[str]:
    # Vanity numbers ("1-800-FLOWERS") and labelled values: phonenumbers reads the letters.
    return _judge(text, region, _NON_DIGITS.sub("", text))


# In front of the digits cache: the same raw text recurs in every record of its owner, and a
# hit here skips the ~2 µs of digit extraction.
@lru_cache(maxsize=_CACHE_SIZE // 2)
def normalise_phone(raw: str | None, country: str | None) -> Cleaned[str]:
    """E.164 ("+442079460958") from a number written any usual way; `country` (ISO alpha-2)
    is the region for numbers without an international prefix."""
    if raw is None:
        return missing()
    text = raw.strip()
    if not text:
        return missing()
    region = country.upper() if country else None
    if region == "UK":
        region = "GB"  # the one alpha-2 slip common enough to forgive
    if _NEEDS_CARE.search(text):
        text = _TEL_PREFIX.sub("", _EXTENSION.sub("", text))
        if _LETTER.search(text):
            if is_placeholder_text(text):
                return placeholder()
            return _from_text(text, region)
    digits = _NON_DIGITS.sub("", text)
    if not digits:
        return placeholder() if is_placeholder_text(text) else invalid()
    if digits.count(digits[0]) == len(digits):
        return placeholder()  # "0", "000", "99999999999"
    if len(digits) > _MAX_DIGITS - 2:
        text = next((p for p in _SEVERAL.split(text) if _NON_DIGITS.sub("", p)), text)
        digits = _NON_DIGITS.sub("", text)
    international = text.lstrip(" (")[:1] == "+"
    if not international and digits.startswith("00"):
        international, digits = True, digits[2:]
    return _from_digits(international, digits, None if international else region)


_KINDS = {PhoneNumberType.MOBILE: "mobile", PhoneNumberType.FIXED_LINE: "fixed_line"}


@lru_cache(maxsize=_CACHE_SIZE // 2)
def phone_kind(e164: str) -> str:
    """The line type: "mobile", "fixed_line" or "other". Where the numbering plan cannot tell
    the two apart (the US and Canada) the answer is "other": it may be a household landline."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return "other"
    return _KINDS.get(phonenumbers.number_type(number), "other")
