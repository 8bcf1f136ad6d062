"""What routes depend on, as ``Annotated`` aliases: a session for the caller's key and
scope, the idempotency key, the clock, the settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from kenning.domain.refusals import Refusal
from kenning.services.keys import authenticate
from kenning.settings import Settings
from kenning.store import Store
from kenning.store.pool import StorePool

T = TypeVar("T")


class Session:
    """A caller holding a secret for a scope, and the way routes reach the services: ``run``
    borrows a store, checks the key and calls the service in one worker thread, so a request
    costs one thread hop however many steps it takes."""

    def __init__(self, pool: StorePool, secret: str, scope: str) -> None:
        self._pool = pool
        self._secret = secret
        self._scope = scope

    async def run(self, call: Callable[[Store], T]) -> T:
        return await run_in_threadpool(self._call, call)

    def _call(self, call: Callable[[Store], T]) -> T:
        with self._pool.store() as store:
            key = authenticate(store, self._secret)
            if key is None:
                raise Refusal("unauthorized", "unknown or revoked secret key")
            if not key.allows(self._scope):
                raise Refusal("forbidden", f"this key lacks the {self._scope} scope")
            return run_again_if_transient(store, call)


def run_again_if_transient(store: Store, call: Callable[[Store], T], tries: int = 3) -> T:
    """Run ``call``; when its transaction lost a deadlock or a lock wait, run it again.
    Safe because every write carries an idempotency key and the failed run left nothing."""
    for attempt in range(1, tries + 1):
        try:
            return call(store)
        except Exception as exc:
            if attempt == tries or not store.is_transient(exc):
                raise
    raise AssertionError("unreachable")


_bearer = HTTPBearer(auto_error=False, description="A secret key from `kenning keys add`")


def require_scope(scope: str) -> Callable[..., Awaitable[Session]]:
    """A dependency giving a Session for a secret key that must be allowed ``scope``."""

    async def session(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Session:
        if credentials is None:
            raise Refusal("unauthorized", "send a secret key: Authorization: Bearer kn_sk_…")
        return Session(request.app.state.pool, credentials.credentials, scope)

    return session


CustomerReader = Annotated[Session, Depends(require_scope("customers:read"))]
CustomerWriter = Annotated[Session, Depends(require_scope("customers:write"))]
InventoryReader = Annotated[Session, Depends(require_scope("inventory:read"))]
InventoryWriter = Annotated[Session, Depends(require_scope("inventory:write"))]
PricingReader = Annotated[Session, Depends(require_scope("pricing:read"))]
PricingWriter = Annotated[Session, Depends(require_scope("pricing:write"))]
LedgerReader = Annotated[Session, Depends(require_scope("ledger:read"))]
LedgerWriter = Annotated[Session, Depends(require_scope("ledger:write"))]
# Dependencies that do no I/O are async so they run on the event loop, not in a thread.


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
