"""Request bodies are limited while they are read, before anything else looks at them.

A body over its route's limit is refused with 413 ``{"code": "too_large", ...}``: at once
when its Content-Length says so (nothing is read), or as soon as the bytes counted off the
stream pass the limit (a chunked body costs the limit, not its size). This runs before the
key is checked and before any JSON is parsed, so an unauthenticated 300 MB POST costs at most
the limit plus one chunk. A NUL character in the URL is refused here too, for the same
reason: nothing behind it should have to cope.
"""

from __future__ import annotations

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kenning.domain.segment import MAX_BATCH_BYTES

# Every route but collection and the bulk uploads below.
DEFAULT_BODY_LIMIT = 1024 * 1024
# Bulk uploads take up to 50,000 entries (pricing_schemas): about 200 bytes each.
BULK_BODY_LIMIT = 16 * 1024 * 1024
BULK_PATHS = frozenset(("/v1/price-book", "/v1/promotions", "/v1/prices/audit"))
# Segment's limit for a batch; a single message is held to 32 KB when it is parsed.
COLLECTION_BODY_LIMIT = MAX_BATCH_BYTES
COLLECTION_PATHS = frozenset(
    f"/v1/{name}" for name in ("identify", "track", "page", "screen", "group", "alias", "batch",
                               "import", "b", "i", "t", "p", "s", "g", "a")
)  # fmt: skip


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when the body passes its limit. An HTTPException, so that
    whatever is reading the body (FastAPI's parser, a route) lets it through to the 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is over {limit // 1024} KB")
        self.limit = limit


def body_limit_for(path: str) -> int:
    path = path.rstrip("/")
    if path in COLLECTION_PATHS:
        return COLLECTION_BODY_LIMIT
    if path in BULK_PATHS:
        return BULK_BODY_LIMIT
    return DEFAULT_BODY_LIMIT


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _answer(send: Send, status: int, code: str, message: str) -> None:
    body = orjson.dumps({"code": code, "message": message})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            # The rest of the body is not read: the client must not send it on this connection.
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _too_large(send: Send, limit: int) -> None:
    await _answer(send, 413, "too_large", f"the body is over {limit // 1024} KB")


class BodyLimit:
    """ASGI middleware: counts the bytes of each HTTP request body against its limit, and
    refuses a NUL character in the URL (PostgreSQL cannot compare or store one: without
    this, SQLite and PostgreSQL would answer such a lookup differently)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope["query_string"] or b"%00" in scope.get("raw_path", b""):
            await _answer(send, 400, "invalid_request", "the URL holds a NUL character (%00)")
            return
        limit = body_limit_for(scope["path"])
        length = _content_length(scope)
        if length is not None and length > limit:
            await _too_large(send, limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        try:
            await self.app(scope, counted, send)
        except BodyTooLarge:
            # Raised past the app's own handlers, which answer it themselves (a body read
            # before any answer is started, as every route here reads it).
            await _too_large(send, limit)
