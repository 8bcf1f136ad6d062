"""Comparisons: how alike two records are on one attribute, as a level per candidate pair.

Each comparison maps every pair (left[i], right[i]) to a small int level; the model learns
how often matches and non-matches reach each level. Level 0 is always "null" (nothing to
compare, weight 0), level 1 the strongest agreement and the last "else" (disagreement).

Levels are settled in order, vectorised: a pair takes the first level whose test it
passes, and each test only sees the pairs still open, so the cheap code equalities settle
most pairs before any string scoring runs. The same functions serve a batch of millions
of pairs and the online matcher's handful; a pair's level never depends on the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from kenning.resolution.features import FUZZY_FIRST_NAME, Features, Vocabulary, names_agree

FUZZY_LAST_NAME = 0.92
FUZZY_STREET = 0.9
FUZZY_CITY = 0.92
EMAIL_DOMAIN_EDITS = 2

Rule = Callable[[Features, np.ndarray, np.ndarray], np.ndarray]
PairTest = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Comparison:
    """One attribute compared: its level labels ("null" first, "else" last) and the rule
    that assigns them."""

    name: str
    levels: tuple[str, ...]
    rule: Rule = field(repr=False, compare=False)

    def compare(self, f: Features, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """The int8 level of each pair of record indices (left[i], right[i]), any number of
        pairs, in either order: (i, j) and (j, i) get the same level."""
        left, right = np.asarray(left, np.intp), np.asarray(right, np.intp)
        if left.shape != right.shape or left.ndim != 1:
            raise ValueError("left and right must be 1-d arrays of one length")
        return self.rule(f, left, right)


class _Ladder:
    """The pairs still open and the levels settled so far."""

    def __init__(self, f: Features, left: np.ndarray, right: np.ndarray, levels: tuple[str, ...]):
        self.f, self.levels = f, levels
        small = np.int32 if max(f.n, len(left)) < 2**31 else np.int64  # half the memory traffic
        self.left, self.right = left.astype(small), right.astype(small)
        self.at = np.arange(len(left), dtype=small)
        self.result = np.full(len(left), len(levels) - 1, np.int8)  # "else"
        self._cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def codes(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """The codes of `column` on both sides of the open pairs."""
        if column not in self._cache:
            c = self.f.codes[column]
            self._cache[column] = c[self.left], c[self.right]
        return self._cache[column]

    def settle(self, label: str, passed: np.ndarray) -> None:
        """Open pairs that passed take level `label`; the rest stay open."""
        if not passed.any():
            return
        self.result[self.at[passed]] = self.levels.index(label)
        keep = ~passed
        self.left, self.right, self.at = self.left[keep], self.right[keep], self.at[keep]
        self._cache = {k: (a[keep], b[keep]) for k, (a, b) in self._cache.items()}

    def settle_nulls(
        self, column: str, shared: str | None = None, *, household: bool = False
    ) -> None:
        """Missing on either side (or a value several people share) is no evidence.

        With ``household``, a value a household shares still counts between two of its
        records that bear one first name: the family's e-mail tells Oliver from Patrick,
        so two Olivers writing from it are one Oliver as far as this value goes."""
        a, b = self.codes(column)
        missing = (a < 0) | (b < 0)
        if shared is not None and shared in self.f.shared:
            flags = self.f.shared[shared]
            no_evidence = flags[self.left] | flags[self.right]
            # One value several people hold, on both: its own level, whose weight the
            # model learns (a family's address is still evidence, if less than one's own).
            same_shared = no_evidence & (a == b) & ~missing
            crowded = self.f.crowded.get(shared)
            if crowded is not None:
                same_shared &= ~crowded[self.left]
            few = self.f.shared_by_few.get(shared)
            if household and few is not None:
                # Gathered for these few pairs only: caching first names for every open
                # pair would make each later level re-slice them too.
                first = self.f.codes["first_name"]
                same = np.flatnonzero(no_evidence & (a == b) & few[self.left])
                fa, fb = first[self.left[same]], first[self.right[same]]
                named = (fa >= 0) & (fb >= 0)
                agree = names_agree(self.f.vocab["first_name"], fa[named], fb[named])
                no_evidence[same[named][agree]] = False
                same_shared &= no_evidence
            if "shared" in self.levels:
                missing |= no_evidence & ~same_shared
                self.settle("null", missing)
                self.settle("shared", same_shared[~missing])
                return
            missing |= no_evidence
        self.settle("null", missing)


def _only(where: np.ndarray, test: PairTest, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`test` scored on the pairs `where` allows; False elsewhere."""
    passed = np.zeros(len(a), bool)
    subset = np.flatnonzero(where)
    passed[subset] = test(a[subset], b[subset])
    return passed


def _fuzzy(vocab: Vocabulary, threshold: float) -> PairTest:
    return lambda a, b: vocab.jaro_winkler_at_least(a, b, threshold)


def _edits(vocab: Vocabulary, k: int) -> PairTest:
    return lambda a, b: vocab.edits_at_most(a, b, k)


FIRST_NAME = ("null", "exact", "nickname", "fuzzy", "swapped", "initial", "else")


def _first_name(f: Features, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    names = f.vocab["first_name"]
    lad = _Ladder(f, left, right, FIRST_NAME)
    lad.settle_nulls("first_name")
    a, b = lad.codes("first_name")
    lad.settle("exact", a == b)
    a, b = lad.codes("first_name")
    lad.settle("nickname", names.nicknames(a, b))
    a, b = lad.codes("first_name")
    fuzzy = names.jaro_winkler_at_least(a, b, FUZZY_FIRST_NAME) | names.slips(a, b)
    lad.settle("fuzzy", fuzzy | names.rare_typos(a, b))
    _settle_swapped(lad)
    a, b = lad.codes("first_name")
    one_letter = (names.lengths[a] == 1) | (names.lengths[b] == 1)
    ia, ib = lad.codes("first_initial")
    lad.settle("initial", one_letter & (ia == ib))
    return lad.result


def _settle_swapped(lad: _Ladder) -> None:
    # Names share one vocabulary, so codes compare across the two columns.
    fa, fb = lad.codes("first_name")
    la, lb = lad.codes("last_name")
    lad.settle("swapped", (fa == lb) & (la == fb) & (fa >= 0) & (la >= 0))


LAST_NAME = ("null", "exact", "fuzzy", "compound", "swapped", "else")


def _last_name(f: Features, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    names, keys = f.vocab["last_name"], f.vocab["last_key"]
    lad = _Ladder(f, left, right, LAST_NAME)
    lad.settle_nulls("last_name")
    a, b = lad.codes("last_name")
    lad.settle("exact", a == b)
    for test in (np.equal, _fuzzy(keys, FUZZY_LAST_NAME), _edits(keys, 1)):
        ka, kb = lad.codes("last_key")  # keys: "o brien" and "obrien" are one name
        lad.settle("fuzzy", test(ka, kb))
    a, b = lad.codes("last_name")
    _, counts = names.tokens
    compound = (counts[a] > 1) | (counts[b] > 1)
    lad.settle("compound", _only(compound, names.tokens_contained, a, b))
    _settle_swapped(lad)
    return lad.result


DATE_OF_BIRTH = (
    "null",
    "exact",
    "day_month_swapped",
    "one_digit",
    "two_parts",
    "same_year",
    "else",
)


def _date_of_birth(f: Features, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    dates = f.vocab["date_of_birth"]
    lad = _Ladder(f, left, right, DATE_OF_BIRTH)
    lad.settle_nulls("date_of_birth")
    a, b = lad.codes("date_of_birth")
    lad.settle("exact", a == b)
    a, b = lad.codes("date_of_birth")
    ya, yb = lad.codes("dob_year")
    digits, _, counts = dates.digits  # YYYYMMDD
    if digits.shape[1] >= 8:
        month_a, day_a = digits[a, 4:6], digits[a, 6:8]
        month_b, day_b = digits[b, 4:6], digits[b, 6:8]
        swapped = (month_a == day_b).all(axis=1) & (day_a == month_b).all(axis=1)
        full = (counts[a] == 8) & (counts[b] == 8)
        lad.settle("day_month_swapped", full & (ya == yb) & swapped)
    a, b = lad.codes("date_of_birth")
    lad.settle("one_digit", dates.one_digit_apart(a, b))
    if digits.shape[1] >= 8:
        # Two of year, month and day: one part typed wrong whole ("1994-11-21" and
        # "1994-11-12", "1981" for "2008"), as a clerk's slip damages one box of three.
        a, b = lad.codes("date_of_birth")
        full = (counts[a] == 8) & (counts[b] == 8)
        parts = [
            (digits[a, i:j] == digits[b, i:j]).all(axis=1) for i, j in ((0, 4), (4, 6), (6, 8))
        ]
        lad.settle("two_parts", full & (np.sum(parts, axis=0) >= 2))
    ya, yb = lad.codes("dob_year")
    lad.settle("same_year", (ya == yb) & (ya >= 0))
    return lad.result


EMAIL = ("null", "exact", "shared", "typo", "else")


def _email(f: Features, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    lad = _Ladder(f, left, right, EMAIL)
    lad.settle_nulls("email", shared="email", household=True)
    a, b = lad.codes("email")
    lad.settle("exact", a == b)
    a, b = lad.codes("email")
    emails = f.vocab["email"]
    # One character apart is a typo, unless it is a digit or a separator, or the first:
    # joe.brooks94@ and joe.brooks95@, annlee@ and ann_lee@, jrobeson@ and arobeson@ are
    # two people who chose alike.
    ba, bb = lad.codes("email_bare")
    initials = f.vocab["email"].first_chars
    # The cheap tests first: most pairs of different e-mails are far apart.
    near = emails.maybe_edits_apart(a, b, 1) & (ba != bb) & (initials[a] == initials[b])
    alike = _only(near, emails.same_digits, a, b)
    lad.settle("typo", _only(alike, _edits(emails, 1), a, b))
    la, lb = lad.codes("email_local")
    da, db = lad.codes("email_domain")
    same_local = (la == lb) & (la >= 0) & (da >= 0) & (db >= 0)
    typo = _only(same_local, _edits(f.vocab["email_domain"], EMAIL_DOMAIN_EDITS), da, db)
    lad.settle("typo", typo)
    return lad.result


PHONE = ("null", "exact", "shared", "one_digit", "else")


def _phone(f: Features, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    lad = _Ladder(f, left, right, PHONE)
    lad.settle_nulls("phone", shared="phone", household=True)
    a, b = lad.codes("phone")
    lad.settle("exact", a == b)
    a, b = lad.codes("phone")
    lad.settle("one_digit", f.vocab["phone"].one_digit_apart(a, b))
    return lad.result


ADDRESS = ("null", "exact", "shared", "unit_missing", "fuzzy_street", "else")


def _address(f: Features, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    lad = _Ladder(f, left, right, ADDRESS)
    lad.settle_nulls("address_key", shared="address_key")
    a, b = lad.codes("address_key")
    lad.settle("exact", a == b)
    ha, hb = lad.codes("house_street")
    ua, ub = lad.codes("unit")
    lad.settle("unit_missing", (ha == hb) & ((ua < 0) != (ub < 0)))
    # Flat 1 and flat 2 of one building are two dwellings, however alike the streets.
    na, nb = lad.codes("house_number")
    sa, sb = lad.codes("street")
    ua, ub = lad.codes("unit")
    same_house = (na == nb) & ((ua == ub) | (ua < 0) | (ub < 0))
    streets = f.vocab["street"]
    lad.settle("fuzzy_street", _only(same_house, _fuzzy(streets, FUZZY_STREET), sa, sb))
    return lad.result


POSTCODE = ("null", "exact", "district", "typo", "else")


def _postcode(f: Features, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    lad = _Ladder(f, left, right, POSTCODE)
    lad.settle_nulls("postcode")
    a, b = lad.codes("postcode")
    lad.settle("exact", a == b)
    da, db = lad.codes("postcode_district")
    lad.settle("district", (da == db) & (da >= 0))
    a, b = lad.codes("postcode")
    lad.settle("typo", _edits(f.vocab["postcode"], 1)(a, b))
    return lad.result


CITY = ("null", "exact", "fuzzy", "else")


def _city(f: Features, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    lad = _Ladder(f, left, right, CITY)
    lad.settle_nulls("city")
    a, b = lad.codes("city")
    lad.settle("exact", a == b)
    a, b = lad.codes("city")
    # A town typed with a slip or without its space ("malverneast"); its weight is learnt.
    lad.settle("fuzzy", f.vocab["city"].jaro_winkler_at_least(a, b, FUZZY_CITY))
    return lad.result


EXACT_ONLY = ("null", "exact", "else")


def _exact(column: str, shared: str | None = None) -> Rule:
    def rule(f: Features, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        lad = _Ladder(f, left, right, EXACT_ONLY)
        lad.settle_nulls(column, shared)
        a, b = lad.codes(column)
        lad.settle("exact", a == b)
        return lad.result

    return rule


def default_comparisons() -> tuple[Comparison, ...]:
    return (
        Comparison("first_name", FIRST_NAME, _first_name),
        Comparison("last_name", LAST_NAME, _last_name),
        Comparison("date_of_birth", DATE_OF_BIRTH, _date_of_birth),
        Comparison("email", EMAIL, _email),
        Comparison("phone", PHONE, _phone),
        Comparison("address", ADDRESS, _address),
        Comparison("postcode", POSTCODE, _postcode),
        Comparison("city", CITY, _city),
        # A card the household shares says nothing about which of them is shopping.
        Comparison("loyalty_id", EXACT_ONLY, _exact("loyalty_id", shared="loyalty_id")),
    )
