from hypothesis import given, settings
from hypothesis import strategies as st

from kenning.domain.normalise import is_placeholder_text


def test_generic_fillers() -> None:
    fillers = [
        "n/a", "N/A", "na", " NA ", "n.a.", "none", "NULL", "nil", "unknown", "unk", "-",
        "--", "?", ".", "x", "xx", "XXX", "xxxxxxx", "test", "TBC", "tba", "not given",
        "Not-Provided", "refused", "declined", "no", "noname", "asdf", "nan",
    ]  # fmt: skip
    for value in fillers:
        assert is_placeholder_text(value), value


def test_real_values_and_blanks_are_not_fillers() -> None:
    for value in ["", "   ", "John", "Nancy", "Smith", "SW1A 1AA", "12 High St", "Xavier", "Noah"]:
        assert not is_placeholder_text(value), value


@settings(deadline=None)
@given(st.text())
def test_never_raises(value: str) -> None:
    assert is_placeholder_text(value) in (True, False)


@settings(deadline=None)
@given(st.sampled_from(["n/a", "not given", "unknown", "tbc"]), st.sampled_from([" ", "", "\t"]))
def test_case_and_spacing_do_not_matter(value: str, pad: str) -> None:
    assert is_placeholder_text(pad + value.upper() + pad)
    assert is_placeholder_text(value.title())
