"""The outcome of normalising one raw value.

A normaliser never raises on bad data: it says what it found, so the import can count
placeholders and invalid values (dropped as evidence) without losing the rest of the record.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Generic, NamedTuple, TypeVar

T = TypeVar("T")


class Verdict(StrEnum):
    OK = "ok"
    MISSING = "missing"  # empty or absent
    PLACEHOLDER = "placeholder"  # a filler value such as N/A, noemail@…, 0000000000
    INVALID = "invalid"  # present but not a well-formed value of its kind


class Cleaned(NamedTuple, Generic[T]):
    """A named tuple, not a dataclass: one is built per value normalised, millions per import."""

    value: T | None
    verdict: Verdict

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.OK


def ok(value: T) -> Cleaned[T]:
    return Cleaned(value, Verdict.OK)


# Value-less outcomes are shared: immutable, and built once rather than per value.
_MISSING: Cleaned[Any] = Cleaned(None, Verdict.MISSING)
_PLACEHOLDER: Cleaned[Any] = Cleaned(None, Verdict.PLACEHOLDER)
_INVALID: Cleaned[Any] = Cleaned(None, Verdict.INVALID)


def missing() -> Cleaned[Any]:
    return _MISSING


def placeholder() -> Cleaned[Any]:
    return _PLACEHOLDER


def invalid() -> Cleaned[Any]:
    return _INVALID
