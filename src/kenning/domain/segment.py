"""Messages of the Segment HTTP tracking API, as Segment's libraries send them.

Parsing, the documented limits, the timestamp correction and which identifiers a message
carries; no I/O. https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from kenning.domain.records import CANONICAL_FIELDS, fold_column
from kenning.domain.refusals import Refusal
from kenning.domain.segment_ecommerce import check_ecommerce

MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_BATCH_MESSAGES = 2500
# Levels of nesting a message may have (orjson, which stores it, stops at 254).
MAX_DEPTH = 250
TYPES = ("identify", "track", "page", "screen", "group", "alias")
# The browser library's short paths.
SHORT_TYPES = {t[0]: t for t in TYPES}
# Identifier kinds of context.externalIds that name a canonical field.
_EXTERNAL_ID_FIELDS = {
    "email": "email",
    "phone": "phone",
    "loyalty_id": "loyalty_id",
    "loyaltyid": "loyalty_id",
    "serial_number": "serial_number",
}
# Traits that are canonical fields under Segment's names (others go through fold_column).
_ADDRESS_FIELDS = {
    "street": "address_line1",
    "city": "city",
    "state": "region",
    "postalcode": "postcode",
    "postal_code": "postcode",
    "country": "country",
}
_CANONICAL = frozenset(CANONICAL_FIELDS[2:])


def invalid(message: str) -> Refusal:
    return Refusal("invalid_request", message)


def _has_nul(encoded: bytes) -> bool:
    """Whether JSON text holds a NUL character (``\\u0000`` not itself escaped): PostgreSQL
    cannot store one in text or jsonb, so neither backend takes it."""
    at = encoded.find(b"\\u0000")
    while at >= 0:
        backslashes = len(encoded[:at]) - len(encoded[:at].rstrip(b"\\"))
        if backslashes % 2 == 0:
            return True
        at = encoded.find(b"\\u0000", at + 1)
    return False


def check_encodable(value: Any, what: str) -> bytes:
    """``value`` as JSON, refused when it cannot be stored: nested deeper than JSON is
    re-encoded (orjson stops at 254 levels) or holding a NUL character."""
    try:
        encoded = orjson.dumps(value)
    except orjson.JSONEncodeError:
        raise invalid(f"{what} is nested too deeply (at most {MAX_DEPTH} levels)") from None
    if b"\\u0000" in encoded and _has_nul(encoded):
        raise invalid(f"{what} holds a NUL character (\\u0000), which cannot be stored")
    return encoded


def decode_body(body: bytes, content_encoding: str | None) -> Any:
    """The JSON of a request body, whatever its Content-Type (browsers send text/plain),
    gunzipped or inflated when it says so."""
    encoding = (content_encoding or "").strip().lower()
    if len(body) > MAX_BATCH_BYTES:
        raise Refusal("too_large", f"the body is over {MAX_BATCH_BYTES // 1024} KB")
    if encoding in ("gzip", "deflate"):
        # Inflated no further than the limit: a small bomb must not cost gigabytes.
        window = zlib.MAX_WBITS | (16 if encoding == "gzip" else 0)
        try:
            body = zlib.decompressobj(window).decompress(body, MAX_BATCH_BYTES + 1)
        except zlib.error as exc:
            raise invalid(f"the body is not valid {encoding}: {exc}") from None
    if len(body) > MAX_BATCH_BYTES:
        raise Refusal("too_large", f"the body is over {MAX_BATCH_BYTES // 1024} KB")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise invalid(f"the body is not valid JSON: {exc}") from None


@dataclass(frozen=True, slots=True)
class Message:
    type: str
    message_id: str | None
    user_id: str | None
    anonymous_id: str | None
    payload: dict[str, Any]  # as sent, with timestamp corrected and receivedAt added


def _text(value: Any, name: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid(f"{name} must be a string")
    return str(value)


def _time(value: Any, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise invalid(f"{name} must be an ISO-8601 time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"{name} is not an ISO-8601 time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_message(
    raw: Any,
    received_at: datetime,
    *,
    type_: str | None = None,
    sent_at: Any = None,
    context: Mapping[str, Any] | None = None,
) -> Message:
    """One message, checked. ``type_`` is the endpoint's type (a batch's messages carry
    their own); ``sent_at`` and ``context`` are the batch's, which messages inherit.

    The timestamp is corrected for the sender's clock as Segment does: the time between
    the event and sending it, subtracted from when it was received.
    """
    if not isinstance(raw, dict):
        raise invalid("a message must be a JSON object")
    if len(check_encodable(raw, "a message")) > MAX_MESSAGE_BYTES:
        raise Refusal("too_large", f"a message is over {MAX_MESSAGE_BYTES // 1024} KB")
    kind = raw.get("type") or type_
    if type_ and raw.get("type") and raw["type"] != type_:
        raise invalid(f"a {raw['type']} message sent to the {type_} endpoint")
    if kind not in TYPES:
        raise invalid(f"type must be one of {', '.join(TYPES)}, not {kind!r}")
    user_id = _text(raw.get("userId"), "userId")
    anonymous_id = _text(raw.get("anonymousId"), "anonymousId")
    if user_id is None and anonymous_id is None:
        raise invalid("a message needs a userId or an anonymousId")
    if kind == "track" and not _text(raw.get("event"), "event"):
        raise invalid("a track message needs an event name")
    if kind == "alias" and not (_text(raw.get("previousId"), "previousId") and user_id):
        raise invalid("an alias message needs a previousId and a userId")
    if kind == "group" and not _text(raw.get("groupId"), "groupId"):
        raise invalid("a group message needs a groupId")
    for name in ("traits", "properties", "context"):
        if raw.get(name) is not None and not isinstance(raw[name], dict):
            raise invalid(f"{name} must be an object")
    payload = dict(raw)
    payload["type"] = kind
    if context:
        payload["context"] = {**context, **(raw.get("context") or {})}
    if kind == "track":
        check_ecommerce(str(raw["event"]), raw.get("properties") or {})
    timestamp = _time(raw.get("timestamp"), "timestamp")
    sent = _time(raw.get("sentAt") or sent_at, "sentAt")
    try:
        if timestamp is not None and sent is not None:
            timestamp = received_at - (sent - timestamp)
        corrected = _iso(timestamp or received_at)
    except OverflowError:
        # Corrected past year 1 or 9999: no clock is that wrong, so the times are refused
        # rather than clamped to a date that would only look meaningful.
        raise invalid("timestamp is out of range once corrected by sentAt") from None
    payload["originalTimestamp"] = raw.get("timestamp")
    payload["timestamp"] = corrected
    payload["receivedAt"] = _iso(received_at)
    payload.pop("writeKey", None)
    message_id = _text(raw.get("messageId"), "messageId")
    return Message(kind, message_id, user_id, anonymous_id, payload)


def parse_batch(body: Any, received_at: datetime) -> tuple[list[Message], list[str]]:
    """The valid messages of a batch and what was wrong with each of the others: one bad
    message does not cost the good ones (Segment's libraries do not retry a 400)."""
    if not isinstance(body, dict) or not isinstance(body.get("batch"), list):
        raise invalid("a batch is an object with a batch array")
    messages = body["batch"]
    if len(messages) > MAX_BATCH_MESSAGES:
        raise Refusal("too_large", f"a batch holds at most {MAX_BATCH_MESSAGES} messages")
    context = body.get("context")
    if context is not None and not isinstance(context, dict):
        raise invalid("context must be an object")
    if context:
        check_encodable(context, "the batch's context")
    parsed, problems = [], []
    for i, raw in enumerate(messages):
        try:
            sent_at = body.get("sentAt")
            parsed.append(parse_message(raw, received_at, sent_at=sent_at, context=context))
        except Refusal as exc:
            problems.append(f"batch[{i}]: {exc.message}")
    return parsed, problems


def _flatten_traits(traits: Mapping[str, Any], into: dict[str, Any]) -> None:
    for name, value in traits.items():
        if value is None or value == "":
            continue
        if name == "address" and isinstance(value, dict):
            for part, text in value.items():
                field = _ADDRESS_FIELDS.get(part.lower())
                if field and text not in (None, ""):
                    into[field] = text
            continue
        if name in ("id", "userId", "anonymousId"):
            continue
        into[fold_column(name)] = value


def identity_fields(message: Message) -> dict[str, Any]:
    """What the message says about who sent it, as source-record columns: an identify's
    traits, any message's context.traits and context.externalIds. Only the canonical
    fields that identify someone; the rest of the traits stay in the event."""
    found: dict[str, Any] = {}
    context = message.payload.get("context") or {}
    if isinstance(context.get("traits"), dict):
        _flatten_traits(context["traits"], found)
    if message.type == "identify" and isinstance(message.payload.get("traits"), dict):
        _flatten_traits(message.payload["traits"], found)
    for external in context.get("externalIds") or []:
        if isinstance(external, dict):
            field = _EXTERNAL_ID_FIELDS.get(str(external.get("type", "")).lower())
            if field and external.get("id") not in (None, ""):
                found[field] = external["id"]
    return {name: value for name, value in found.items() if name in _CANONICAL}
