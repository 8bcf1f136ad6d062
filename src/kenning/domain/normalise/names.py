"""Personal names: accent folding, honorifics, placeholders, first/last splitting, nicknames."""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

from nicknames import NickNamer

from kenning.domain.normalise.placeholders import is_placeholder_text
from kenning.domain.normalise.result import Cleaned, invalid, missing, ok, placeholder

# fmt: off
# Letters that NFKD does not decompose into an ASCII base letter.
_UNDECOMPOSABLE = str.maketrans({
    "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE",
    "œ": "oe", "Œ": "OE", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH",
    "ı": "i", "ħ": "h", "Ħ": "H",
    "º": " ", "ª": " ",  # ordinal indicators ("2º B"); NFKD would turn them into letters
})
_HONORIFICS = frozenset([
    "mr", "mrs", "ms", "miss", "mx", "mstr", "dr", "prof", "sir", "dame", "lady", "lord", "rev",
    "revd", "fr", "herr", "frau", "mme", "mlle",
])
_SUFFIXES = frozenset([
    "jr", "jnr", "sr", "snr", "ii", "iii", "iv", "phd", "md", "esq", "obe", "mbe", "cbe", "kbe",
    "dds", "qc", "kc",
])
# A name that is nothing but one of these was typed into the wrong field.
_NOT_A_NAME = frozenset([
    "mr", "mrs", "ms", "miss", "mx", "mstr", "dr", "prof", "rev", "revd", "fr", "herr", "frau",
    "mme", "mlle", "jr", "jnr", "sr", "snr", "phd", "esq",
])
# Compared with spaces removed, so "walk-in", "walk in" and "walkin" are one key.
_PLACEHOLDER_NAMES = frozenset([
    "customer", "customers", "guest", "guestuser", "guestcustomer", "cash", "cashcustomer",
    "cashsale", "cashsales", "walkin", "walkincustomer", "anonymous", "anon", "valuedcustomer",
    "testcustomer", "testuser", "testtest", "noname", "nonamegiven", "namenotgiven",
    "unknowncustomer", "storecustomer", "shopcustomer", "webcustomer", "onlinecustomer",
    "occupant", "occupier", "theoccupier", "currentresident", "homeowner", "client", "shopper",
    "name", "firstname", "lastname", "surname", "fname", "lname", "mickeymouse", "donaldduck",
])
# Surname particles that belong with the surname ("van Beethoven", "de la Cruz").
_PARTICLES = frozenset([
    "de", "da", "di", "del", "della", "dei", "degli", "des", "du", "dos", "das", "do", "van",
    "von", "vom", "der", "den", "ter", "ten", "le", "la", "st", "ste", "saint", "mac", "mc",
    "bin", "binti", "ibn", "al", "el", "abu",
])
# fmt: on

_APOSTROPHES = re.compile(r"['’‘`´ʼ]")
_NOT_LETTERS = re.compile(r"[\W\d_]+")  # digits count as separators here; they are checked apart
_DIGIT = re.compile(r"\d")
_TOKEN_TRIM = ".,;:()[]{}\"'“”«»!?*/\\"


def strip_accents(text: str) -> str:
    """Fold accented Latin letters to ASCII ("Zoë" → "Zoe", "Łukasz" → "Lukasz", "ß" → "ss").

    Letters of other scripts pass through unchanged.
    """
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSABLE))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold_lower(text: str) -> str:
    """Lowercase ASCII-folded text; folding again after lowercasing catches letters such as
    "İ" whose lowercase form carries a combining mark."""
    if text.isascii():
        return text.lower()
    return strip_accents(strip_accents(text).lower()).lower()


def _drop_titles(tokens: list[str]) -> list[str]:
    # Never drop the last remaining token: "Lord" and "Sir" are surnames too.
    start, end = 0, len(tokens)
    while end - start > 1 and tokens[start] in _HONORIFICS:
        start += 1
    while end - start > 1 and tokens[end - 1] in _SUFFIXES:
        end -= 1
    return tokens[start:end]


@lru_cache(maxsize=32_768)  # names repeat: a few thousand first names cover most people
def normalise_name(raw: str | None) -> Cleaned[str]:
    """A comparable form of a first, last or full name: "Mr Seán O'Brien-Smith Jr." →
    "sean obrien smith"."""
    if raw is None or not raw.strip():
        return missing()
    if is_placeholder_text(raw):
        return placeholder()
    if raw.isalpha() and raw.isascii():  # the common case: one plain word
        folded = raw.lower()
        tokens = [folded]
    else:
        folded = _APOSTROPHES.sub("", fold_lower(raw))
        tokens = _drop_titles(_NOT_LETTERS.sub(" ", folded).split())
    if not tokens:
        return invalid()
    key = "".join(tokens)
    if (
        key in _PLACEHOLDER_NAMES
        or is_placeholder_text(key)
        or (len(key) >= 3 and key.count(key[0]) == len(key))
    ):
        return placeholder()
    if (len(tokens) == 1 and key in _NOT_A_NAME) or _DIGIT.search(folded):
        return invalid()
    return ok(" ".join(tokens))


@lru_cache(maxsize=32_768)
def normalise_first_name(raw: str | None) -> Cleaned[str]:
    """normalise_name, less the middle initials typed after a given name ("Thomas D." →
    "thomas"): tills and forms often take them in the first-name box. An initial tells
    nothing a full name does not, and beside a mistyped name ("tohmas d") it hid the
    name's nearness to its other spellings, so that a shopper's own e-mail looked shared
    by two people."""
    cleaned = normalise_name(raw)
    if cleaned.value is None or " " not in cleaned.value:
        return cleaned
    tokens = cleaned.value.split()
    given = list(tokens)
    # Latin letters only: in other scripts one character is a syllable, not an initial.
    while len(given) > 1 and len(given[-1]) == 1 and given[-1].isascii() and len(given[0]) > 1:
        given.pop()
    if len(given) == len(tokens):
        return cleaned
    return normalise_name(" ".join(given))  # judged again: "Customer A" is a till's filler


def _clean_tokens(tokens: list[str]) -> list[str]:
    """Trim punctuation around raw-cased tokens and drop honorifics and suffixes."""
    trimmed = [t for t in (tok.strip(_TOKEN_TRIM) for tok in tokens) if t]
    start, end = 0, len(trimmed)
    while end - start > 1 and _token_key(trimmed[start]) in _HONORIFICS:
        start += 1
    while end - start > 1 and _token_key(trimmed[end - 1]) in _SUFFIXES:
        end -= 1
    return trimmed[start:end]


def _token_key(token: str) -> str:
    return fold_lower(token).replace(".", "")


@lru_cache(maxsize=32_768)
def split_full_name(raw: str | None) -> tuple[str | None, str | None]:
    """(first given name, surname) from a full name, in the original case.

    "Smith, John" and "Mr John A. Smith Jr." both give ("John", "Smith"); particles stay
    with the surname ("Ludwig van Beethoven" → ("Ludwig", "van Beethoven")).
    """
    if raw is None:
        return None, None
    text = " ".join(raw.split())
    if "," in text:
        parts = [p for p in (p.strip() for p in text.split(",")) if p]
        parts = [p for p in parts if not all(_token_key(t) in _SUFFIXES for t in p.split())]
        if len(parts) >= 2:
            surname = _clean_tokens(parts[0].split())
            given = _clean_tokens(parts[1].split())
            return (given[0] if given else None), (" ".join(surname) or None)
        text = " ".join(parts)  # "John Smith, Jr." is not surname-first
    tokens = _clean_tokens(text.split())
    if not tokens:
        return None, None
    if len(tokens) == 1:
        return tokens[0], None
    start = len(tokens) - 1
    while start > 1 and _token_key(tokens[start - 1]) in _PARTICLES:
        start -= 1
    return tokens[0], " ".join(tokens[start:])


def is_initial(name: str) -> bool:
    """True for a normalised first name that is a single letter ("j")."""
    return len(name) == 1 and name.isalpha()


@cache
def _canonical_lookup() -> dict[str, frozenset[str]]:
    # Reads the package's CSV (~10 ms) on first use only.
    return {k: frozenset(v) for k, v in NickNamer().canonical_lookup.items()}


@lru_cache(maxsize=32_768)
def canonical_first_names(normalised_first: str) -> frozenset[str]:
    """The name, its first token and the formal names that token is a nickname of
    ("bob" → {"bob", "robert", …}); two first names are compatible when these overlap."""
    token = normalised_first.split(" ", 1)[0]
    if not token:
        return frozenset()
    return frozenset((normalised_first, token)) | _canonical_lookup().get(token, frozenset())


def name_key(normalised: str) -> str:
    """The name without spaces, so "mary jane" and "maryjane" compare equal."""
    return normalised.replace(" ", "")
