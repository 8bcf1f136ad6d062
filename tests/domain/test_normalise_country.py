import pycountry
from hypothesis import given, settings
from hypothesis import strategies as st

from kenning.domain.normalise import Verdict, normalise_country


def code(raw: str) -> str | None:
    return normalise_country(raw).value


def test_codes_and_names() -> None:
    assert code("GB") == "GB"
    assert code("gbr") == "GB"
    assert code("United Kingdom") == "GB"
    assert code("Germany") == "DE"
    assert code("DEU") == "DE"
    assert code("france") == "FR"
    assert code("Côte d'Ivoire") == "CI"
    assert code("Bosnia & Herzegovina") == "BA"
    assert code("Bolivia") == "BO"


def test_aliases() -> None:
    for raw in ["UK", "U.K.", "England", "Scotland", "Wales", "Northern Ireland", "Great Britain"]:
        assert code(raw) == "GB", raw
    for raw in ["USA", "U.S.A.", "US", "U.S.", "America", "United States of America", "the US"]:
        assert code(raw) == "US", raw
    assert code("Deutschland") == "DE"
    assert code("Holland") == "NL"
    assert code("The Netherlands") == "NL"
    assert code("Éire") == "IE"
    assert code("Österreich") == "AT"
    assert code("España") == "ES"
    assert code("Turkey") == "TR"
    assert code("South Korea") == "KR"
    assert code("EL") == "GR"


def test_norway_is_not_a_placeholder() -> None:
    assert code("NO") == "NO"
    assert code("no") == "NO"


def test_placeholders_and_invalid() -> None:
    assert normalise_country("N/A").verdict is Verdict.PLACEHOLDER
    assert normalise_country("NA").verdict is Verdict.PLACEHOLDER  # not Namibia in practice
    assert code("Namibia") == "NA"
    assert normalise_country("unknown").verdict is Verdict.PLACEHOLDER
    assert normalise_country("Atlantis").verdict is Verdict.INVALID
    assert normalise_country("QQ").verdict is Verdict.INVALID
    assert normalise_country(None).verdict is Verdict.MISSING
    assert normalise_country("  ").verdict is Verdict.MISSING


def test_every_iso_country_by_code_and_name() -> None:
    for entry in pycountry.countries:
        if entry.alpha_2 != "NA":
            assert code(entry.alpha_2) == entry.alpha_2
        assert code(entry.alpha_3) == entry.alpha_2
        assert code(entry.name) == entry.alpha_2, entry.name


@settings(deadline=None)
@given(st.text())
def test_never_raises(raw: str) -> None:
    assert normalise_country(raw).verdict in Verdict


@settings(deadline=None)
@given(st.sampled_from([c.name for c in pycountry.countries]), st.sampled_from(["", " ", "\t"]))
def test_idempotent_and_case_insensitive(name: str, pad: str) -> None:
    once = normalise_country(name)
    assert once.value is not None
    assert normalise_country(pad + name.upper() + pad) == once
    assert normalise_country(name.lower()) == once
    if once.value != "NA":
        assert normalise_country(once.value) == once
