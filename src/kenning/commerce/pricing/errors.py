"""Why a pricing request was refused, as a stable code and a sentence."""

from __future__ import annotations

from kenning.domain.refusals import Refusal

# code -> what it means; the API maps each to an HTTP status.
CODES = {
    "not_found": "no price for a SKU, no such promotion or coupon",
    "invalid": "the request breaks a rule (quantity, currency, dates…)",
    "coupon_exhausted": "the coupon has no uses left (in total or for this customer)",
}


class PricingError(Refusal):
    def __init__(self, code: str, message: str) -> None:
        assert code in CODES, code
        super().__init__(code, message)
