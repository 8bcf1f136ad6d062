from __future__ import annotations

import pytest

from kenning.domain.normalise import infer_country, phone_in_markets


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


MARKETS = ("GB", "US")


@pytest.mark.parametrize(
    ("postcode", "phone", "country"),
    [
        (None, "07911 123456", "GB"),  # a British mobile: no American number starts with 0
        ("19146", None, "US"),  # a ZIP, and no British postcode
        ("19146", "07911 123456", None),  # they disagree: no guess
        (None, "12345", None),  # fits neither
    ],
)
def test_a_value_that_fits_one_market_names_it(
    postcode: str | None, phone: str | None, country: str | None
) -> None:
    assert infer_country(postcode, phone, MARKETS) == country
    assert infer_country(postcode, phone) in (None, "US")  # without markets: only the ZIP+4 rule


def test_markets_that_both_fit_decide_nothing() -> None:
    assert infer_country("10115", None, ("DE", "US")) is None  # a Berlin postcode, or a ZIP


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("07744 103362", "US", "+447744103362"),  # a visitor's number at an American till
        ("12679984584", "GB", "+12679984584"),  # the + left off, in a British record
        ("07911 123456", None, "+447911123456"),
        ("020 7946 0958", "GB", "+442079460958"),  # fits its own country: read there
    ],
)
def test_a_number_invalid_in_its_country_is_read_in_the_one_market_it_fits(
    raw: str, country: str | None, e164: str
) -> None:
    assert phone_in_markets(raw, country, MARKETS).value == e164


def test_without_markets_a_national_number_means_nothing() -> None:
    assert phone_in_markets("07744 103362", "US").value is None
    assert phone_in_markets("07911 123456", None).value is None
