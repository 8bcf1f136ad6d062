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


# The bodies as OpenAPI describes them (the routes read the raw body: browsers send JSON as
# text/plain, and gzip): what Segment's libraries send, so clients and fuzzers see the shape.
_ID = {"type": "string", "minLength": 1, "maxLength": 200}
_REQUIRED = {"track": ["event"], "alias": ["previousId", "userId"], "group": ["groupId"]}


def _message_schema(type_: str | None) -> dict[str, Any]:
    """One message of ``type_``, or of any type (in a batch)."""
    properties: dict[str, Any] = {
        "type": {"type": "string", "enum": [type_] if type_ else list(TYPES)},
        "userId": _ID, "anonymousId": _ID, "messageId": _ID,
        "timestamp": {"type": "string", "format": "date-time"},
        "sentAt": {"type": "string", "format": "date-time"},
        "context": {"type": "object"},
    }  # fmt: skip
    if type_ in (None, "track"):
        properties.update(event=_ID, properties={"type": "object"})
    if type_ in (None, "page", "screen"):
        properties.update(name={"type": "string"}, properties={"type": "object"})
    if type_ in (None, "identify", "group"):
        properties["traits"] = {"type": "object"}
    if type_ in (None, "alias"):
        properties["previousId"] = _ID
    if type_ in (None, "group"):
        properties["groupId"] = _ID
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "anyOf": [{"required": ["userId"]}, {"required": ["anonymousId"]}],
    }
    required = ["type"] if type_ is None else _REQUIRED.get(type_, [])
    if required:
        schema["required"] = required
    return schema


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


# What collection answers besides 200 and the errors every route has (their shape, the
# error model, is added with the others' in api/openapi.py).
_ANSWERS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Messages refused, each named; the others were kept"},
    413: {"description": "Over 500 KB, 2,500 messages, or 32 KB for one message"},
}


_BATCH_SCHEMA = {
    "type": "object",
    "required": ["batch"],
    "properties": {
        "batch": {"type": "array", "items": _message_schema(None), "maxItems": 2500},
        "context": {"type": "object"},
        "sentAt": {"type": "string", "format": "date-time"},
    },
}

for _type in TYPES:
    for _path in (f"/{_type}", f"/{_type[0]}"):
        router.add_api_route(
            _path,
            _single(_type),
            methods=["POST"],
            include_in_schema=len(_path) > 2,
            openapi_extra=_body(_message_schema(_type)),
            responses=_ANSWERS,
        )
for _path in ("/batch", "/import", "/b"):
    router.add_api_route(
        _path,
        batch,
        methods=["POST"],
        include_in_schema=len(_path) > 2,
        openapi_extra=_body(_BATCH_SCHEMA),
        responses=_ANSWERS,
    )
