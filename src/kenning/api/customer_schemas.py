"""Request and response models of the customer and identity API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class RecordRef(BaseModel):
    source: str = Field(min_length=1, max_length=64)
    record_id: str = Field(min_length=1, max_length=256)


class CustomerPublic(BaseModel):
    customer_id: str
    records: list[dict[str, Any]]
    identifiers: dict[str, list[str]]
    anonymous_ids: list[dict[str, str]]


class EventPublic(BaseModel):
    seq: int
    kind: str
    source: str
    record_id: str | None
    anonymous_id: str | None
    message_id: str | None
    payload: dict[str, Any]
    recorded_at: str


class EventPage(BaseModel):
    events: list[EventPublic]
    next_before: int | None = Field(description="Pass as `before` for the next (older) page.")


class ChangePublic(BaseModel):
    seq: int
    kind: Literal["merge", "split"] | str
    customer_id: str
    payload: dict[str, Any]
    recorded_at: str


class ChangePage(BaseModel):
    changes: list[ChangePublic]
    next_since: int = Field(description="Pass as `since` to follow on.")


class CorrectionCreate(BaseModel):
    a: RecordRef
    b: RecordRef
    reason: str | None = Field(default=None, max_length=500)


class CorrectionPublic(BaseModel):
    kind: Literal["must_link", "cannot_link"]
    customers: list[dict[str, str | None]]
