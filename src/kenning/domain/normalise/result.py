"""The outcome of normalising one raw value.

A normaliser never raises on bad data: it says what it found, so the import can count
placeholders and invalid values (dropped as evidence) without losing the rest of the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


class Verdict(StrEnum):
    OK = "ok"
    MISSING = "missing"  # empty or absent
    PLACEHOLDER = "placeholder"  # a filler value such as N/A, noemail@…, 0000000000
    INVALID = "invalid"  # present but not a well-formed value of its kind


@dataclass(frozen=True, slots=True)
class Cleaned(Generic[T]):
    value: T | None
    verdict: Verdict

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.OK


def ok(value: T) -> Cleaned[T]:
    return Cleaned(value, Verdict.OK)


def missing() -> Cleaned[T]:
    return Cleaned(None, Verdict.MISSING)


def placeholder() -> Cleaned[T]:
    return Cleaned(None, Verdict.PLACEHOLDER)


def invalid() -> Cleaned[T]:
    return Cleaned(None, Verdict.INVALID)
