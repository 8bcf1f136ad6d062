"""Decisions on shared identifier values, kept by value and taken back by a part of the
store that does not hold all of a value's holders."""

from __future__ import annotations

import numpy as np

from kenning.domain.normalised import NORMALISED_FIELDS
from kenning.resolution.blocking import BlockingRule, stable_keys
from kenning.resolution.features import IDENTIFIERS, Features, build_features
from kenning.resolution.sharing import (
    apply_kept,
    decision_keys,
    decisions,
    every_decision,
    holding,
    lookup_keys,
)

Record = dict[str, str | None]
HOME = {"house_number": "12", "street": "high st"}


def features(*records: Record) -> Features:
    return build_features({name: [r.get(name) for r in records] for name in NORMALISED_FIELDS})


def family() -> Features:
    """John and Mary at one address and landline; Ann at the same house number and street
    in another town; a second John with his own e-mail."""
    return features(
        {"first_name": "john", **HOME, "postcode": "YO1 7HH", "phone": "+441632960000",
         "email": "john@example.org"},
        {"first_name": "mary", **HOME, "postcode": "YO1 7HH", "phone": "+441632960000"},
        {"first_name": "ann", **HOME, "postcode": "LS1 1AA"},
        {"first_name": "john", "email": "john@example.org", "city": "york"},
    )  # fmt: skip


def test_lookup_keys_are_the_stores_one_column_keys() -> None:
    f = family()
    for column in IDENTIFIERS:
        keys, valid = lookup_keys(f, column)
        expected, has = stable_keys(f, BlockingRule((column,)))
        assert valid.tolist() == has.tolist()
        assert keys[valid].tolist() == expected[has].tolist()


def test_an_address_is_decided_within_its_postcode() -> None:
    f = family()
    keys, valid = decision_keys(f, "address_key")
    assert valid.tolist() == [True, True, True, False]
    assert keys[0] == keys[1] != keys[2]  # one dwelling in York, another in Leeds
    lookup, _ = lookup_keys(f, "address_key")
    assert lookup[0] == lookup[1] == lookup[2]  # the store finds all three by it


def test_decisions_are_what_the_features_decided() -> None:
    f = family()
    shared = every_decision(f)
    address, _ = decision_keys(f, "address_key")
    phone, _ = decision_keys(f, "phone")
    email, _ = decision_keys(f, "email")
    # The household's address and landline (two first names: a household's); not Ann's
    # address in Leeds, nor the e-mail both Johns write from.
    assert shared == {int(address[0]): True, int(phone[0]): True}
    assert int(email[0]) not in shared
    decided, some = decisions(f, holding(f, {int(lookup_keys(f, "phone")[0][0])}))
    assert decided == {int(phone[0])} and some == {int(phone[0]): True}


def test_kept_decisions_stand_for_holders_not_here() -> None:
    f = family()
    lookup_asked: list[set[int]] = []
    email, _ = decision_keys(f, "email")

    def kept(keys: object) -> dict[int, bool]:
        lookup_asked.append(set(keys))  # type: ignore[call-overload]
        return {int(email[0]): False}  # the e-mail is shared elsewhere, not a household's

    apply_kept(f, kept)
    assert f.shared["email"].tolist() == [True, False, False, True]
    assert not f.shared_by_few["email"].any()
    for column in ("phone", "address_key", "loyalty_id"):
        assert not f.shared[column].any()  # not kept: not shared
    everything = set()
    for column in IDENTIFIERS:
        keys, valid = decision_keys(f, column)
        everything |= set(keys[valid].tolist())
    assert lookup_asked == [everything]  # one look-up for the whole part


def test_no_records_no_decisions() -> None:
    f = features()
    assert every_decision(f) == {}
    apply_kept(f, lambda keys: {})
    assert all(len(f.shared[c]) == 0 for c in IDENTIFIERS)
    assert np.array_equal(decision_keys(f, "address_key")[1], np.zeros(0, bool))
