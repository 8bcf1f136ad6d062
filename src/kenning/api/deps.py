"""What routes depend on, as ``Annotated`` aliases: a session for the caller's key and
scope, the idempotency key, the clock, the settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request
from fastapi.security import HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from kenning.domain.refusals import Refusal
from kenning.services.keys import ApiKey, authenticate
from kenning.settings import Settings
from kenning.store import Store
from kenning.store.pool import StorePool

T = TypeVar("T")


class Session:
    """A caller holding a secret for a scope, and the way routes reach the services: ``run``
    borrows a store, checks the key and calls the service in one worker thread, so a request
    costs one thread hop however many steps it takes; ``read`` does the same for calls that
    only read, without the hop where the store allows it (see StorePool.loop_store)."""

    def __init__(self, pool: StorePool, secret: str, scope: str) -> None:
        self._pool = pool
        self._secret = secret
        self._scope = scope

    async def run(self, call: Callable[[Store], T]) -> T:
        return await run_in_threadpool(self._borrow_and_call, call)

    async def read(self, call: Callable[[Store], T]) -> T:
        """``call`` must only read. On SQLite it runs here on the event loop: a read of a
        local file in WAL mode never waits for a writer, and takes less time than handing
        it to a thread and back."""
        store = self._pool.loop_store()
        if store is None:
            return await self.run(call)
        return self._call(store, call)

    async def run_as(self, call: Callable[[Store, ApiKey], T]) -> T:
        """As ``run``, ``call`` given the caller's key too: to record who did something."""

        def borrow_and_call() -> T:
            with self._pool.store() as store:
                key = self._key(store)
                return run_again_if_transient(store, lambda s: call(s, key))

        return await run_in_threadpool(borrow_and_call)

    def _borrow_and_call(self, call: Callable[[Store], T]) -> T:
        with self._pool.store() as store:
            return self._call(store, call)

    def _call(self, store: Store, call: Callable[[Store], T]) -> T:
        self._key(store)
        return run_again_if_transient(store, call)

    def _key(self, store: Store) -> ApiKey:
        """The caller's key, refused unless it is known and allowed this scope."""
        key = authenticate(store, self._secret)
        if key is None:
            raise Refusal("unauthorized", "unknown or revoked secret key")
        if not key.allows(self._scope):
            raise Refusal("forbidden", f"this key lacks the {self._scope} scope")
        return key


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


class SecretKey(HTTPBearer):
    """A dependency: the secret key of ``Authorization: Bearer …`` as a Session for a key
    that must be allowed ``scope``, checked when the session is used. One dependency, not a
    bearer one under a session one: FastAPI spends more resolving a dependency than a lookup
    spends in SQLite. OpenAPI shows it as the plain bearer scheme it is."""

    def __init__(self, scope: str) -> None:
        super().__init__(
            auto_error=False,
            scheme_name="HTTPBearer",
            description="A secret key from `kenning keys add`",
        )
        self.scope = scope

    async def __call__(self, request: HTTPConnection) -> Session:  # type: ignore[override]
        credentials = await super().__call__(request)
        if credentials is None:
            raise Refusal("unauthorized", "send a secret key: Authorization: Bearer kn_sk_…")
        return Session(request.app.state.pool, credentials.credentials, self.scope)


CustomerReader = Annotated[Session, Depends(SecretKey("customers:read"))]
CustomerWriter = Annotated[Session, Depends(SecretKey("customers:write"))]
InventoryReader = Annotated[Session, Depends(SecretKey("inventory:read"))]
InventoryWriter = Annotated[Session, Depends(SecretKey("inventory:write"))]
PricingReader = Annotated[Session, Depends(SecretKey("pricing:read"))]
PricingWriter = Annotated[Session, Depends(SecretKey("pricing:write"))]
LedgerReader = Annotated[Session, Depends(SecretKey("ledger:read"))]
LedgerWriter = Annotated[Session, Depends(SecretKey("ledger:write"))]
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
