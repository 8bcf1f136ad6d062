"""Sources that send events (the web shop, a store's tills) and their write keys.

A write key only lets its holder add events as that source, so it may sit in a web page;
like secret keys it is shown once and kept as a sha256 hash.
"""

from __future__ import annotations

import secrets

from kenning.domain.records import RecordError, check_source_name
from kenning.domain.refusals import Refusal
from kenning.services.keys import hash_secret
from kenning.store import Store

WRITE_KEY_PREFIX = "kn_wk_"


def add_source(store: Store, name: str, *, trusted: bool = False) -> tuple[str, str]:
    """A new source and its write key (shown once). ``trusted``: a server-side system whose
    key never leaves it; a browser's key is not, since anyone can copy it from the page."""
    try:
        cleaned = check_source_name(name)
    except RecordError as exc:
        raise Refusal("invalid", str(exc)) from None
    key = WRITE_KEY_PREFIX + secrets.token_urlsafe(24)
    if not store.add_source(cleaned, key[: len(WRITE_KEY_PREFIX) + 6], hash_secret(key), trusted):
        raise Refusal("conflict", f"a source named {cleaned} exists already")
    return cleaned, key


def source_for(store: Store, write_key: str) -> str:
    """The source a write key belongs to; unauthorized if none."""
    source = store.source_by_key_hash(hash_secret(write_key)) if write_key else None
    if source is None:
        raise Refusal("unauthorized", "unknown write key")
    return source
