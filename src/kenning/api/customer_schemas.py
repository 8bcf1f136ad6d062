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


class ReviewRecordPublic(BaseModel):
    source: str
    record_id: str
    customer_id: str | None
    values: dict[str, str | None] = Field(description="The record's normalised values.")


class StepPublic(BaseModel):
    comparison: str
    level: str
    weight: float = Field(description="log2 Bayes factor of the level.")
    tf_adjustment: float = Field(description="log2: how common the value is (exact levels).")
    left: str = Field(description="What the comparison looks at in record a.")
    right: str = Field(description="… and in record b.")
    shared: bool = Field(description="An identifier several people hold: no evidence.")


class WaterfallPublic(BaseModel):
    prior_weight: float = Field(description="log2 odds that two records are one person.")
    names_only_margin: float
    threshold_weight: float
    steps: list[StepPublic]


class ReviewPairPublic(BaseModel):
    a: ReviewRecordPublic
    b: ReviewRecordPublic
    probability: float
    weight: float = Field(description="prior_weight plus every step's weight and tf_adjustment.")
    needed: float = Field(description="The weight at and above which the two may be one customer.")
    waterfall: WaterfallPublic


class ReviewPage(BaseModel):
    pairs: list[ReviewPairPublic]


class ReviewAnswerCreate(BaseModel):
    a: RecordRef
    b: RecordRef
    answer: Literal["link", "no-link"] = Field(description="One person, or two.")
    note: str | None = Field(default=None, max_length=500)
    answered_by: str | None = Field(
        default=None, max_length=200, description="Who answers; the key's name by default."
    )


class ReviewAnswerPublic(BaseModel):
    a: RecordRef
    b: RecordRef
    answer: Literal["link", "no-link"]
    note: str | None
    answered_by: str | None
    answered_at: str


# The query of GET /v1/customers/lookup: optional strings, read by the route itself because
# FastAPI's handling of nine declared parameters cost more than the lookup's queries. The
# OpenAPI operation says what FastAPI would have said of them (a test compares the two).
LOOKUP_QUERY = ("email", "phone", "loyalty_id", "serial_number", "user_id", "anonymous_id",
                "source", "record_id", "country")  # fmt: skip
_LOOKUP_NOTES = {"country": "Country of a national phone number"}


def _optional_string(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "title": name.replace("_", " ").title(),
    }
    parameter = {"in": "query", "name": name, "required": False, "schema": schema}
    if note := _LOOKUP_NOTES.get(name):
        schema["description"] = parameter["description"] = note
    return parameter


LOOKUP_OPENAPI: dict[str, Any] = {
    "parameters": [_optional_string(name) for name in LOOKUP_QUERY],
    "responses": {
        "422": {
            "description": "Validation Error",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
            },
        }
    },
}
