"""Sources that send events (the web shop, a store's tills) and their write keys.

A write key only lets its holder add events as that source, so it may sit in a web page;
like secret keys it is shown once and kept as a sha256 hash. A key can be replaced
(rotate, at once or after a grace) or refused (revoke): both hold from the very next
request, in every server process, because a key is looked up in the database on every
request and never cached.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

from kenning.domain.records import RecordError, check_source_name
from kenning.domain.refusals import Refusal
from kenning.services.keys import hash_secret
from kenning.store import Store

WRITE_KEY_PREFIX = "kn_wk_"
MAX_GRACE_SECONDS = 7 * 24 * 3600  # how long a rotated key may still be taken


def _new_key() -> tuple[str, str, str]:
    """(key, prefix shown in lists, hash stored)."""
    key = WRITE_KEY_PREFIX + secrets.token_urlsafe(24)
    return key, key[: len(WRITE_KEY_PREFIX) + 6], hash_secret(key)


def _clean(name: str) -> str:
    try:
        return check_source_name(name)
    except RecordError as exc:
        raise Refusal("invalid", str(exc)) from None


def add_source(
    store: Store, name: str, *, trusted: bool = False, same_system: bool = False
) -> tuple[str, str]:
    """A new source and its write key (shown once). ``trusted``: a server-side system whose
    key never leaves it; a browser's key is not, since anyone can copy it from the page.

    A name under which records were imported from files is refused unless ``same_system``
    declares that the events come from the system those files came from: an event updates
    the record ``(source, userId)``, so a key of that name could otherwise rewrite another
    system's records (an identify with an imported account's id, its e-mail and phone)."""
    cleaned = _clean(name)
    key, prefix, key_hash = _new_key()
    with store.transaction():
        # Before the source exists, its name can hold records only from file imports: the
        # collection API writes records only for a source that exists, and none is deleted.
        if not same_system and store.source_has_records(cleaned):
            raise Refusal(
                "conflict",
                f"records were imported under the source name {cleaned}; events sent with "
                f"its key would change them. Choose another name for this source, or, if it "
                f"is the very system those records came from, declare it with --same-system",
            )
        if not store.add_source(cleaned, prefix, key_hash, trusted):
            raise Refusal("conflict", f"a source named {cleaned} exists already")
    return cleaned, key


def rotate_source(
    store: Store, name: str, *, grace_seconds: int = 0, now: float | None = None
) -> tuple[str, str]:
    """A new write key for the source, shown once. The old one is refused from now on, or
    after ``grace_seconds`` while its senders move to the new one (a second rotation ends
    that grace). A revoked source sends again with the new key, never with the old."""
    if not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
        raise Refusal("invalid", f"the grace is 0 to {MAX_GRACE_SECONDS} seconds (a week)")
    cleaned = _clean(name)
    key, prefix, key_hash = _new_key()
    until = int(time.time() if now is None else now) + grace_seconds if grace_seconds else 0
    if not store.replace_source_key(cleaned, prefix, key_hash, until):
        raise Refusal("not_found", f"no source named {cleaned}")
    return cleaned, key


def revoke_source(store: Store, name: str) -> bool:
    """Refuse the source's write key from now on (its events already logged stay); False
    if it was revoked already."""
    cleaned = _clean(name)
    with store.transaction():
        if store.revoke_source(cleaned, datetime.now(UTC).isoformat()):
            return True
        if any(row.name == cleaned for row in store.sources()):
            return False
    raise Refusal("not_found", f"no source named {cleaned}")


def source_for(store: Store, write_key: str, now: float | None = None) -> str:
    """The source a live write key belongs to; unauthorized if none. Looked up on every
    request (one probe of a unique index), never cached: a cache in each server process
    would keep a revoked key working there until it expired."""
    if not write_key:
        raise Refusal("unauthorized", "unknown or revoked write key")
    at = int(time.time() if now is None else now)
    source = store.source_by_key_hash(hash_secret(write_key), at)
    if source is None:
        raise Refusal("unauthorized", "unknown or revoked write key")
    return source
