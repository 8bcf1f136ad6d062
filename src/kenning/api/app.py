"""The app factory: settings come in, nothing is created at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI

from kenning.api import errors
from kenning.api.routers import pricing, reservations, stock
from kenning.services.inventory import FavouriteStores, profile_favourite_stores, utcnow
from kenning.services.pricing import CustomerFacts, profile_customer_facts
from kenning.settings import Settings
from kenning.store.pool import StorePool


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    favourite_stores: FavouriteStores = profile_favourite_stores,
    customer_facts: CustomerFacts = profile_customer_facts,
) -> FastAPI:
    """The Kenning API over the store ``settings`` names.

    ``clock``, ``favourite_stores`` and ``customer_facts`` are the seams tests and later
    issues plug into: the time every write is stamped with, where a customer's favourite
    stores come from, and where a customer's segments and traits (for pricing) come from.
    """
    pool = StorePool(settings.database_url, settings.pool_size)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            pool.close()

    app = FastAPI(
        title="Kenning",
        summary="Customer data platform for retailers: stock everywhere.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.pool = pool
    app.state.clock = clock
    app.state.favourite_stores = favourite_stores
    app.state.customer_facts = customer_facts
    errors.install(app)
    app.include_router(stock.router)
    app.include_router(reservations.router)
    app.include_router(pricing.router)
    return app
