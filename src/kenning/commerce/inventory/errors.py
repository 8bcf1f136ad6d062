"""Why an inventory request was refused, as a stable code and a sentence."""

from __future__ import annotations

from kenning.domain.refusals import Refusal

# code -> what it means; the API maps each to an HTTP status.
CODES = {
    "not_found": "no such location, reservation or transfer",
    "insufficient_stock": "not enough available stock for a line",
    "invalid": "the request breaks a rule (quantity, coordinates, plan…)",
    "conflict": "the object is not in a state that allows this",
}


class InventoryError(Refusal):
    def __init__(self, code: str, message: str) -> None:
        assert code in CODES, code
        super().__init__(code, message)
