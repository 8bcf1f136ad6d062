"""The app factory: settings come in, nothing is created at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from kenning.api import docs, errors, openapi, ops
from kenning.api.limits import BodyLimit
from kenning.api.observability import RequestObserver
from kenning.api.routers import (
    collect,
    customers,
    ledger,
    pricing,
    profiles,
    reservations,
    stock,
)
from kenning.profiles.golden import Survivorship
from kenning.services.accounts import AccountSettings, Sender, smtp_sender
from kenning.services.follow import (
    Follower,
    FollowOutcome,
    Nudger,
    finish_pending,
    follow_and_mail,
)
from kenning.services.inventory import FavouriteStores, utcnow
from kenning.services.matching import ModelCache
from kenning.services.pricing import CustomerFacts, profile_customer_facts
from kenning.services.profile import ProfileSettings, profile_favourite_stores
from kenning.services.telemetry import counted_sender
from kenning.settings import Settings
from kenning.store.pool import StorePool

log = logging.getLogger("kenning.api")


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    favourite_stores: FavouriteStores = profile_favourite_stores,
    customer_facts: CustomerFacts = profile_customer_facts,
    mail_sender: Sender | None = None,
    demo_key: str | None = None,
) -> FastAPI:
    """The Kenning API over the store ``settings`` names.

    ``clock``, ``favourite_stores`` and ``customer_facts`` are the seams tests and later
    issues plug into: the time every write is stamped with, where a customer's favourite
    stores come from, and where a customer's segments and traits (for pricing) come from.
    ``mail_sender`` sends sign-up codes (SMTP by default); ``demo_key`` serves the demo
    shop page at /demo with that secret key.
    """
    pool = StorePool(
        settings.database_url,
        settings.pool_size,
        defer_checkpoints=settings.checkpoints_by_follower,
    )
    models = ModelCache()

    account_settings = AccountSettings(
        settings.smtp_url,
        settings.mail_from,
        settings.verification_ttl_seconds,
        ProfileSettings(
            Survivorship.parse(settings.source_trust, settings.survivorship),
            settings.lapsed_days,
        ),
        codes_per_address=settings.signup_codes_per_address,
        codes_per_client=settings.signup_codes_per_client,
    )

    def follow_log() -> FollowOutcome:
        with pool.store() as store:
            return follow_and_mail(store, models, settings)

    def finish_left_over() -> None:
        with pool.store() as store:
            finish_pending(store, models)

    follower = Follower(
        follow_log,
        on_error=lambda exc: log.exception("follower", exc_info=exc),
        recover=finish_left_over,
    )
    # Collected events poke the follower: this app's thread, or another process's socket.
    nudger = Nudger(settings.follower_socket) if settings.follower_socket else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.follow_events:
            follower.start()
        try:
            yield
        finally:
            if settings.follow_events:
                follower.stop()
            pool.close()

    app = FastAPI(
        title="Kenning",
        summary="Customer data platform for retailers: one customer everywhere, stock everywhere.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served from the package's own files (see api/docs.py)
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.pool = pool
    app.state.clock = clock
    app.state.favourite_stores = favourite_stores
    app.state.models = models
    app.state.follower = nudger if nudger is not None and not settings.follow_events else follower
    app.state.customer_facts = customer_facts
    app.state.account_settings = account_settings
    app.state.mail_sender = counted_sender(
        mail_sender or smtp_sender(account_settings), "signup_code"
    )
    app.state.demo_key = demo_key
    errors.install(app)
    # Bodies are counted against their limit as they are read, before keys or JSON (413).
    app.add_middleware(BodyLimit)
    # Browsers send events from shops on other origins (analytics.js); the API takes keys in
    # headers, never cookies, so any origin may call it without credentials.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "POST", "PUT"],
        allow_headers=["Authorization", "Content-Type", "Content-Encoding", "Idempotency-Key"],
    )
    # Routes are tried in order: customers first, as the lookup is the busiest short
    # request (a batch of events pays the extra tries once for a hundred events). No two
    # routers share a path, so the order changes nothing else.
    app.include_router(customers.router)
    app.include_router(collect.router)
    app.include_router(stock.router)
    app.include_router(reservations.router)
    app.include_router(pricing.router)
    app.include_router(ledger.router)
    app.include_router(profiles.router)
    app.include_router(profiles.demo_router)
    # Probes, metrics and docs; the request log and counters wrap everything else.
    app.add_middleware(RequestObserver, metrics=ops.install(app, pool))
    docs.install(app)
    openapi.install(app)
    return app
