from __future__ import annotations

import pytest

from kenning.domain.normalise import infer_country


@pytest.mark.parametrize(
    ("postcode", "phone", "country"),
    [
        ("SW1A 1AA", None, "GB"),
        ("sw1a1aa", "", "GB"),
        ("10009", "(917) 427-2112", "US"),
        ("19103-1234", None, "US"),
        (None, "+44 20 7946 0958", "GB"),
        (None, "0044 20 7946 0958", "GB"),
        (None, "215.555.0134", "US"),
        ("M5V 2T6", "(416) 555-0134", "CA"),
        ("1012 AB", None, "NL"),
        ("D02 X285", None, "IE"),
    ],
)
def test_unambiguous_evidence_names_the_country(
    postcode: str | None, phone: str | None, country: str
) -> None:
    assert infer_country(postcode, phone) == country


@pytest.mark.parametrize(
    ("postcode", "phone"),
    [
        ("10009", None),  # a ZIP, or a postcode in Germany, France, Spain, Italy
        (None, "020 7946 0958"),  # national format: the country is exactly what is missing
        (None, "030 12345678"),
        ("SW1A 1AA", "(917) 427-2112"),  # disagreeing evidence: no guess
        (None, None),
    ],
)
def test_ambiguous_evidence_names_nothing(postcode: str | None, phone: str | None) -> None:
    assert infer_country(postcode, phone) is None
