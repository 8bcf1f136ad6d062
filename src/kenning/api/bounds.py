"""Bounds for numbers and times in requests, so that what a client can send is what the
store can hold: a 400/422 at the door, never an overflow in the database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator, Field

# A sequence number (an event's, a change's): a 64-bit column.
MAX_SEQ = 2**63 - 1
# Units of one SKU in one movement, reservation or line: far beyond any real one.
MAX_UNITS = 10**9
# Times a request may name: wide enough for any real date, narrow enough that adding a
# time to live or comparing across time zones stays within what both databases hold.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def _within_range(moment: datetime) -> datetime:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    if not EARLIEST <= aware < LATEST:
        raise ValueError(f"must be from {EARLIEST.year} to {LATEST.year - 1}")
    return moment


Moment = Annotated[datetime, AfterValidator(_within_range)]
Units = Annotated[int, Field(gt=0, le=MAX_UNITS)]
SeqQuery = Annotated[int, Query(ge=0, le=MAX_SEQ)]
