"""Recognise filler text that staff and web forms put where a real value should be."""

from __future__ import annotations

import re

# Compared after lowercasing and dropping everything but letters and digits, so "N/A",
# "n.a." and " NA " are one key and "not-given" is "notgiven". "nan" is pandas' missing value
# written out as text; "nk" is "not known" on UK forms.
_PLACEHOLDER_KEYS = frozenset({
    "na", "nan", "none", "null", "nil", "undefined", "unknown", "unk", "missing", "empty",
    "notknown", "nk", "notgiven", "notprovided", "notapplicable", "notavailable", "notstated",
    "nonegiven", "notset", "test", "testing", "tbc", "tba", "tbd", "refused", "declined", "no",
    "noname", "asdf", "asd", "qwerty", "dummy",
})  # fmt: skip
_NON_ALNUM = re.compile(r"[\W_]+")
_LONGEST = 40  # no filler phrase is longer; real values often are, so skip the regex


def is_placeholder_text(value: str) -> bool:
    """True when `value` is a known filler ("N/A", "unknown", "-", "xxx", "test" …).

    Blank text is not a placeholder: it is simply missing, and callers check that first.
    """
    if not value or value.isspace():
        return False
    if value.isalnum():
        key = value.lower()
    elif len(value) > _LONGEST:
        return False
    else:
        key = _NON_ALNUM.sub("", value).lower()
    if not key:
        return True  # only punctuation: "-", "--", "?", "."
    return key in _PLACEHOLDER_KEYS or key.strip("x") == ""
