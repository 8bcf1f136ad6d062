"""Sign-up verification codes: six digits, stored only as a salted hash, compared in
constant time, valid for a while and for a few attempts."""

from __future__ import annotations

import hashlib
import hmac
import secrets

CODE_DIGITS = 6
MAX_ATTEMPTS = 5
# Codes one e-mail address may be sent within an hour (whoever asks).
MAX_CODES_PER_HOUR = 5
# Codes one client (an IP address) may ask for within an hour, whatever the addresses: a
# shop's own server asking for all its shoppers needs more (KENNING_SIGNUP_CODES_PER_CLIENT).
CODES_PER_CLIENT_PER_HOUR = 20


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def hash_code(verification_id: str, code: str) -> str:
    """The code hashed with its verification's id as salt (a stolen table gives no code
    without a million tries per row, and the attempt limit stops guessing online)."""
    return hashlib.sha256(f"{verification_id}:{code.strip()}".encode()).hexdigest()


def code_matches(verification_id: str, code: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_code(verification_id, code), stored_hash)
