"""Request and response models of the profile and sign-up recognition API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, IPvAnyAddress, model_validator


class ClaimPublic(BaseModel):
    """A value an untrusted source's events gave that nobody has verified: kept and shown,
    but no evidence (see README, "What a write key can do")."""

    source: str
    record_id: str
    field: str = Field(description="The field of the record as received (email, phone …).")
    value: str
    verified: bool = False


class ProfilePublic(BaseModel):
    customer_id: str
    golden: dict[str, dict[str, Any]] = Field(
        description="Each attribute's value with its lineage: source, record_id, at, the "
        "rule that chose it, and how many records hold it (seen) of those holding any (of)."
    )
    traits: dict[str, Any]
    owned: list[dict[str, Any]]
    repairs: list[dict[str, Any]]
    recent_orders: list[dict[str, Any]] = Field(
        description="Newest first; `verified: false` for an order an untrusted source sent "
        "for a visitor not verified: shown, but not in any trait (spend, RFM …)."
    )
    recent_browsing: list[dict[str, Any]]
    records: list[dict[str, str]]
    balances: dict[str, Any] | None
    unverified: list[ClaimPublic] = Field(
        default=[],
        description="What her records from untrusted sources claim and nobody verified: "
        "every field while the record's e-mail is not verified, then an unverified phone.",
    )


class AccountCreate(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    client_ip: IPvAnyAddress | None = Field(
        default=None,
        description="The shopper's IP address as the shop saw it: codes are rationed per "
        "client too (KENNING_SIGNUP_CODES_PER_CLIENT). The caller is the shop's server, "
        "so without it only the mailbox's ration applies.",
    )


class VerificationPublic(BaseModel):
    verification_id: str
    expires_at: str


class VerificationCreate(BaseModel):
    verification_id: str = Field(min_length=1, max_length=100)
    code: str = Field(min_length=1, max_length=20)
    source: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="With user_id: the visitor (source, userId) whose claim to the e-mail "
        "the right code proves; her record may then be linked by it.",
    )
    user_id: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _both_or_neither(self) -> VerificationCreate:
        if (self.source is None) != (self.user_id is None):
            raise ValueError("source and user_id come together")
        return self


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
