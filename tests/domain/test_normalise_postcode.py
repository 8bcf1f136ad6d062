from hypothesis import given, settings
from hypothesis import strategies as st

from kenning.domain.normalise import Verdict, normalise_postcode, postcode_district


def value(raw: str, country: str | None) -> str | None:
    return normalise_postcode(raw, country).value


def verdict(raw: str | None, country: str | None) -> Verdict:
    return normalise_postcode(raw, country).verdict


def test_gb() -> None:
    assert value("sw1a1aa", "GB") == "SW1A 1AA"
    assert value(" SW1A  1AA ", "GB") == "SW1A 1AA"
    assert value("m11ae", "GB") == "M1 1AE"
    assert value("ec1a 1bb", "GB") == "EC1A 1BB"
    assert value("gir0aa", "GB") == "GIR 0AA"
    assert value("B33 8TH", "UK") == "B33 8TH"
    assert verdict("SW1A", "GB") is Verdict.INVALID
    assert verdict("QQ1 1AA", "GB") is Verdict.INVALID
    assert verdict("SW1A 1AAA", "GB") is Verdict.INVALID


def test_us() -> None:
    assert value("90210", "US") == "90210"
    assert value("90210-1234", "US") == "90210"
    assert value("902101234", "US") == "90210"
    assert value("2134", "US") == "02134"  # a spreadsheet dropped the leading zero
    assert verdict("123", "US") is Verdict.INVALID
    assert verdict("9021O", "US") is Verdict.INVALID


def test_other_national_formats() -> None:
    assert value("k1a0b1", "CA") == "K1A 0B1"
    assert value("d02x285", "IE") == "D02 X285"
    assert value("1234ab", "NL") == "1234 AB"
    assert verdict("1234 SS", "NL") is Verdict.INVALID
    assert value("10115", "DE") == "10115"
    assert value("D-10115", "DE") == "10115"
    assert value("1067", "DE") == "01067"
    assert value("75 001", "FR") == "75001"
    assert value("00184", "IT") == "00184"
    assert value("28013", "ES") == "28013"
    assert value("8001", "CH") == "8001"
    assert value("1010", "AT") == "1010"
    assert value("2000", "AU") == "2000"
    assert value("800", "AU") == "0800"
    assert value("1000", "BE") == "1000"
    assert value("2100", "DK") == "2100"
    assert value("0150", "NO") == "0150"
    assert verdict("123456", "DE") is Verdict.INVALID
    assert verdict("12345", "CH") is Verdict.INVALID


def test_unknown_country() -> None:
    assert value(" 100-0001 ", "JP") == "100-0001"
    assert value("ab  12", None) == "AB 12"
    assert value("sw1a1aa", None) == "SW1A 1AA"  # unmistakably British
    assert verdict("!!", "JP") is Verdict.PLACEHOLDER


def test_placeholders() -> None:
    for raw in ["00000", "99999", "XXXXX", "N/A", "n/a", "none", "ZZ99 3VZ"]:
        for country in ("US", "GB", "DE", None):
            assert verdict(raw, country) is Verdict.PLACEHOLDER, (raw, country)


def test_missing() -> None:
    assert verdict(None, "GB") is Verdict.MISSING
    assert verdict("  ", "GB") is Verdict.MISSING


def test_district() -> None:
    assert postcode_district("SW1A 1AA", "GB") == "SW1A"
    assert postcode_district("M1 1AE", "GB") == "M1"
    assert postcode_district("90210", "US") == "902"
    assert postcode_district("10115", "DE") is None
    assert postcode_district("SW1A 1AA", None) == "SW1A"


NATIONAL_FORMATS = {"GB", "US", "CA", "IE", "NL", "DE", "FR", "AU", "CH"}
countries = st.sampled_from(["GB", "US", "CA", "IE", "NL", "DE", "FR", "AU", "CH", "JP", None])


@settings(deadline=None)
@given(st.text(), countries)
def test_never_raises(raw: str, country: str | None) -> None:
    cleaned = normalise_postcode(raw, country)
    assert cleaned.verdict in Verdict
    if cleaned.value is not None:
        postcode_district(cleaned.value, country)


gb_codes = st.from_regex(
    r"(?:[A-PR-UWYZ][0-9]{1,2}|[A-PR-UWYZ][A-HK-Y][0-9]{1,2})[0-9][ABD-HJLNP-UW-Z]{2}",
    fullmatch=True,
)
samples = st.one_of(
    st.tuples(gb_codes, st.just("GB")),
    st.tuples(st.from_regex(r"[0-9]{4,5}", fullmatch=True), st.just("US")),
    st.tuples(st.from_regex(r"[1-9][0-9]{3}[A-Z]{2}", fullmatch=True), st.just("NL")),
    st.tuples(st.from_regex(r"[0-9]{5}", fullmatch=True), st.sampled_from(["DE", "FR"])),
    st.tuples(st.from_regex(r"[A-Z0-9]{2,4} ?[A-Z0-9]{2,4}", fullmatch=True), countries),
)


@settings(deadline=None)
@given(samples)
def test_idempotent(sample: tuple[str, str | None]) -> None:
    raw, country = sample
    once = normalise_postcode(raw, country)
    if once.value is not None:
        assert normalise_postcode(once.value, country) == once


@settings(deadline=None)
@given(samples, st.sampled_from(["", " ", "  "]))
def test_case_and_whitespace_insensitive(sample: tuple[str, str | None], pad: str) -> None:
    raw, country = sample
    expected = normalise_postcode(raw, country)
    assert normalise_postcode(pad + raw.lower() + pad, country) == expected
    if country in NATIONAL_FORMATS:  # elsewhere inner spaces are kept, only collapsed
        assert normalise_postcode(raw.replace(" ", ""), country) == expected
