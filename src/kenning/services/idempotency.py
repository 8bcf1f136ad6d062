"""Idempotent writes: the first answer to a key is kept, and a retry gets it back.

The write and the saved answer commit in one transaction, so a key never has an answer
for a write that did not happen, nor a write without its answer. A refusal is an answer
too: a retry of a refused request is refused the same way, even if stock came back since.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import orjson
from pydantic import TypeAdapter

from kenning.domain.refusals import Refusal
from kenning.store import Store
from kenning.store.access import IdempotentAnswer

T = TypeVar("T")


class _Raced(Exception):
    """Another request with the same key committed first."""


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(kind: Any) -> TypeAdapter[Any]:
    if kind not in _ADAPTERS:
        _ADAPTERS[kind] = TypeAdapter(kind)
    return _ADAPTERS[kind]


def request_digest(request: Mapping[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(request, option=orjson.OPT_SORT_KEYS)).hexdigest()


class _Refused(Exception):
    """Carries a refusal out of the transaction, so everything the action wrote rolls back."""

    def __init__(self, refusal: Refusal) -> None:
        self.refusal = refusal


def once(
    store: Store,
    scope: str,
    key: str | None,
    request: Mapping[str, Any],
    action: Callable[[], T],
    kind: type[T],
) -> T:
    """Run ``action`` unless ``key`` was seen; returns (or raises) the first answer.

    ``request`` is what the caller asked (the key must not be reused for anything else);
    ``kind`` is the type of the answer, to store it as JSON and read it back. The common
    case, a first request, costs one extra statement: the action runs straight away and its
    answer is saved in the same transaction; a retry finds the key taken when saving, rolls
    its own work back and answers as the first time.
    """
    if key is None:
        return action()
    if not key.strip() or len(key) > 255:
        raise Refusal("invalid", "an idempotency key is 1 to 255 characters")
    digest = request_digest(request)
    adapter = _adapter(kind)
    try:
        with store.transaction():
            try:
                result = action()
            except Refusal as exc:
                raise _Refused(exc) from None
            answer = adapter.dump_python(result, mode="json")
            if not store.save_idempotent_answer(scope, key, digest, True, answer):
                raise _Raced
        return result
    except _Refused as refused:
        refusal = refused.refusal
        body = {"code": refusal.code, "message": refusal.message}
        if store.save_idempotent_answer(scope, key, digest, False, body):
            raise refusal from None
    except _Raced:
        pass
    first = store.idempotent_answer(scope, key)
    assert first is not None
    replayed: T = _replay(first, digest, adapter)
    return replayed


def _replay(first: IdempotentAnswer, digest: str, adapter: TypeAdapter[Any]) -> Any:
    if first.request_hash != digest:
        raise Refusal(
            "idempotency_mismatch", "this idempotency key was already used for another request"
        )
    if not first.ok:
        raise Refusal(first.response["code"], first.response["message"])
    return adapter.validate_python(first.response)
