"""Recognise filler text that staff and web forms put where a real value should be."""

from __future__ import annotations

import re

# Compared after lowercasing and dropping everything but letters and digits, so "N/A",
# "n.a." and " NA " are one key and "not-given" is "notgiven".
_PLACEHOLDER_KEYS = frozenset(
    {
        "na",
        "nk",  # "not known", common on UK forms
        "nan",  # pandas' missing value written out as text
        "none",
        "null",
        "nil",
        "undefined",
        "unknown",
        "unk",
        "notknown",
        "notgiven",
        "notprovided",
        "notapplicable",
        "notavailable",
        "notstated",
        "nonegiven",
        "notset",
        "missing",
        "blank",
        "empty",
        "test",
        "testing",
        "tbc",
        "tba",
        "tbd",
        "refused",
        "declined",
        "no",
        "noname",
        "asdf",
        "asd",
        "qwerty",
        "dummy",
        "sample",
    }
)

_NON_ALNUM = re.compile(r"[\W_]+")


def is_placeholder_text(value: str) -> bool:
    """True when `value` is a known filler ("N/A", "unknown", "-", "xxx", "test" …).

    Blank text is not a placeholder: it is simply missing, and callers check that first.
    """
    if not value or value.isspace():
        return False
    key = _NON_ALNUM.sub("", value).lower()
    if not key:
        return True  # only punctuation: "-", "--", "?", "."
    return key in _PLACEHOLDER_KEYS or key.strip("x") == ""
