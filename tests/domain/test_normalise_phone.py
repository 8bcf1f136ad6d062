import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kenning.domain.normalise import Verdict, normalise_phone, phone_kind


def e164(raw: str, country: str | None) -> str | None:
    return normalise_phone(raw, country).value


def verdict(raw: str | None, country: str | None) -> Verdict:
    return normalise_phone(raw, country).verdict


def test_us_formats_share_one_number() -> None:
    for raw in ["(215) 555-0134", "215.555.0134", "2155550134", "215-555-0134", "1 215 555 0134"]:
        assert e164(raw, "US") == "+12155550134", raw
    assert e164("+1 (215) 555-0134", None) == "+12155550134"
    assert e164("011 44 20 7946 0958", "US") == "+442079460958"


def test_gb_formats() -> None:
    assert e164("07911 123456", "GB") == "+447911123456"
    assert e164("+44 7911 123456", None) == "+447911123456"
    assert e164("0044 7911 123456", None) == "+447911123456"
    assert e164("+44 (0)20 7946 0958", None) == "+442079460958"
    assert e164("020 7946 0958", "gb") == "+442079460958"
    assert e164("tel: 020 7946 0958", "GB") == "+442079460958"


def test_other_countries() -> None:
    assert e164("030 1234567", "DE") == "+49301234567"
    assert e164("06 12 34 56 78", "FR") == "+33612345678"


def test_extensions_are_dropped() -> None:
    assert e164("020 7946 0958 x123", "GB") == "+442079460958"
    assert e164("020 7946 0958 ext. 4", "GB") == "+442079460958"
    assert e164("(215) 555-0134 Ext 22", "US") == "+12155550134"


def test_national_number_needs_a_country() -> None:
    assert verdict("2155550134", None) is Verdict.INVALID
    assert verdict("07911 123456", None) is Verdict.INVALID


def test_placeholders() -> None:
    for raw in [
        "0000000000", "1111111111", "9999999999", "1234567890", "0123456789", "9876543210",
        "5555555", "0700000000", "(555) 555-5555", "+44 7000 000000", "0", "n/a", "none",
    ]:  # fmt: skip
        assert verdict(raw, "GB") is Verdict.PLACEHOLDER, raw
        assert verdict(raw, "US") is Verdict.PLACEHOLDER, raw


def test_invalid() -> None:
    assert verdict("12345", "US") is Verdict.INVALID
    assert verdict("020 7946", "GB") is Verdict.INVALID
    assert verdict("phone me", "GB") is Verdict.INVALID
    assert verdict("2155550134", "ZZ") is Verdict.INVALID


def test_missing() -> None:
    assert verdict(None, "GB") is Verdict.MISSING
    assert verdict("  ", "GB") is Verdict.MISSING


def test_vanity_number() -> None:
    assert e164("1-800-FLOWERS", "US") == "+18003569377"


def test_phone_kind() -> None:
    assert phone_kind("+447911123456") == "mobile"
    assert phone_kind("+442079460958") == "fixed_line"
    assert phone_kind("+12155550134") == "other"  # the US plan does not say
    assert phone_kind("garbage") == "other"


@settings(deadline=None)
@given(st.text(), st.sampled_from([None, "GB", "US", "DE", "FR", "ZZ", "gb", ""]))
def test_never_raises(raw: str, country: str | None) -> None:
    assert normalise_phone(raw, country).verdict in Verdict


area_codes = st.sampled_from(["212", "215", "312", "415", "617", "702", "305", "503"])
us_numbers = st.tuples(
    area_codes,
    st.from_regex(r"[2-9][0-9]{2}", fullmatch=True),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
)


@settings(deadline=None)
@given(us_numbers)
def test_us_variants_map_to_one_number(parts: tuple[str, str, str]) -> None:
    a, e, line = parts
    variants = [
        f"({a}) {e}-{line}", f"{a}.{e}.{line}", f"{a}{e}{line}", f"{a}-{e}-{line}",
        f"1-{a}-{e}-{line}", f"+1 {a} {e} {line}", f" {a} {e} {line} x12",
    ]  # fmt: skip
    results = {normalise_phone(v, "US") for v in variants}
    results.add(normalise_phone(f"+1{a}{e}{line}", None))
    results.add(normalise_phone(f"001 {a} {e} {line}", "GB"))
    assert len(results) == 1, results


@settings(deadline=None)
@given(st.from_regex(r"7[0-9]{9}", fullmatch=True))
def test_gb_mobile_variants_map_to_one_number(nsn: str) -> None:
    variants = [
        (f"0{nsn}", "GB"), (f"0{nsn[:4]} {nsn[4:]}", "GB"), (f"+44 {nsn}", None),
        (f"+44 (0){nsn}", None), (f"0044{nsn}", "US"), (f"+44-{nsn[:4]}-{nsn[4:]}", "DE"),
    ]  # fmt: skip
    assert len({normalise_phone(raw, country) for raw, country in variants}) == 1


@settings(deadline=None)
@given(us_numbers | st.from_regex(r"07[0-9]{9}", fullmatch=True), st.sampled_from(["US", "GB"]))
def test_idempotent(number: tuple[str, str, str] | str, country: str) -> None:
    raw = number if isinstance(number, str) else "".join(number)
    once = normalise_phone(raw, country)
    if once.value is not None:
        assert normalise_phone(once.value, None) == once
        assert normalise_phone(once.value, "FR") == once


def test_known_valid_variants_are_ok() -> None:
    # The property tests above only compare variants; make sure they are compared as OK too.
    assert normalise_phone("(212) 736-5000", "US").ok
    assert normalise_phone("07911123456", "GB").ok


# The fast path must give exactly what the full parser gives, whenever it answers.
_REGIONS = ("GB", "US", "CA", "DE", "FR", "IT", "ES", "IE", "NL", "AU", "IN", "BR", "JP")


@given(
    st.sampled_from(_REGIONS),
    st.booleans(),
    st.text(alphabet="0123456789", min_size=5, max_size=15),
)
@settings(max_examples=3000, deadline=None)
def test_fast_path_agrees_with_the_full_parser(
    region: str, international: bool, digits: str
) -> None:
    from kenning.domain.normalise import phone

    fast = phone._fast_e164(international, digits, None if international else region)
    if fast is None:
        return
    full = phone._judge(
        ("+" if international else "") + digits, None if international else region, digits
    )
    expected = full.value if full.ok else None
    if full.verdict.value == "placeholder":
        return
    assert fast[0] == expected


@pytest.mark.parametrize(
    ("raw", "country"),
    [
        ("07911 123456", "GB"),
        ("020 7946 0958", "GB"),
        ("+44 (0)20 7946 0958", None),
        ("(215) 555-0134", "US"),
        ("1-215-555-0134", "US"),
        ("+1 416 555 0134", None),
        ("030 12345678", "DE"),
        ("06 12 34 56 78", "FR"),
        ("06 1234 5678", "IT"),
        ("+39 06 1234 5678", None),
    ],
)
def test_fast_path_matches_real_numbers(raw: str, country: str | None) -> None:
    import phonenumbers

    number = phonenumbers.parse(raw, country)
    expected = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    assert normalise_phone(raw, country).value == expected
