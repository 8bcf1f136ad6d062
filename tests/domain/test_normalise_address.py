from hypothesis import given, settings
from hypothesis import strategies as st

from kenning.domain.normalise import Address, Verdict, address_key, normalise_address


def parse(line1: str | None, line2: str | None = None, country: str | None = "GB") -> Address:
    cleaned = normalise_address(line1, line2, country)
    assert cleaned.value is not None, (line1, line2, cleaned.verdict)
    return cleaned.value


def verdict(line1: str | None, line2: str | None = None, country: str | None = "GB") -> Verdict:
    return normalise_address(line1, line2, country).verdict


def test_house_number_at_the_start() -> None:
    assert parse("221B Baker Street") == Address("221b", "baker st", None)
    assert parse("221 B Baker Street") == Address("221b", "baker st", None)
    assert parse("12-14 High Road") == Address("12-14", "high rd", None)
    assert parse("10 Downing St.") == Address("10", "downing st", None)


def test_units() -> None:
    assert parse("Flat 3, 12 High Street") == Address("12", "high st", "3")
    assert parse("12 High Street", "Flat 3") == Address("12", "high st", "3")
    assert parse("Flat 4b", "221 Baker St") == Address("221", "baker st", "4b")
    us = parse("123 N Main St Apt 4B", country="US")
    assert us == Address("123", "n main st", "4b")
    assert parse("123 North Main Street", "# 4B", "US") == us
    assert parse("123 N. Main St.", "Apartment 4b", "US") == us
    assert parse("123 N Main St #4B", country="US") == us
    assert parse("123 N Main St", "Suite 4B", "US") == us
    assert parse("3/12 Smith Street", country="AU") == Address("12", "smith st", "3")


def test_floor_descriptions_are_not_units() -> None:
    assert parse("First Floor Flat, 12 High St") == Address("12", "high st", None)
    assert parse("2nd Floor, 10 Downing Street") == Address("10", "downing st", None)


def test_number_after_the_street() -> None:
    assert parse("Hauptstraße 5", country="DE") == Address("5", "hauptstrasse", None)
    assert parse("Hauptstr. 5", country="DE") == Address("5", "hauptstrasse", None)
    assert parse("Via Roma 12", country="IT") == Address("12", "via roma", None)
    assert parse("Kerkstraat 12", country="NL") == parse("Kerkstr. 12", country="NL")
    assert parse("Calle Mayor 5, 2º B", country="ES") == Address("5", "calle mayor", "2b")


def test_street_types_and_directions() -> None:
    cases = {
        "1 Acacia Avenue": "acacia ave",
        "1 Sunset Boulevard": "sunset blvd",
        "1 Mulholland Drive": "mulholland dr",
        "1 Penny Lane": "penny ln",
        "1 Earls Court": "earls ct",
        "1 Grosvenor Place": "grosvenor pl",
        "1 Abbey Terrace": "abbey ter",
        "1 Royal Crescent": "royal cres",
        "1 Berkeley Square": "berkeley sq",
        "1 Pacific Coast Highway": "pacific coast hwy",
        "1 Garden State Parkway": "garden state pkwy",
        "1 Elm Close": "elm cl",
        "1 Kensington Gardens": "kensington gdns",
        "1 Cherry Grove": "cherry gr",
        "1 Mount Pleasant": "mt pleasant",
        "1 Milky Way": "milky way",
        "1 West End Lane": "w end ln",
        "1 Northeast Road": "ne rd",
        "1 North-East Road": "ne rd",
        "1 Westminster Road": "westminster rd",  # only whole tokens are directions
        "1 St John's Wood Road": "st johns wood rd",
    }
    for raw, street in cases.items():
        assert parse(raw).street == street, raw


def test_building_names_before_the_number_are_dropped() -> None:
    assert parse("Rose Cottage, 12 High St") == Address("12", "high st", None)
    assert parse("Rose Cottage") == Address(None, "rose cottage", None)


def test_placeholders() -> None:
    for line in ["n/a", "unknown", "No fixed abode", "NFA", "123 Fake Street", "1 Test Street"]:
        assert verdict(line) is Verdict.PLACEHOLDER, line
    assert verdict("N/A", "London") is Verdict.PLACEHOLDER


def test_missing_and_invalid() -> None:
    assert verdict(None, None) is Verdict.MISSING
    assert verdict(" ", "") is Verdict.MISSING
    assert verdict("12") is Verdict.INVALID  # a number is not a dwelling


def test_address_key() -> None:
    assert address_key(Address("221b", "baker st", "4")) == "221b bakerst 4"
    assert address_key(Address(None, "rose cottage", None)) == "rosecottage"


@settings(deadline=None)
@given(st.one_of(st.none(), st.text()), st.one_of(st.none(), st.text()))
def test_never_raises(line1: str | None, line2: str | None) -> None:
    for country in (None, "GB", "US", "DE", "NL"):
        cleaned = normalise_address(line1, line2, country)
        assert cleaned.verdict in Verdict
        if cleaned.value is not None:
            assert address_key(cleaned.value)


street_names = st.lists(
    st.sampled_from(["High", "Church", "Station", "Mill", "Oak", "King", "Victoria", "Park"]),
    min_size=1,
    max_size=2,
)
street_types = st.sampled_from(["Street", "Road", "Avenue", "Lane", "Close", "Way", "Drive", ""])
house_numbers = st.from_regex(r"[1-9][0-9]{0,3}[a-d]?", fullmatch=True)
units = st.one_of(st.none(), st.from_regex(r"[1-9][0-9]?[a-d]?", fullmatch=True))


@settings(deadline=None)
@given(house_numbers, street_names, street_types, units, st.sampled_from(["GB", "US", None]))
def test_idempotent(
    number: str, names: list[str], kind: str, unit: str | None, country: str | None
) -> None:
    line1 = f"{number} {' '.join(names)} {kind}"
    once = normalise_address(line1, f"Flat {unit}" if unit else None, country)
    assert once.value is not None
    a = once.value
    again = normalise_address(
        f"{a.house_number} {a.street}", f"unit {a.unit}" if a.unit else None, country
    )
    assert again == once


@settings(deadline=None)
@given(house_numbers, street_names, street_types, units)
def test_case_whitespace_and_unit_placement_do_not_matter(
    number: str, names: list[str], kind: str, unit: str | None
) -> None:
    line1 = f"{number} {' '.join(names)} {kind}"
    expected = normalise_address(line1, f"Apt {unit}" if unit else None, "US")
    suffix = f" # {unit}" if unit else ""
    assert normalise_address(f"  {line1.upper()}{suffix} ", None, "US") == expected
    assert (
        normalise_address(
            line1.lower().replace(" ", "   "), (f"apartment {unit.upper()}" if unit else ""), "US"
        )
        == expected
    )
