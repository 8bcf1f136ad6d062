"""Request and response models of the profile and sign-up recognition API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ProfilePublic(BaseModel):
    customer_id: str
    golden: dict[str, dict[str, Any]] = Field(
        description="Each attribute's value with its lineage: source, record_id, at, the "
        "rule that chose it, and how many records hold it (seen) of those holding any (of)."
    )
    traits: dict[str, Any]
    owned: list[dict[str, Any]]
    repairs: list[dict[str, Any]]
    recent_orders: list[dict[str, Any]]
    recent_browsing: list[dict[str, Any]]
    records: list[dict[str, str]]
    balances: dict[str, Any] | None


class AccountCreate(BaseModel):
    email: str = Field(min_length=3, max_length=320)


class VerificationPublic(BaseModel):
    verification_id: str
    expires_at: str


class VerificationCreate(BaseModel):
    verification_id: str = Field(min_length=1, max_length=100)
    code: str = Field(min_length=1, max_length=20)


class AccountPublic(BaseModel):
    email: str
    known: bool = Field(description="Whether the e-mail belongs to a known customer.")
    customer_id: str | None = None
    greeting: str | None = None
    first_name: str | None = None
    owned: list[dict[str, Any]] = []
    owned_by_category: dict[str, int] = {}
    addresses: list[dict[str, Any]] = []
    favourite_stores: list[dict[str, Any]] = []
