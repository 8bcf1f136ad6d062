"""Gift card codes: 16 random characters (80 bits) from an alphabet without look-alikes,
shown once in groups of four; only their sha256 is stored, and the last four to tell cards
apart. A code is matched however it is typed (case, spaces, dashes)."""

from __future__ import annotations

import hashlib
import secrets

from kenning.commerce.ledger.errors import LedgerError

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1
LENGTH = 16


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


def canonical(code: str) -> str:
    cleaned = "".join(ch for ch in code.upper() if ch not in " -")
    if len(cleaned) != LENGTH or any(ch not in ALPHABET for ch in cleaned):
        raise LedgerError("not_found", "no gift card with that code")
    return cleaned


def code_hash(code: str) -> str:
    return hashlib.sha256(canonical(code).encode()).hexdigest()


def last4(code: str) -> str:
    return canonical(code)[-4:]
