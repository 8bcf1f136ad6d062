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
from kenning.store.access import AnswerRow, IdempotentAnswer, KeyTaken

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


def _digest(key: str, request: Mapping[str, Any]) -> str:
    if not key.strip() or len(key) > 255:
        raise Refusal("invalid", "an idempotency key is 1 to 255 characters")
    return request_digest(request)


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
    digest = _digest(key, request)
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
        _refuse(store, scope, key, digest, refused.refusal)
    except _Raced:
        pass
    first: T = _first(store, scope, key, digest, adapter)
    return first


class Answering:
    """How a write that saves its own answer (in its own statement) turns it into a row."""

    def __init__(self, scope: str, key: str, digest: str, adapter: TypeAdapter[Any]) -> None:
        self._where = (scope, key, digest)
        self._adapter = adapter

    def row(self, result: object, refusal: Refusal | None = None) -> AnswerRow:
        """``result`` as the answer; ``refusal`` the answer instead if the write is refused
        (and raises KeptRefusal saying so)."""
        body = None if refusal is None else {"code": refusal.code, "message": refusal.message}
        return AnswerRow(*self._where, self._adapter.dump_python(result, mode="json"), body)


class KeptRefusal(Exception):
    """A refusal the write already saved as the key's answer."""

    def __init__(self, refusal: Refusal) -> None:
        self.refusal = refusal


def once_saved_by_write(
    store: Store,
    scope: str,
    key: str | None,
    request: Mapping[str, Any],
    action: Callable[[Answering | None], T],
    kind: type[T],
) -> T:
    """``once`` for an action that saves its answer with its write, all or nothing, and
    raises KeyTaken (having written nothing) when the key already has one: no transaction
    around it, so on PostgreSQL a first request can be a single statement. A refused
    action must leave nothing written."""
    if key is None:
        return action(None)
    digest = _digest(key, request)
    adapter = _adapter(kind)
    try:
        return action(Answering(scope, key, digest, adapter))
    except KeyTaken:
        pass
    except KeptRefusal as kept:
        raise kept.refusal from None
    except Refusal as refusal:
        _refuse(store, scope, key, digest, refusal)
    first: T = _first(store, scope, key, digest, adapter)
    return first


def _refuse(store: Store, scope: str, key: str, digest: str, refusal: Refusal) -> None:
    """Keep the refusal as the key's answer and raise it; return if the key had one."""
    body = {"code": refusal.code, "message": refusal.message}
    if store.save_idempotent_answer(scope, key, digest, False, body):
        raise refusal from None


def _first(store: Store, scope: str, key: str, digest: str, adapter: TypeAdapter[Any]) -> Any:
    first = store.idempotent_answer(scope, key)
    assert first is not None
    return _replay(first, digest, adapter)


def _replay(first: IdempotentAnswer, digest: str, adapter: TypeAdapter[Any]) -> Any:
    if first.request_hash != digest:
        raise Refusal(
            "idempotency_mismatch", "this idempotency key was already used for another request"
        )
    if not first.ok:
        raise Refusal(first.response["code"], first.response["message"])
    return adapter.validate_python(first.response)
