"""Loyalty numbers, serial numbers and account ids: one spelling for each identifier."""

from __future__ import annotations

import re
from functools import lru_cache

from kenning.domain.normalise.placeholders import is_placeholder_text
from kenning.domain.normalise.result import Cleaned, invalid, missing, ok, placeholder

# Separators people and printers add for readability; they carry no identity.
_SEPARATORS = re.compile(r"[\s\-‐‑–—./\\]+")
_MIN_LENGTH = 3


@lru_cache(maxsize=32_768)  # a loyalty number recurs on every till receipt of its holder
def normalise_identifier(raw: str | None) -> Cleaned[str]:
    """Uppercased without spaces, dashes, dots or slashes ("ab-1234 5" → "AB12345")."""
    if raw is None:
        return missing()
    # str.replace is ~3x cheaper than the regex, which is left for the rare other separators.
    compact = raw.replace(" ", "").replace("-", "").replace(".", "").replace("/", "")
    if not compact.isalnum():
        compact = _SEPARATORS.sub("", compact)
    compact = compact.upper()
    if not compact:
        return placeholder() if is_placeholder_text(raw) else missing()
    if compact.count(compact[0]) == len(compact) or is_placeholder_text(compact):
        return placeholder()  # N/A, NONE, 0, 00000000, XXXXXX
    if len(compact) < _MIN_LENGTH:
        return invalid()
    return ok(compact)
