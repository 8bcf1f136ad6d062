from hypothesis import given, settings
from hypothesis import strategies as st

from kenning.domain.normalise import Verdict, normalise_identifier


def test_separators_and_case() -> None:
    assert normalise_identifier(" ab-1234 5 ").value == "AB12345"
    assert normalise_identifier("LOY.123/45").value == "LOY12345"
    assert normalise_identifier("sn\t9-8-7").value == "SN987"


def test_placeholders() -> None:
    for raw in ["0", "00000000", "XXXXXX", "none", "NONE", "N/A", "-", "unknown", "1111", "tbc"]:
        assert normalise_identifier(raw).verdict is Verdict.PLACEHOLDER, raw


def test_too_short_and_missing() -> None:
    assert normalise_identifier("ab").verdict is Verdict.INVALID
    assert normalise_identifier("1-2").verdict is Verdict.INVALID
    assert normalise_identifier(None).verdict is Verdict.MISSING
    assert normalise_identifier("   ").verdict is Verdict.MISSING


@settings(deadline=None)
@given(st.text())
def test_never_raises_and_idempotent(raw: str) -> None:
    once = normalise_identifier(raw)
    assert once.verdict in Verdict
    if once.value is not None:
        assert normalise_identifier(once.value) == once


@settings(deadline=None)
@given(st.from_regex(r"[A-Za-z0-9]{1,4}(?:[- ./][A-Za-z0-9]{1,4}){0,3}", fullmatch=True))
def test_case_and_separators_do_not_matter(raw: str) -> None:
    expected = normalise_identifier(raw)
    assert normalise_identifier(f" {raw.lower()} ") == expected
    assert normalise_identifier(raw.upper().replace("-", " ")) == expected
