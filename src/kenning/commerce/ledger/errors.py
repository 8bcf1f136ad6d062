"""Why a ledger request was refused, as a stable code and a sentence."""

from __future__ import annotations

from kenning.domain.refusals import Refusal

# code -> what it means; the API maps each to an HTTP status.
CODES = {
    "not_found": "no such account, gift card, transaction or order",
    "insufficient_funds": "the account does not hold that much unexpired value",
    "invalid": "the request breaks a rule (amounts, units, postings…)",
    "conflict": "the object is not in a state that allows this",
}


class LedgerError(Refusal):
    def __init__(self, code: str, message: str) -> None:
        assert code in CODES, code
        super().__init__(code, message)
