"""Settings, read from the environment (prefix ``KENNING_``) by whoever builds the app.

Never instantiated at import time: the CLI and the app factory build one and pass it on.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kenning.domain.normalise import normalise_country


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KENNING_", extra="ignore")

    # A SQLite file in the current folder unless told otherwise (postgresql://… for production).
    database_url: str = "sqlite:///kenning.db"
    # The countries the retailer trades in, e.g. "GB,US": a record that names no country (a
    # till export seldom does) is read as the one of them its phone number or postcode fits.
    # Every process that takes in records (import, the server, rebuild) must agree on them.
    markets: str = ""
    # Database connections the API server keeps (one per request in flight).
    pool_size: int = 8
    # Whether the server follows the event log, resolving identities as events arrive
    # (exactly one follower is needed; more take turns).
    follow_events: bool = True
    # Whether the server's SQLite connections leave copying the write-ahead log into the
    # database to the follower process of `kenning serve` (which sets this for its
    # workers), instead of the commit that fills the log doing it in a request's time.
    checkpoints_by_follower: bool = False
    # Where the follower processes of `kenning serve` listen for a nudge from the workers
    # once they have logged events, joined by os.pathsep (set by `kenning serve`; they
    # also poll).
    follower_socket: str = ""
    # How long a reservation holds stock unless the request says otherwise.
    reservation_ttl_seconds: int = 900
    # Sourcing rules, most important first, and the order value below which an order is
    # never split into several parcels.
    sourcing_rules: str = "pickup_store_first,fewest_shipments,nearest,capacity_left"
    sourcing_min_split_value: float = 0.0
    # Where Kenning sends mail (verification codes, repair updates): smtp://host:port; empty
    # sends none. The sender address of that mail.
    smtp_url: str = ""
    mail_from: str = "Kenning <no-reply@kenning.local>"
    # Golden record survivorship: sources from most to least trusted, and per-attribute rule
    # chains (trust, recent, frequent), e.g. "email:recent+trust,address:trust".
    source_trust: str = "loyalty,web,pos,registrations,email"
    survivorship: str = ""
    # A customer is lapsed after this many days without a purchase.
    lapsed_days: int = 365
    # How long a sign-up verification code stays valid.
    verification_ttl_seconds: int = 600
    # Sign-up codes issued within an hour to one mailbox (every spelling of it: case, tags,
    # Gmail's dots) and at the request of one client address (whatever the e-mails).
    signup_codes_per_address: int = Field(default=5, ge=1)
    signup_codes_per_client: int = Field(default=20, ge=1)
    # GET /readyz answers 503 while the oldest event the follower has not applied is older
    # than this (new records are not yet found by lookups nor resolved).
    ready_max_lag_seconds: float = 60.0
    # The server's log lines: "text" for people, "json" (one object a line, a request id in
    # each request's line) for log collectors.
    log_format: Literal["text", "json"] = "text"

    @field_validator("markets")
    @classmethod
    def _known_countries(cls, value: str) -> str:
        codes = []
        for name in filter(None, (part.strip() for part in value.split(","))):
            code = normalise_country(name).value
            if code is None:
                raise ValueError(f"unknown country {name!r} in markets")
            codes.append(code)
        return ",".join(dict.fromkeys(codes))

    @property
    def market_codes(self) -> tuple[str, ...]:
        return tuple(self.markets.split(",")) if self.markets else ()
