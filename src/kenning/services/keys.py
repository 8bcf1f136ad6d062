"""Secret API keys: created once and shown once, kept only as a sha256 hash, each with scopes.

``admin`` allows everything and ``X:write`` allows ``X:read``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from kenning.domain.refusals import Refusal
from kenning.store import Store

SCOPES = (
    "admin",
    "customers:read",
    "customers:write",
    "inventory:read",
    "inventory:write",
    "pricing:read",
    "pricing:write",
    "ledger:read",
    "ledger:write",
)
SECRET_PREFIX = "kn_sk_"


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    name: str
    prefix: str  # the start of the secret, enough to tell keys apart in a list
    scopes: tuple[str, ...]

    def allows(self, scope: str) -> bool:
        if "admin" in self.scopes or scope in self.scopes:
            return True
        area, _, access = scope.partition(":")
        return access == "read" and f"{area}:write" in self.scopes


def hash_secret(secret: str) -> str:
    # A secret is 256 random bits, so a plain fast hash is enough (no password stretching).
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(store: Store, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """A new key and its secret; the secret is not stored and cannot be shown again."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise Refusal("invalid", f"scopes must be some of {', '.join(SCOPES)}; got {unknown}")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    prefix = secret[: len(SECRET_PREFIX) + 6]
    chosen = sorted(set(scopes))
    key_id = store.add_api_key(name, prefix, hash_secret(secret), chosen)
    return ApiKey(key_id, name, prefix, tuple(chosen)), secret


def authenticate(store: Store, secret: str) -> ApiKey | None:
    """The live key a secret belongs to, or None."""
    if not secret.startswith(SECRET_PREFIX):
        return None
    row = store.api_key_by_hash(hash_secret(secret))
    if row is None or row.revoked:
        return None
    return ApiKey(row.id, row.name, row.prefix, row.scopes)


def list_keys(store: Store) -> list[tuple[ApiKey, bool]]:
    """Every key with whether it is revoked."""
    return [(ApiKey(r.id, r.name, r.prefix, r.scopes), r.revoked) for r in store.api_keys()]


def revoke_key(store: Store, key_id: int) -> bool:
    return store.revoke_api_key(key_id, datetime.now(UTC).isoformat())
