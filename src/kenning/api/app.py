"""The app factory: settings come in, nothing is created at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI

from kenning.api import errors
from kenning.api.routers import ledger, reservations, stock
from kenning.services.inventory import FavouriteStores, profile_favourite_stores, utcnow
from kenning.settings import Settings
from kenning.store.pool import StorePool


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    favourite_stores: FavouriteStores = profile_favourite_stores,
) -> FastAPI:
    """The Kenning API over the store ``settings`` names.

    ``clock`` and ``favourite_stores`` are the seams tests and later issues plug into: the
    time every write is stamped with, and where a customer's favourite stores come from.
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
    errors.install(app)
    app.include_router(stock.router)
    app.include_router(reservations.router)
    app.include_router(ledger.router)
    return app
