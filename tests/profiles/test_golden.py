"""Survivorship per attribute, configurable, with lineage for every value."""

from __future__ import annotations

import pytest

from kenning.profiles.golden import (
    RecordValues,
    Survivorship,
    SurvivorshipError,
    distinct_addresses,
    golden_record,
)


def rec(source: str, rid: str, at: str, **values: str) -> RecordValues:
    normalised = {k: v.lower() for k, v in values.items()}
    return RecordValues(source, rid, at, values, normalised)


RECORDS = [
    rec("pos", "p1", "2020-01-01", first_name="Tess", email="t@old.example", phone="+1"),
    rec("loyalty", "l1", "2021-06-01", first_name="Theresa", email="t@old.example"),
    rec("email", "e1", "2024-03-01", first_name="Theresa", email="t@new.example", phone="+2"),
]


def test_most_frequent_name_wins_and_says_so() -> None:
    golden = golden_record(RECORDS, Survivorship())
    name = golden["first_name"]
    assert (name.value, name.rule, name.seen, name.of) == ("Theresa", "frequent", 2, 3)
    # Ties on frequency are broken by trust: loyalty comes before email.
    assert (name.source, name.record_id, name.at) == ("loyalty", "l1", "2021-06-01")


def test_most_recent_email_wins_with_its_lineage() -> None:
    email = golden_record(RECORDS, Survivorship())["email"]
    assert (email.value, email.source, email.record_id, email.at, email.rule) == (
        "t@new.example", "email", "e1", "2024-03-01", "recent")  # fmt: skip


def test_trust_order_is_configurable() -> None:
    rules = Survivorship.parse("pos,email,loyalty", "first_name:trust,email:trust+recent")
    golden = golden_record(RECORDS, rules)
    assert (golden["first_name"].value, golden["first_name"].rule) == ("Tess", "trust")
    assert (golden["email"].value, golden["email"].source) == ("t@old.example", "pos")


def test_agreeing_records_and_missing_attributes() -> None:
    golden = golden_record(
        [*RECORDS[:1], rec("web", "w1", "2022", first_name="Tess")], Survivorship()
    )
    assert golden["first_name"].rule == "agreed"
    assert "date_of_birth" not in golden


def test_unknown_rules_are_refused() -> None:
    with pytest.raises(SurvivorshipError):
        Survivorship.parse("", "email:loudest")
    with pytest.raises(SurvivorshipError):
        Survivorship.parse("", "shoe_size:recent")


def test_addresses_once_each_newest_first() -> None:
    def addr(rid: str, at: str, line: str, postcode: str) -> RecordValues:
        raw = {"address_line1": line, "city": "London", "postcode": postcode, "country": "GB"}
        norm = {"house_number": line.split()[0], "street": line.split()[1].lower(),
                "postcode": postcode.replace(" ", ""), "country": "GB"}  # fmt: skip
        return RecordValues("pos", rid, at, raw, norm)

    found = distinct_addresses([
        addr("a", "2019", "14 Elgin Crescent", "W11 2JD"),
        addr("b", "2021", "14 Elgin Crescent", "W11 2JD"),
        addr("c", "2020", "2 Mill Lane", "M1 4BT"),
    ])  # fmt: skip
    assert [(c.record_id, c.value["postcode"]) for c in found] == [
        ("b", "W11 2JD"),
        ("c", "M1 4BT"),
    ]
    two = [
        addr("a", "2019", "14 Elgin Crescent", "W11 2JD"),
        addr("c", "2020", "2 Mill Lane", "M1"),
    ]
    golden = golden_record(two, Survivorship())
    assert (golden["address"].value["postcode"], golden["address"].rule) == ("M1", "recent")
