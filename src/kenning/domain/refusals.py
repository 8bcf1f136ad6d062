"""A request refused for a reason the caller can act on: a stable code and a sentence.

Services raise a Refusal (or a subclass); the API turns it into ``{code, message}`` with the
HTTP status its code maps to, the CLI prints the sentence.
"""

from __future__ import annotations


class Refusal(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
