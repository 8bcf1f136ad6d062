"""What routes depend on, as ``Annotated`` aliases: a store, the caller's key and scope,
the idempotency key, the clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kenning.domain.refusals import Refusal
from kenning.services.keys import ApiKey, authenticate
from kenning.settings import Settings
from kenning.store import Store
from kenning.store.pool import StorePool


def _store(request: Request) -> Iterator[Store]:
    pool: StorePool = request.app.state.pool
    with pool.store() as store:
        yield store


StoreDep = Annotated[Store, Depends(_store)]
# Dependencies that do no I/O are async so they run on the event loop, not in a thread.
_bearer = HTTPBearer(auto_error=False, description="A secret key from `kenning keys add`")


def require_scope(scope: str) -> Callable[..., ApiKey]:
    """A dependency that lets through only a live secret key allowed ``scope``."""

    def check(
        store: StoreDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> ApiKey:
        if credentials is None:
            raise Refusal("unauthorized", "send a secret key: Authorization: Bearer kn_sk_…")
        key = authenticate(store, credentials.credentials)
        if key is None:
            raise Refusal("unauthorized", "unknown or revoked secret key")
        if not key.allows(scope):
            raise Refusal("forbidden", f"this key lacks the {scope} scope")
        return key

    return check


InventoryReader = Annotated[ApiKey, Depends(require_scope("inventory:read"))]
InventoryWriter = Annotated[ApiKey, Depends(require_scope("inventory:write"))]


async def _idempotency_header(
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Retries with the same key get the first answer and change nothing.",
        ),
    ] = None,
) -> str | None:
    return key


IdempotencyHeader = Annotated[str | None, Depends(_idempotency_header)]


def idempotency_key(header: str | None, body: str | None) -> str:
    """The request's key, from the header or the body; every write needs one."""
    if header and body and header != body:
        raise Refusal("invalid", "the Idempotency-Key header and idempotency_key disagree")
    key = header or body
    if not key:
        raise Refusal(
            "idempotency_key_required",
            "writes need an idempotency key (Idempotency-Key header or idempotency_key)",
        )
    return key


async def _now(request: Request) -> datetime:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


Now = Annotated[datetime, Depends(_now)]


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]
