"""Street addresses reduced to the parts that identify a dwelling: number, street, unit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from kenning.domain.normalise.names import fold_lower
from kenning.domain.normalise.placeholders import is_placeholder_text
from kenning.domain.normalise.result import Cleaned, invalid, missing, ok, placeholder


@dataclass(frozen=True, slots=True)
class Address:
    house_number: str | None
    street: str | None
    unit: str | None


_APOSTROPHES = re.compile(r"['’‘`´]")
_UNIT_SLASH = re.compile(r"^\s*(\d+[a-z]?)\s*/\s*(\d+[a-z]?)\b")  # "3/12 Smith St" (AU, NZ)
# Anything but letters, digits and "#"; hyphens only survive inside a range such as "12-14".
_PUNCTUATION = re.compile(r"[^a-z0-9#\s-]+|(?<![0-9])-|-(?![0-9])")
_HOUSE_NUMBER = re.compile(r"\d+[a-z]?(?:-\d+[a-z]?)?")
_UNIT_ID = re.compile(r"(?=.*\d)[a-z0-9-]{1,8}|[a-z]")

# fmt: off
_UNIT_WORDS = frozenset(
    ["apartment", "apt", "flat", "unit", "suite", "ste", "#", "floor", "fl", "room", "rm"]
)
_STREET_TYPES = {
    "street": "st", "saint": "st", "road": "rd", "avenue": "ave", "av": "ave",
    "boulevard": "blvd", "drive": "dr", "lane": "ln", "court": "ct", "crt": "ct",
    "place": "pl", "terrace": "ter", "terr": "ter", "tce": "ter", "crescent": "cres",
    "cresc": "cres", "square": "sq", "highway": "hwy", "parkway": "pkwy", "pky": "pkwy",
    "close": "cl", "gardens": "gdns", "grove": "gr", "grv": "gr", "mount": "mt",
    "circle": "cir",
}
_DIRECTIONS = {
    "north": "n", "south": "s", "east": "e", "west": "w",
    "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw",
}
# Words that mark the tokens before a number as the street ("Calle Mayor 5", "Hauptstr 5").
_STREET_WORDS = frozenset(_STREET_TYPES) | frozenset(_STREET_TYPES.values()) | frozenset([
    "way", "rue", "via", "viale", "piazza", "calle", "avenida", "plaza", "paseo", "rua",
    "chemin", "allee", "carrer", "strasse", "straat", "weg", "laan", "plein", "gracht", "gasse",
    "platz", "ring", "vej", "gade", "gatan", "gata", "veien",
])
_STREET_SUFFIXES = ("strasse", "straat", "weg", "laan", "gasse", "platz", "vej", "gade", "gatan")
# "Hauptstr." is "Hauptstraße" in German-speaking countries and "Kerkstr." "Kerkstraat" in
# the Netherlands; with no country, German is the likelier reading.
_STR_EXPANSIONS = {
    "DE": "strasse", "AT": "strasse", "CH": "strasse", "LI": "strasse", "LU": "strasse",
    "NL": "straat", None: "strasse",
}
# Compared per line with spaces removed.
_PLACEHOLDER_ADDRESSES = frozenset([
    "nfa", "nofixedabode", "noaddress", "noaddressgiven", "addressnotknown", "notknown",
    "unknown", "homeless", "sameasabove", "seeabove", "address", "streetaddress",
    "addressline1", "addressline2",
])
_FAKE_WORDS = frozenset(["fake", "test", "testing", "asdf", "qwerty", "dummy", "sample", "xxx"])
# fmt: on
_ABBREVIATIONS = _STREET_TYPES | _DIRECTIONS
_COMPASS = frozenset("nsew")


def _tokens(line: str) -> list[str]:
    text = fold_lower(line)
    if "'" in text or "`" in text or not text.isascii():
        text = _APOSTROPHES.sub("", text)
    if "/" in text:
        text = _UNIT_SLASH.sub(r"unit \1 \2", text)
    if "#" in text:
        text = text.replace("#", " # ")
    return _PUNCTUATION.sub(" ", text).split()


def _take_unit(tokens: list[str], other: list[str]) -> str | None:
    """Remove the first "apt 4b" / "# 4b" / "flat 3" pair from `tokens`; return "4b".

    In "First Floor Flat, 12 High St" the 12 is the house number, not the flat: mid-line, a
    pair only counts as a unit when a house number is left over.
    """
    for i in range(len(tokens) - 1):
        if tokens[i] in _UNIT_WORDS and _UNIT_ID.fullmatch(tokens[i + 1]):
            unit, rest = tokens[i + 1], tokens[:i] + tokens[i + 2 :]
            if i == 0 or any(_HOUSE_NUMBER.fullmatch(t) for t in rest + other):
                tokens[:] = rest
                return unit
    return None


def _street(tokens: list[str], country: str | None) -> str | None:
    words: list[str] = []
    expansion = _STR_EXPANSIONS.get(country)
    for token in tokens:
        if token == "#":
            continue  # a unit marker with nothing after it
        word = _ABBREVIATIONS.get(token, token)
        if expansion and word.endswith("str"):
            word = word[:-3] + expansion  # "hauptstr" → "hauptstrasse"
        if words and word in ("e", "w") and words[-1] in ("n", "s"):
            words[-1] += word  # "n e" (from "N.E.") → "ne"
        else:
            words.append(word)
    return " ".join(words) or None


def _is_street_word(token: str) -> bool:
    return token in _STREET_WORDS or token.endswith(_STREET_SUFFIXES) or token.endswith("str")


def _split_number(tokens: list[str]) -> tuple[str | None, list[str], str | None]:
    """(house number, street tokens, trailing unit) from one line's tokens."""
    for i, token in enumerate(tokens):
        if not _HOUSE_NUMBER.fullmatch(token):
            continue
        before, after = tokens[:i], tokens[i + 1 :]
        if before and (
            not after
            or (any(map(_is_street_word, before)) and not any(map(_is_street_word, after)))
        ):
            # Number after the street, as across continental Europe: "Hauptstr 5",
            # "Calle Mayor 5 2 B" (what follows is floor and door).
            return token, before, "".join(after) or None
        if len(after) > 1 and len(after[0]) == 1 and after[0] not in _COMPASS:
            return token + after[0], after[1:], None  # "221 B Baker Street"
        return token, after, None  # a building name before the number is dropped
    return None, tokens, None


@lru_cache(maxsize=32_768)
def normalise_address(
    line1: str | None, line2: str | None, country: str | None
) -> Cleaned[Address]:
    """House number, abbreviated street and unit from the first two address lines:
    ("Flat 4b, 221 Baker Street", None) → Address("221", "baker st", "4b")."""
    lines = [line for line in (line1, line2) if line and not line.isspace()]
    if not lines:
        return missing()
    tokenised = []
    for line in lines:
        tokens = _tokens(line)
        key = "".join(tokens)
        # A filler line ("N/A", "No fixed abode") makes the whole address filler: the other
        # line is then a town or a note, not a dwelling.
        if key in _PLACEHOLDER_ADDRESSES or is_placeholder_text(key or line):
            return placeholder()
        if tokens:
            tokenised.append(tokens)
    if not tokenised:
        return invalid()  # nothing in Latin script
    first, second = tokenised[0], tokenised[1] if len(tokenised) > 1 else []
    unit = _take_unit(first, second) or _take_unit(second, first)
    number, street_tokens, trailing_unit = _split_number(first)
    if number is None and second:
        number2, street2, trailing2 = _split_number(second)
        if number2 is not None or not street_tokens:
            number, street_tokens, trailing_unit = number2, street2, trailing2
    if any(t in _FAKE_WORDS for t in street_tokens):
        return placeholder()  # "123 Fake Street", "1 Test Road"
    region = country.upper() if country else None
    street = _street(street_tokens, region)
    if street is None:
        return invalid()
    return ok(Address(number, street, unit or trailing_unit))


def address_key(a: Address) -> str:
    """The blocking key "221b bakerst 4b": number, street without its spaces, and unit."""
    parts = (a.house_number, a.street.replace(" ", "") if a.street else None, a.unit)
    return " ".join(p for p in parts if p)
