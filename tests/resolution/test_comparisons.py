"""Pair comparisons and the features behind them: every level with a concrete pair, in
both orders; shared identifiers; and levels that never depend on the rest of the batch."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from kenning.domain.normalise import Address, address_key
from kenning.domain.normalised import NORMALISED_FIELDS
from kenning.resolution.comparisons import Comparison, default_comparisons
from kenning.resolution.features import (
    Features,
    Vocabulary,
    build_features,
    count_people,
    one_slip,
    same_first_name,
)

COMPARISONS = {c.name: c for c in default_comparisons()}
PERSON = {"first_name": "john", "last_name": "smith"}
Record = dict[str, str | None]


def features(*records: Record, shared_threshold: int = 2) -> Features:
    columns = {name: [r.get(name) for r in records] for name in NORMALISED_FIELDS}
    return build_features(columns, shared_threshold=shared_threshold)


def pair_level(name: str, a: Record, b: Record) -> str:
    """The level of (a, b), checked to be the level of (b, a) too. Both records are one
    John Smith unless they say otherwise, so their identifiers are not shared."""
    f = features({**PERSON, **a}, {**PERSON, **b})
    comparison = COMPARISONS[name]
    forward = comparison.compare(f, np.array([0]), np.array([1]))
    backward = comparison.compare(f, np.array([1]), np.array([0]))
    assert forward.tolist() == backward.tolist()
    return comparison.levels[forward[0]]


def test_every_comparison_starts_null_and_ends_else() -> None:
    assert list(COMPARISONS) == [
        "first_name", "last_name", "date_of_birth", "email", "phone", "address", "postcode",
        "city", "loyalty_id",
    ]  # fmt: skip
    for comparison in COMPARISONS.values():
        assert comparison.levels[0] == "null"
        assert comparison.levels[-1] == "else"
        assert len(set(comparison.levels)) == len(comparison.levels)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ({"first_name": "john"}, {"first_name": "john"}, "exact"),
        ({"first_name": "bob"}, {"first_name": "robert"}, "nickname"),
        ({"first_name": "bill"}, {"first_name": "william"}, "nickname"),
        ({"first_name": "mary jane"}, {"first_name": "mary"}, "nickname"),
        ({"first_name": "katherine"}, {"first_name": "katharine"}, "fuzzy"),
        ({"first_name": "michael"}, {"first_name": "micheal"}, "fuzzy"),
        (
            {"first_name": "john", "last_name": "smith"},
            {"first_name": "smith", "last_name": "john"},
            "swapped",
        ),
        ({"first_name": "j"}, {"first_name": "john"}, "initial"),
        ({"first_name": "j"}, {"first_name": "mary"}, "else"),
        ({"first_name": "john"}, {"first_name": "mary"}, "else"),
        ({"first_name": None}, {"first_name": "john"}, "null"),
        ({"first_name": None}, {"first_name": None}, "null"),
    ],
)
def test_first_name_levels(a: Record, b: Record, expected: str) -> None:
    assert pair_level("first_name", a, b) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ({"last_name": "smith"}, {"last_name": "smith"}, "exact"),
        ({"last_name": "smith"}, {"last_name": "smyth"}, "fuzzy"),  # JW 0.89, one edit
        ({"last_name": "johnson"}, {"last_name": "jonson"}, "fuzzy"),
        ({"last_name": "o brien"}, {"last_name": "obrien"}, "fuzzy"),
        ({"last_name": "smith"}, {"last_name": "smith jones"}, "compound"),
        ({"last_name": "jones smith"}, {"last_name": "smith jones"}, "compound"),
        (
            {"first_name": "john", "last_name": "smith"},
            {"first_name": "smith", "last_name": "john"},
            "swapped",
        ),
        ({"last_name": "smith jones"}, {"last_name": "smith brown"}, "else"),
        ({"last_name": "smith"}, {"last_name": "jones"}, "else"),
        ({"last_name": None}, {"last_name": "smith"}, "null"),
    ],
)
def test_last_name_levels(a: Record, b: Record, expected: str) -> None:
    assert pair_level("last_name", a, b) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1980-03-04", "1980-03-04", "exact"),
        ("1980-03-04", "1980-04-03", "day_month_swapped"),
        ("1980-03-04", "1981-03-04", "one_digit"),
        ("1980-03-14", "1980-03-41", "one_digit"),  # adjacent digits transposed
        ("1980-03-04", "1980-07-21", "same_year"),
        ("1980-03-04", "1975-11-30", "else"),
        (None, "1980-03-04", "null"),
    ],
)
def test_date_of_birth_levels(a: str | None, b: str | None, expected: str) -> None:
    assert pair_level("date_of_birth", {"date_of_birth": a}, {"date_of_birth": b}) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("jsmith@example.org", "jsmith@example.org", "exact"),
        ("jsmith@example.org", "jsmith@exmaple.org", "typo"),  # one transposition
        ("jsmith@example.org", "jsmth@example.org", "typo"),
        ("jsmith@yahoo.com", "jsmith@yhaoo.co", "typo"),  # same mailbox, domain 2 edits off
        ("jsmith@yahoo.com", "jsmith@gmail.com", "else"),
        ("jsmith@example.org", "mary.jones@example.org", "else"),
        # Namesakes' addresses: a digit or a separator apart is two mailboxes, not a typo.
        ("jsmith94@example.org", "jsmith95@example.org", "else"),
        ("annlee@example.org", "ann_lee@example.org", "else"),
        ("ann.lee@example.org", "ann-lee@example.org", "else"),
        (None, "jsmith@example.org", "null"),
    ],
)
def test_email_levels(a: str | None, b: str | None, expected: str) -> None:
    assert pair_level("email", {"email": a}, {"email": b}) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("+447700900123", "+447700900123", "exact"),
        ("+447700900123", "+447700900124", "one_digit"),
        ("+447700900123", "+447700900132", "one_digit"),  # transposed
        ("+447700900123", "+44770090012", "one_digit"),  # digit lost
        ("+447700900123", "+447700900321", "else"),
        ("+447700900123", "+12125550123", "else"),
        (None, "+447700900123", "null"),
    ],
)
def test_phone_levels(a: str | None, b: str | None, expected: str) -> None:
    assert pair_level("phone", {"phone": a}, {"phone": b}) == expected


def home(number: str | None, street: str | None, unit: str | None = None) -> Record:
    return {"house_number": number, "street": street, "unit": unit}


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (home("12", "high st", "3"), home("12", "high st", "3"), "exact"),
        (home("12", "high st"), home("12", "high st"), "exact"),
        (home("12", "high st", "3"), home("12", "high st"), "unit_missing"),
        (home("12", "high st"), home("12", "hgh st"), "fuzzy_street"),
        (home("12", "high st", "3"), home("12", "hgh st", "3"), "fuzzy_street"),
        (home("12", "high st", "1"), home("12", "high st", "2"), "else"),  # two flats
        (home("12", "high st"), home("14", "high st"), "else"),
        (home("12", "high st"), home("12", "church rd"), "else"),
        (home(None, "high st"), home("12", "high st"), "null"),  # a street is not a dwelling
        (home(None, None), home("12", "high st"), "null"),
    ],
)
def test_address_levels(a: Record, b: Record, expected: str) -> None:
    assert pair_level("address", a, b) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("SW1A 1AA", "SW1A 1AA", "exact"),
        ("SW1A 1AA", "SW1A 2AA", "district"),
        ("SW1A 1AA", "M1 1AE", "else"),
        ("4570", "4579", "typo"),  # one character off, outside a district of its own
        ("4570", "4750", "typo"),
        ("4570", "7045", "else"),
        (None, "SW1A 1AA", "null"),
    ],
)
def test_postcode_levels(a: str | None, b: str | None, expected: str) -> None:
    level = pair_level(
        "postcode", {"postcode": a, "country": "GB"}, {"postcode": b, "country": "GB"}
    )
    assert level == expected


@pytest.mark.parametrize(
    ("name", "a", "b", "expected"),
    [
        ("city", "leeds", "leeds", "exact"),
        ("city", "leeds", "york", "else"),
        ("city", None, "york", "null"),
        ("city", "malvern east", "malverneast", "fuzzy"),
        ("city", "huddersfield", "hudersfield", "fuzzy"),
        ("city", "barnsley", "bramley", "else"),
        ("loyalty_id", "770958112989", "770958112989", "exact"),
        ("loyalty_id", "770958112989", "779898144938", "else"),
        ("loyalty_id", "770958112989", None, "null"),
    ],
)
def test_place_and_card_levels(name: str, a: str | None, b: str | None, expected: str) -> None:
    assert pair_level(name, {name: a}, {name: b}) == expected


def household(column: str, value: str, *first_names: str | None) -> Features:
    return features(*({"first_name": n, "last_name": "smith", column: value} for n in first_names))


def test_a_household_landline_is_shared_by_everyone_holding_it() -> None:
    f = household("phone", "+441632960000", "john", "mary", "jon", None)
    assert f.shared["phone"].tolist() == [True, True, True, True]


def test_one_persons_name_variants_do_not_make_a_value_shared() -> None:
    f = household("phone", "+441632960000", "bill", "william", "w", None)
    assert not f.shared["phone"].any()
    f = household("email", "jsmith@example.org", "jon", "john", "jonathan")
    assert not f.shared["email"].any()


def test_swapped_names_are_one_person_not_two() -> None:
    f = features(
        {"first_name": "sara", "last_name": "ramirez", "email": "sr@example.org"},
        {"first_name": "sara", "last_name": "ramirez", "email": "sr@example.org"},
        {"first_name": "ramirez", "last_name": "sara", "email": "sr@example.org"},
    )
    assert not f.shared["email"].any()


def test_records_without_a_first_name_do_not_count_as_people() -> None:
    f = household("email", "jsmith@example.org", "john", None, None)
    assert not f.shared["email"].any()


def test_shared_threshold_counts_people() -> None:
    f = features(
        *({"first_name": n, "loyalty_id": "770958112989"} for n in ("john", "mary", "mary")),
        shared_threshold=3,
    )
    assert not f.shared["loyalty_id"].any()
    f = features(
        *({"first_name": n, "loyalty_id": "770958112989"} for n in ("john", "mary", "anne")),
        shared_threshold=3,
    )
    assert f.shared["loyalty_id"].all()


def test_a_shared_address_is_scoped_to_its_postcode() -> None:
    # "12 High St" in two towns is two dwellings; in one postcode it is a household.
    f = features(
        {"first_name": "john", **home("12", "high st"), "postcode": "LS1 1AA"},
        {"first_name": "mary", **home("12", "high st"), "postcode": "YO1 7HH"},
        {"first_name": "anne", **home("12", "high st"), "postcode": "YO1 7HH"},
    )
    assert f.shared["address_key"].tolist() == [False, True, True]


def test_shared_identifiers_between_different_first_names_take_the_shared_level() -> None:
    # A family's mailbox is weaker evidence than one's own: the model learns how weak.
    john = {"first_name": "john", "email": "home@example.org", "phone": "+441632960000"}
    mary = {**john, "first_name": "mary"}
    f = features(john, mary)
    for name in ("email", "phone"):
        shared = COMPARISONS[name].levels.index("shared")
        assert COMPARISONS[name].compare(f, np.array([0]), np.array([1])).tolist() == [shared]


def test_a_households_identifier_still_links_its_records_of_one_first_name() -> None:
    john = {"first_name": "john", "email": "home@example.org", "phone": "+441632960000"}
    mary, jon = {**john, "first_name": "mary"}, {**john, "first_name": "jon"}
    f = features(john, mary, jon)
    assert f.shared["email"].all() and f.shared_by_few["email"].all()
    for name in ("email", "phone"):
        levels = COMPARISONS[name].compare(f, np.array([0, 0]), np.array([2, 1]))
        assert levels.tolist()[1] == COMPARISONS[name].levels.index("shared")  # john, mary
        assert levels.tolist()[0] == COMPARISONS[name].levels.index("exact")


def test_a_value_many_people_share_links_no_one() -> None:
    # A shop's placeholder e-mail, typed for every shopper who gave none.
    names = ("john", "mary", "anne", "peter", "susan", "john")
    f = features(*({"first_name": n, "email": "noemail@shop.example"} for n in names))
    assert not f.shared_by_few["email"].any()
    # The level whose weight the model learns from how often strangers share it.
    shared = COMPARISONS["email"].levels.index("shared")
    assert COMPARISONS["email"].compare(f, np.array([0]), np.array([5])).tolist() == [shared]


def test_a_households_value_held_by_more_than_a_block_links_no_one() -> None:
    # Two first names only, but more holders than a block may have: a shop's number.
    from kenning.resolution.pipeline import shared_when_big

    names = ["john", "mary"] * 3
    f = features(*({"first_name": n, "phone": "+441632960000"} for n in names))
    assert f.shared_by_few["phone"].all()
    shared_when_big(f, None, max_block=5)
    assert f.shared["phone"].all() and not f.shared_by_few["phone"].any()
    assert COMPARISONS["phone"].compare(f, np.array([0]), np.array([2])).tolist() == [0]


def test_a_slip_of_the_keyboard_is_one_first_name() -> None:
    assert same_first_name("derek", "deerek")  # a letter doubled
    assert same_first_name("jhon", "john")  # neighbours swapped
    assert not one_slip("maria", "mario")  # a changed letter is not a slip
    assert not one_slip("ana", "anna")  # too short to tell a slip from another name
    f = features({"first_name": "derek"}, {"first_name": "deerek"})
    levels = COMPARISONS["first_name"].compare(f, np.array([0]), np.array([1]))
    assert levels.tolist() == [COMPARISONS["first_name"].levels.index("fuzzy")]


def test_first_names_of_one_person() -> None:
    assert same_first_name("bob", "robert")
    assert same_first_name("j", "john")
    assert same_first_name("jon", "john")
    assert not same_first_name("john", "mary")
    assert not same_first_name("j", "mary")
    assert count_people(["john", "mary", "jon"], 5) == 2
    assert count_people(["bill", "william", "w"], 5) == 1
    assert count_people(["john", "mary", "anne"], 2) == 2  # stops counting at `enough`


def test_derived_columns() -> None:
    f = features(
        {
            "first_name": "bill jr",
            "last_name": "o brien",
            "date_of_birth": "1980-03-04",
            "email": "bill@example.org",
            **home("221b", "baker st", "4"),
            "postcode": "NW1 6XE",
            "country": "GB",
        },
        {},
    )
    row = {name: f.value(name, 0) for name in f.codes}
    assert row["first_initial"] == "b"
    assert row["first_canon"] == min({"bill", "robert", "will", "william", "willis"})
    assert row["last_key"] == "obrien"
    assert (row["dob_year"], row["dob_md"]) == ("1980", "03-04")
    assert (row["email_local"], row["email_domain"]) == ("bill", "example.org")
    assert row["address_key"] == address_key(Address("221b", "baker st", "4"))
    assert row["house_street"] == address_key(Address("221b", "baker st", None))
    assert row["postcode_district"] == "NW1"
    assert all(f.value(name, 1) is None for name in f.codes)
    assert all(codes[1] == -1 for codes in f.codes.values())
    assert f.codes["first_name"].dtype == np.int32


def test_codes_are_equal_exactly_when_values_are() -> None:
    f = features({"city": "york"}, {"city": "leeds"}, {"city": "york"}, {"city": None})
    assert f.codes["city"].tolist() == [1, 0, 1, -1]  # sorted vocabulary: leeds < york
    names = f.vocab["first_name"]
    assert names is f.vocab["last_name"]  # swapped names compare across the columns


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        build_features({"first_name": ["a", "b"], "last_name": ["c"]})


def test_no_records_and_no_pairs() -> None:
    f = build_features({})
    assert f.n == 0
    empty = np.zeros(0, np.int64)
    for comparison in COMPARISONS.values():
        assert comparison.compare(f, empty, empty).shape == (0,)


# A small town of look-alike records: name variants, typos, households, swaps.
FIRSTS = ["john", "jon", "j", "bob", "robert", "mary", "smith", "katherine", "katharine", None]
LASTS = ["smith", "smyth", "smith jones", "john", "o brien", "obrien", None]
EMAILS = ["js@example.org", "js@exmaple.org", "js@yhaoo.co", "js@yahoo.com", "mj@example.org", None]
PHONES = ["+447700900123", "+447700900132", "+44770090012", "+12125550123", None]
DATES = ["1980-03-04", "1980-04-03", "1981-03-04", "1980-07-21", "1975-11-30", None]
HOMES = [home("12", "high st", "1"), home("12", "high st"), home("12", "hgh st"), home(None, None)]
POSTCODES = ["SW1A 1AA", "SW1A 2AA", "M1 1AE", None]
records = st.fixed_dictionaries(
    {
        "first_name": st.sampled_from(FIRSTS),
        "last_name": st.sampled_from(LASTS),
        "email": st.sampled_from(EMAILS),
        "phone": st.sampled_from(PHONES),
        "date_of_birth": st.sampled_from(DATES),
        "home": st.sampled_from(HOMES),
        "postcode": st.sampled_from(POSTCODES),
        "city": st.sampled_from(["york", "leeds", None]),
        "loyalty_id": st.sampled_from(["770958112989", "779898144938", None]),
    }
).map(lambda r: {**{k: v for k, v in r.items() if k != "home"}, **r["home"], "country": "GB"})


@settings(max_examples=60, deadline=None)
@given(st.lists(records, min_size=2, max_size=12))
def test_levels_are_symmetric(town: list[Record]) -> None:
    f = features(*town)
    left, right = np.triu_indices(len(town), k=1)
    for comparison in COMPARISONS.values():
        forward = comparison.compare(f, left, right)
        assert forward.tolist() == comparison.compare(f, right, left).tolist()
        assert forward.dtype == np.int8
        assert ((forward >= 0) & (forward < len(comparison.levels))).all()


def test_a_pairs_level_does_not_depend_on_the_batch() -> None:
    rng = np.random.default_rng(7)
    town = [
        {
            **{k: rng.choice(np.array(v, dtype=object)) for k, v in pools().items()},
            **HOMES[rng.integers(len(HOMES))],
            "country": "GB",
        }
        for _ in range(80)
    ]
    f = features(*town)
    # A random town shares every identifier; unshare them so every level is exercised.
    f = replace(f, shared={k: np.zeros_like(v) for k, v in f.shared.items()})
    left, right = np.triu_indices(len(town), k=1)
    for comparison in COMPARISONS.values():
        batch = comparison.compare(f, left, right)
        assert len(set(batch.tolist())) >= 3, comparison.name
        sample = rng.choice(len(left), 150, replace=False)
        alone = [int(comparison.compare(f, left[i : i + 1], right[i : i + 1])[0]) for i in sample]
        assert alone == batch[sample].tolist(), comparison.name
        shuffled = rng.permutation(len(left))
        assert (comparison.compare(f, left[shuffled], right[shuffled]) == batch[shuffled]).all()


def pools() -> dict[str, list[str | None]]:
    return {
        "first_name": FIRSTS,
        "last_name": LASTS,
        "email": EMAILS,
        "phone": PHONES,
        "date_of_birth": DATES,
        "postcode": POSTCODES,
        "city": ["york", "leeds", None],
        "loyalty_id": ["770958112989", "779898144938", None],
    }


def test_bad_pair_arrays_are_refused() -> None:
    f = features(PERSON, PERSON)
    comparison: Comparison = COMPARISONS["city"]
    with pytest.raises(ValueError, match="one length"):
        comparison.compare(f, np.array([0, 1]), np.array([1]))


# The cheap bounds in front of the string scorers must never turn a true pass away.
words = st.text(alphabet="abcdeio 1", min_size=1, max_size=9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(words, words), min_size=1, max_size=40))
def test_string_tests_agree_with_the_scorers(pairs: list[tuple[str, str]]) -> None:
    vocab = Vocabulary(sorted({s for pair in pairs for s in pair}))
    code = {v: i for i, v in enumerate(vocab.values)}
    a = np.array([code[x] for x, _ in pairs])
    b = np.array([code[y] for _, y in pairs])
    for threshold in (0.9, 0.92):
        expected = [JaroWinkler.similarity(*sorted(p)) >= threshold - 1e-9 for p in pairs]
        assert vocab.jaro_winkler_at_least(a, b, threshold).tolist() == expected
    for k in (1, 2):
        expected = [DamerauLevenshtein.distance(x, y) <= k for x, y in pairs]
        assert vocab.edits_at_most(a, b, k).tolist() == expected


digit_strings = st.text(alphabet="0123", min_size=1, max_size=8)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(digit_strings, digit_strings), min_size=1, max_size=40))
def test_one_digit_apart_is_one_edit(pairs: list[tuple[str, str]]) -> None:
    vocab = Vocabulary(sorted({s for pair in pairs for s in pair}))
    code = {v: i for i, v in enumerate(vocab.values)}
    a = np.array([code[x] for x, _ in pairs])
    b = np.array([code[y] for _, y in pairs])
    expected = [DamerauLevenshtein.distance(x, y) <= 1 for x, y in pairs]
    assert vocab.one_digit_apart(a, b).tolist() == expected


def test_small_tables_are_coded_as_arrow_codes_them() -> None:
    from kenning.resolution import features

    column = ["zoë", "Zoe", "émile", "emile", None, "ß", "ss", "李", "zoë", "a b", "a-b", ""]
    other = ["Émile", None, "zoe", "李", "😀"]
    small_codes, small_vocab = features._code_small([column, other])
    saved, features._SMALL = features._SMALL, -1  # force Arrow's path
    try:
        arrow_codes, arrow_vocab = features._code(column, other)
    finally:
        features._SMALL = saved
    assert small_vocab.values.tolist() == arrow_vocab.values.tolist()
    assert [c.tolist() for c in small_codes] == [c.tolist() for c in arrow_codes]


def _shop(rare: str, common: str, *, commoners: int = 40) -> list[Record]:
    """A store where ``common`` is a first name many hold and ``rare`` one record's, that
    record sharing an e-mail with one of the many."""
    many = [
        {"first_name": common, "last_name": f"s{i}", "email": f"{common}{i}@example.org"}
        for i in range(commoners)
    ]
    one = {"first_name": rare, "last_name": "s0", "email": f"{common}0@example.org"}
    return [*many, one]


@pytest.mark.parametrize(
    ("rare", "common"), [("nark", "mark"), ("kehji", "kenji"), ("nthan", "nathan")]
)
def test_a_rare_spelling_one_edit_from_a_common_name_is_that_name_mistyped(
    rare: str, common: str
) -> None:
    f = features(*_shop(rare, common))
    assert not f.shared["email"].any()  # one person's e-mail, typed once with a slip
    level = COMPARISONS["first_name"].compare(f, np.array([0]), np.array([40]))
    assert COMPARISONS["first_name"].levels[level[0]] == "fuzzy"
    assert f.vocab["first_name"].rare_typo(rare, common)


def test_two_names_of_their_own_one_letter_apart_are_two_people() -> None:
    # "dean" and "sean" both common: brothers sharing an e-mail.
    store = _shop("dean", "sean") + [{"first_name": "dean"}] * 40
    assert features(*store).shared["email"][[0, 40]].all()
    # "joan" is no slip of "john" however many more Johns there are, once Joans are many.
    store = _shop("joan", "john", commoners=400) + [{"first_name": "joan"}] * 19
    f = features(*store)
    assert f.shared["email"][[0, 400]].all()
    assert not f.vocab["first_name"].rare_typo("joan", "john")


def test_a_neighbourhood_judges_spellings_by_the_stores_counts() -> None:
    """The real-time matcher sees a few records; the trained model's counts of first names
    make it judge a slip as the whole store did."""
    pair = _shop("nark", "mark")[::40]  # one mark and the nark, alone
    columns = {name: [r.get(name) for r in pair] for name in NORMALISED_FIELDS}
    assert build_features(columns).shared["email"].all()  # two names, each seen once
    counted = build_features(columns, name_counts=({"mark": 40}, 41))
    assert not counted.shared["email"].any()
