"""API secret keys (hashed) and the first answer to each idempotent write."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from kenning.store.hooks import SqlHooks


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


@dataclass(frozen=True, slots=True)
class KeyRow:
    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    revoked: bool


@dataclass(frozen=True, slots=True)
class IdempotentAnswer:
    request_hash: str
    ok: bool
    response: Any


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """A write's successful answer under an idempotency key, saved by the write itself;
    ``refusal`` ({code, message}) is what a write may keep instead when stock is short."""

    scope: str
    key: str
    request_hash: str
    response: Any
    refusal: Any = None

    def params(self, ok: bool = True) -> tuple[str, str, str, int, str]:
        response = orjson.dumps(self.response).decode()
        return (self.scope, self.key, self.request_hash, int(ok), response)


class KeyTaken(Exception):
    """The idempotency key already has an answer; the write that carried it rolled back."""


SAVE_ANSWER = (
    "INSERT INTO idempotency_keys (scope, key, request_hash, ok, response) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope, key) DO NOTHING RETURNING key"
)


class AccessTables(SqlHooks):
    def add_api_key(self, name: str, prefix: str, secret_hash: str, scopes: list[str]) -> int:
        rows = self._query(
            "INSERT INTO api_keys (name, prefix, secret_hash, scopes) VALUES (?, ?, ?, ?) "
            "RETURNING id",
            (name, prefix, secret_hash, orjson.dumps(scopes).decode()),
        )
        return int(rows[0][0])

    def api_key_by_hash(self, secret_hash: str) -> KeyRow | None:
        rows = self._query(
            "SELECT id, name, prefix, scopes, revoked_at FROM api_keys WHERE secret_hash = ?",
            (secret_hash,),
        )
        if not rows:
            return None
        id_, name, prefix, scopes, revoked = rows[0]
        return KeyRow(int(id_), name, prefix, tuple(_json(scopes)), revoked is not None)

    def api_keys(self) -> list[KeyRow]:
        rows = self._query("SELECT id, name, prefix, scopes, revoked_at FROM api_keys ORDER BY id")
        return [KeyRow(int(i), n, p, tuple(_json(s)), r is not None) for i, n, p, s, r in rows]

    def revoke_api_key(self, key_id: int, when: str) -> bool:
        rows = self._query(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING id",
            (when, key_id),
        )
        return bool(rows)

    def idempotent_answer(self, scope: str, key: str) -> IdempotentAnswer | None:
        rows = self._query(
            "SELECT request_hash, ok, response FROM idempotency_keys WHERE scope = ? AND key = ?",
            (scope, key),
        )
        if not rows:
            return None
        request_hash, ok, response = rows[0]
        return IdempotentAnswer(request_hash, bool(ok), _json(response))

    def save_idempotent_answer(
        self, scope: str, key: str, request_hash: str, ok: bool, response: Any
    ) -> bool:
        """Keep the first answer; False (nothing written) if the key already has one.

        On PostgreSQL a concurrent first use of the same key waits here for the other
        transaction and then finds its row, so only one of them keeps its answer.
        """
        row = AnswerRow(scope, key, request_hash, response)
        return bool(self._query(SAVE_ANSWER, row.params(ok)))
