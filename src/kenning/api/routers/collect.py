"""The Segment-compatible collection API: Segment's and RudderStack's libraries send here
unchanged. A 200 means the events are in the log, committed: they survive a crash."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from kenning.domain.refusals import Refusal
from kenning.domain.segment import TYPES, Message, decode_body, parse_batch, parse_message
from kenning.services.collect import collect
from kenning.services.sources import source_for
from kenning.store.pool import StorePool

router = APIRouter(prefix="/v1", tags=["collection"])
_ANSWER = {"success": True}


def _write_key(request: Request, body: Any) -> str:
    """From Basic auth (the user name), a bearer token, or writeKey in the body."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            user = base64.b64decode(value, validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            raise Refusal("unauthorized", "malformed Basic authorization") from None
        if user:
            return user
    if scheme.lower() == "bearer" and value:
        return value.strip()
    if isinstance(body, dict) and isinstance(body.get("writeKey"), str):
        return str(body["writeKey"])
    raise Refusal("unauthorized", "send the source's write key as the Basic-auth user name")


Parse = Callable[[Any, Any], tuple[list[Message], list[str]]]


async def _accept(request: Request, parse: Parse) -> dict[str, bool]:
    body = decode_body(await request.body(), request.headers.get("content-encoding"))
    key = _write_key(request, body)
    messages, problems = parse(body, request.app.state.clock())
    pool: StorePool = request.app.state.pool

    def write() -> int:
        with pool.store() as store:
            source = source_for(store, key)
            return collect(store, source, messages) if messages else 0

    if await run_in_threadpool(write):
        request.app.state.follower.poke()
    if problems:
        raise Refusal(
            "invalid_request",
            f"{len(problems)} message(s) refused, {len(messages)} accepted: "
            + "; ".join(problems[:5])
            + (" …" if len(problems) > 5 else ""),
        )
    return _ANSWER


def _single(type_: str) -> Callable[[Request], Awaitable[dict[str, bool]]]:
    async def endpoint(request: Request) -> dict[str, bool]:
        return await _accept(
            request, lambda body, now: ([parse_message(body, now, type_=type_)], [])
        )

    endpoint.__name__ = type_
    endpoint.__doc__ = f"A {type_} message, as in Segment's HTTP tracking API."
    return endpoint


async def batch(request: Request) -> dict[str, bool]:
    """Up to 2,500 messages of any type (500 KB), written together; messages that are not
    valid are refused one by one (a 400 naming them) and the others kept."""
    return await _accept(request, parse_batch)


for _type in TYPES:
    for _path in (f"/{_type}", f"/{_type[0]}"):
        router.add_api_route(
            _path, _single(_type), methods=["POST"], include_in_schema=len(_path) > 2
        )
for _path in ("/batch", "/import", "/b"):
    router.add_api_route(_path, batch, methods=["POST"], include_in_schema=len(_path) > 2)
