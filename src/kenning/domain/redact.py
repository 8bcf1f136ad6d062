"""Masking what identifies a person in text bound for a log."""

from __future__ import annotations

import re

# What looks like an e-mail address, or a phone number (nine digits or more, perhaps
# spaced, dashed or with a leading +).
_EMAIL = re.compile(r"[^\s@<>()\[\]'\",;:]+@[^\s@<>()\[\]'\",;:]+")
_PHONE = re.compile(r"(?<![\w.:])\+?\d(?:[ ()-]{0,2}\d){8,}(?![\w.:])")


def scrub(text: str) -> str:
    """``text`` with e-mail addresses and phone numbers masked: for messages from other
    systems (a mail server's refusal, a driver's error) that may quote them."""
    return _PHONE.sub("[phone]", _EMAIL.sub("[email]", text))
