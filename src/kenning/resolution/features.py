"""Records turned into arrays that pair comparisons can index: one int code per value.

Comparisons look at millions of candidate pairs, so each column is factorised once into
int32 codes (equal codes ⇔ equal values) over a sorted vocabulary of its distinct values.
Whatever a comparison needs per value (lengths, character sets, digits, name tokens,
nickname groups) is computed once per distinct value, never per pair, and the string
scorers only see the pairs that cheap bounds could not settle.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from kenning.domain.normalise import canonical_first_names, email_domain, name_key
from kenning.domain.normalise import postcode_district as district_of
from kenning.domain.normalised import NORMALISED_FIELDS
from kenning.resolution.arrays import distinct, pair_indices, runs
from kenning.resolution.parallel import in_threads

# A column of values, as a list or as an Arrow string array (as the store reads them).
Column: TypeAlias = Sequence[str | None] | pa.Array

# First names at least this Jaro-Winkler-similar are one name mistyped ("jon"/"john").
FUZZY_FIRST_NAME = 0.92
# Columns whose value, held by several people, stops being evidence of identity.
IDENTIFIERS = ("email", "phone", "loyalty_id", "address_key")
# Coding a timestamp would cost a second per million records and no comparison uses it.
_UNCODED = frozenset({"updated_at"})
# One vocabulary for both name columns, so codes compare across them (swapped names).
_NAME_COLUMNS = ("first_name", "last_name")
_MAX_NAME_TOKENS = 6
# One value held under more distinct first names than this is shared, whatever they are.
_MANY_NAMES = 24
# A shared value held under at most this many first names is a household's: its holders
# are still told apart by first name (see comparisons' settle_nulls).
_HOUSEHOLD_NAMES = 4
_NON_DIGIT = re.compile(r"\D")
_DOUBLED = re.compile(r"(.)\1+")
# Shorter names are too close to other people's names for a slip to be told from them.
_MIN_SLIP_LENGTH = 4
# Similarities this close under a threshold pass it: float rounding (0.92 computed as
# 0.9199999…) must not decide a level, nor differ between scorer implementations.
_SIMILARITY_SLACK = 1e-9
# Jaro-Winkler never adds more than 4 prefix characters x 0.1 of what Jaro leaves.
_MAX_PREFIX_BOOST = 0.4
# A first name seen this rarely (on at most _TYPO_RARE records, or one in _TYPO_SHARE of
# those with a first name in a bigger store), one edit from a name seen at least _TYPO_RATIO
# times as often, is that name mistyped: "nark" for "mark", "kehji" for "kenji". A changed
# letter between two names of their own ("joan", "john"; "maria", "mario") is two people.
_TYPO_RARE = 2
_TYPO_SHARE = 1e-5
_TYPO_RATIO = 20


class Vocabulary:
    """The distinct values of a column in sorted order (a value's code is its index), and
    vectorised tests over pairs of codes.

    Sorted, so code order is string order in every Features built: the online matcher and
    the batch resolver hand a pair's strings to the scorers in the same order.
    """

    def __init__(self, values: Sequence[str]) -> None:
        self.values: np.ndarray = np.array(values, dtype=object).reshape(len(values))
        # Codes that are someone's first name: the only ones nickname groups are built for.
        self.first_names = np.ones(len(values), bool)
        # How many records hold each value as a first name, and how many records are rare
        # enough to make a spelling a slip (see name_counts); None: no value is a slip.
        self.counts: np.ndarray | None = None
        self.count_of: Mapping[str, int] = {}
        self.rare: int = 0

    def name_counts(self, counts: np.ndarray, total: int, count_of: Mapping[str, int]) -> None:
        """Set each value's count of records holding it as a first name, out of ``total``
        records with one, and the counts of every name counted (see _TYPO_RARE)."""
        self.counts = counts.astype(np.int64)
        self.count_of = count_of
        self.rare = max(_TYPO_RARE, int(total * _TYPO_SHARE))

    def rare_typos(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """One of the names is a rare spelling one edit from the other, a far commoner name
        (see _TYPO_RARE)."""
        if self.counts is None or not len(a):
            return np.zeros(len(a), bool)
        ca, cb = self.counts[a], self.counts[b]
        few, many = np.minimum(ca, cb), np.maximum(ca, cb)
        near = (few <= self.rare) & (many >= _TYPO_RATIO * np.maximum(few, 1))
        near &= np.minimum(self.lengths[a], self.lengths[b]) >= _MIN_SLIP_LENGTH
        near &= self.maybe_edits_apart(a, b, 1)
        return self._scored(a, b, np.flatnonzero(near), DamerauLevenshtein.distance, 1)

    def rare_typo(self, a: str, b: str) -> bool:
        """`rare_typos` of two values, one pair at a time (clustering asks of pairs of
        names that disagree otherwise): most are answered by their counts alone."""
        if self.counts is None:
            return False
        # A name never counted was held once at most, as `rare_typos` takes it.
        few, many = sorted((self.count_of.get(a, 1), self.count_of.get(b, 1)))
        if few > self.rare or many < _TYPO_RATIO * max(few, 1):
            return False
        if min(len(a), len(b)) < _MIN_SLIP_LENGTH or abs(len(a) - len(b)) > 1:
            return False
        return bool(DamerauLevenshtein.distance(a, b, score_cutoff=1) <= 1)

    def __len__(self) -> int:
        return len(self.values)

    def strings(self, codes: np.ndarray) -> np.ndarray:
        """The values of codes (-1 → None), as an object array."""
        with_none = np.append(self.values, np.array([None], dtype=object))
        return np.asarray(with_none[codes])

    @cached_property
    def lengths(self) -> np.ndarray:
        return np.fromiter(map(len, self.values), np.int32, count=len(self))

    @cached_property
    def first_chars(self) -> np.ndarray:
        return np.fromiter((ord(v[0]) if v else -1 for v in self.values), np.int32, len(self))

    @cached_property
    def charmask(self) -> np.ndarray:
        """A 64-bit set of each value's characters, hashed: a bit missing from the mask
        proves the characters mapped to it are absent."""
        lengths = self.lengths.astype(np.int64)
        if not lengths.sum():
            return np.zeros(len(self), np.uint64)
        points = np.frombuffer("".join(self.values).encode("utf-32-le"), np.uint32)
        lower, digit = (points >= 97) & (points <= 122), (points >= 48) & (points <= 57)
        bits = np.where(lower, points - 97, np.where(digit, points - 22, 36 + points % 28))
        masks = np.left_shift(np.uint64(1), bits.astype(np.uint64))
        starts = np.minimum(np.cumsum(lengths) - lengths, len(masks) - 1)
        reduced: np.ndarray = np.bitwise_or.reduceat(masks, starts)
        reduced[lengths == 0] = 0
        return reduced

    @cached_property
    def digits(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(left-aligned, right-aligned, count) of each value's digits, as zero-padded
        uint8 rows: phone numbers and dates are compared digit by digit."""
        texts = [_NON_DIGIT.sub("", v) for v in self.values]
        counts = np.fromiter(map(len, texts), np.int32, count=len(texts))
        width = max(1, int(counts.max(initial=0)))
        left = np.array(texts, dtype=f"S{width}").view(np.uint8).reshape(len(texts), width)
        source = np.arange(width) - (width - counts)[:, None]
        right = np.where(source >= 0, np.take_along_axis(left, source.clip(0), axis=1), 0)
        return left, right.astype(np.uint8), counts

    @cached_property
    def tokens(self) -> tuple[np.ndarray, np.ndarray]:
        """(token ids padded with -1, token count) of each value, for compound surnames."""
        split = [v.split() for v in self.values]
        counts = np.fromiter(map(len, split), np.int32, count=len(split))
        ids: dict[str, int] = {}
        width = min(_MAX_NAME_TOKENS, max(1, int(counts.max(initial=0))))
        matrix = np.full((len(split), width), -1, np.int32)
        for row, words in enumerate(split):
            for col, word in enumerate(words[:width]):
                matrix[row, col] = ids.setdefault(word, len(ids))
        return matrix, counts

    @cached_property
    def nickname_keys(self) -> np.ndarray:
        """Sorted keys ``a * len + b`` (a < b) of values whose canonical first-name sets
        overlap ("bob"/"robert", "mary"/"mary jane")."""
        members: dict[str, list[int]] = {}
        for code in np.flatnonzero(self.first_names).tolist():
            for canonical in canonical_first_names(self.values[code]):
                members.setdefault(canonical, []).append(code)
        keys = [np.zeros(0, np.int64)]
        for group in members.values():
            if len(group) > 1:
                codes = np.array(group, np.int64)
                a, b = pair_indices(len(codes))
                keys.append(codes[a] * len(self) + codes[b])
        return distinct(np.concatenate(keys))

    # Pair tests: `a` and `b` are equal-length arrays of codes >= 0; each returns a bool
    # per pair and gives the same answer for (a, b) and (b, a).

    def nicknames(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        keys = np.minimum(a, b).astype(np.int64) * len(self) + np.maximum(a, b)
        table = self.nickname_keys
        if not len(table):
            return np.zeros(len(a), bool)
        found = np.searchsorted(table, keys).clip(max=len(table) - 1)
        return np.asarray(table[found] == keys)

    def jaro_winkler_at_least(self, a: np.ndarray, b: np.ndarray, threshold: float) -> np.ndarray:
        # Jaro <= (m/|a| + m/|b| + 1) / 3 with m matches; a character absent from the
        # other value cannot match, which bounds m and rules out most pairs unscored.
        need = 3 * (threshold - _MAX_PREFIX_BOOST) / (1 - _MAX_PREFIX_BOOST) - 1
        la, lb = self.lengths[a], self.lengths[b]
        ma, mb = self.charmask[a], self.charmask[b]
        common = ma & mb
        matches = np.minimum(la - np.bitwise_count(ma ^ common), lb - np.bitwise_count(mb ^ common))
        # matches * (1/la + 1/lb) >= need, without the divisions; the slack keeps it a bound.
        candidates = np.flatnonzero(matches * (la + lb) >= need * la * lb - 1e-6)
        return self._scored(a, b, candidates, JaroWinkler.similarity, threshold)

    def maybe_edits_apart(self, a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
        """False where the Damerau-Levenshtein distance is surely beyond k: each edit
        changes the length by at most one and the character set by at most one character
        in and one out."""
        near: np.ndarray = np.abs(self.lengths[a] - self.lengths[b]) <= k
        near &= np.bitwise_count(self.charmask[a] ^ self.charmask[b]) <= 2 * k
        return near

    def edits_at_most(self, a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
        """Damerau-Levenshtein distance <= k."""
        candidates = np.flatnonzero(self.maybe_edits_apart(a, b, k))
        return self._scored(a, b, candidates, DamerauLevenshtein.distance, k)

    def same_digits(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The values hold the same digits in the same order. For a few pairs of a large
        vocabulary: only the values they hold are read."""
        digits = {c: _NON_DIGIT.sub("", self.values[c]) for c in np.union1d(a, b).tolist()}
        same = (digits[x] == digits[y] for x, y in zip(a.tolist(), b.tolist(), strict=True))
        return np.fromiter(same, bool, count=len(a))

    def slips(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """`one_slip`: only values with the same letters and lengths one apart can be."""
        la, lb = self.lengths[a], self.lengths[b]
        near = (np.abs(la - lb) <= 1) & (np.minimum(la, lb) >= _MIN_SLIP_LENGTH)
        near &= self.charmask[a] == self.charmask[b]
        out = np.zeros(len(a), bool)
        for i in np.flatnonzero(near).tolist():
            out[i] = one_slip(self.values[a[i]], self.values[b[i]])
        return out

    def _scored(
        self,
        a: np.ndarray,
        b: np.ndarray,
        candidates: np.ndarray,
        scorer: Callable[..., float],
        cutoff: float,
    ) -> np.ndarray:
        out = np.zeros(len(a), bool)
        if not len(candidates):
            return out
        lo, hi = np.minimum(a[candidates], b[candidates]), np.maximum(a[candidates], b[candidates])
        is_distance = scorer is DamerauLevenshtein.distance
        if not is_distance:
            cutoff -= _SIMILARITY_SLACK
        scores = process.cpdist(
            self.values[lo],
            self.values[hi],
            scorer=scorer,
            # rapidfuzz's own similarity cutoff turns away exact ties (0.92 at 0.92).
            score_cutoff=cutoff if is_distance else None,
            dtype=np.int32 if is_distance else np.float64,
            workers=-1 if len(candidates) > 10_000 else 1,  # threads cost more than a few pairs
        )
        out[candidates] = scores <= cutoff if is_distance else scores >= cutoff
        return out

    def one_digit_apart(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The digit strings are one edit apart (substitution, adjacent transposition,
        insertion or deletion), from the lengths of their common prefix and suffix."""
        left, right, counts = self.digits
        out = np.zeros(len(a), bool)
        near = np.flatnonzero(
            (np.abs(counts[a] - counts[b]) <= 1) & (counts[a] > 0) & (counts[b] > 0)
        )
        for part in _chunks(len(near)):
            chunk = near[part]
            ca, cb = a[chunk], b[chunk]
            same_length = counts[ca] == counts[cb]
            shortest = np.minimum(counts[ca], counts[cb])
            prefix = np.minimum(_common_run(left[ca], left[cb]), shortest)
            suffix = np.minimum(_common_run(right[ca][:, ::-1], right[cb][:, ::-1]), shortest)
            # One substitution, insertion or deletion leaves the rest a common prefix+suffix.
            edited = prefix + suffix >= shortest - same_length
            # An adjacent transposition leaves all but two digits, swapped, in common.
            at = prefix.clip(0, left.shape[1] - 2)[:, None]
            pair_a = np.take_along_axis(left[ca], np.hstack([at, at + 1]), axis=1)
            pair_b = np.take_along_axis(left[cb], np.hstack([at + 1, at]), axis=1)
            swapped = same_length & (prefix + suffix == shortest - 2)
            out[chunk] = edited | (swapped & (pair_a == pair_b).all(axis=1))
        return out

    def tokens_contained(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """All of one side's words appear in the other's ("smith" / "smith jones")."""
        matrix, counts = self.tokens
        out = np.zeros(len(a), bool)
        for chunk in _chunks(len(a)):
            ta, tb = matrix[a[chunk]], matrix[b[chunk]]
            out[chunk] = _subset(ta, tb, counts[a[chunk]]) | _subset(tb, ta, counts[b[chunk]])
        return out


def _chunks(n: int, size: int = 500_000) -> list[slice]:
    """Bounds the memory of per-pair matrices."""
    return [slice(start, start + size) for start in range(0, n, size)]


def _common_run(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per row, how many leading columns of x and y are equal."""
    differs = x != y
    return np.asarray(np.where(differs.any(axis=1), differs.argmax(axis=1), x.shape[1]))


def _subset(small: np.ndarray, big: np.ndarray, small_counts: np.ndarray) -> np.ndarray:
    found = (small[:, :, None] == big[:, None, :]).any(axis=2) | (small < 0)
    return np.asarray(found.all(axis=1) & (small_counts <= small.shape[1]))


@dataclass(frozen=True)
class Features:
    """Records as arrays. ``vocab[col]`` holds the distinct values behind ``codes[col]``;
    first_name and last_name share one vocabulary, so their codes compare."""

    n: int
    codes: dict[str, np.ndarray]
    shared: dict[str, np.ndarray]
    vocab: dict[str, Vocabulary]
    # Of the shared values, those held under a household's handful of first names.
    shared_by_few: dict[str, np.ndarray] = field(default_factory=dict)
    # Of the shared values, those held by more records than a block may hold (a shop's
    # number): no evidence at all, where a family's value is evidence the model weighs.
    crowded: dict[str, np.ndarray] = field(default_factory=dict)
    # Each blocking rule's stable keys once computed (see blocking.stable_keys), by rule:
    # one run asks for a rule's keys for blocking, indexing and sharing alike.
    stable: dict[str, tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def value(self, column: str, record: int) -> str | None:
        """A record's value of a coded column (None when it has none)."""
        code = int(self.codes[column][record])
        return None if code < 0 else str(self.vocab[column].values[code])

    def ensure(self, columns: Iterable[str]) -> None:
        """Derive those of ``columns`` built only when a blocking rule asks for them."""
        for name in columns:
            if name in self.codes or name not in _ON_DEMAND:
                continue
            with _ON_DEMAND_LOCK:  # rules run in threads; the vocabulary goes in first
                if name not in self.codes:
                    codes, vocab = _ON_DEMAND[name](self.codes, self.vocab)
                    self.vocab[name] = vocab
                    self.codes[name] = codes


def _code(*columns: Column) -> tuple[list[np.ndarray], Vocabulary]:
    """int32 codes of each column (-1 for None) over one sorted vocabulary of them all.

    Arrow's hash tables do the coding: a Python dict over a million values per column,
    for twenty-odd columns, cost most of the time features took."""
    if not columns:
        return [], Vocabulary([])
    if sum(map(len, columns)) <= _SMALL:
        return _code_small([_listed(column) for column in columns])
    arrays = [_arrow(column) for column in columns]
    # One hash pass codes every value in order of first sight; the distinct values are
    # then sorted and the codes renumbered to match.
    encoded = pa.concat_arrays(arrays).dictionary_encode()
    # Arrow sorts strings by their UTF-8 bytes, which is code point order, as sorted() does.
    order = pc.sort_indices(encoded.dictionary).to_numpy()
    rank = np.empty(len(order) + 1, np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    rank[-1] = -1  # where no value was: index -1
    first_seen = encoded.indices.fill_null(-1).to_numpy()
    every = rank[first_seen]
    bounds = np.cumsum([0, *map(len, arrays)])  # where each column's codes start
    codes = np.split(every, bounds[1:-1])
    return codes, Vocabulary(encoded.dictionary.take(order).to_pylist())


def _arrow(column: Column) -> pa.Array:
    if isinstance(column, pa.Array):
        return column.cast(pa.large_string())
    return pa.array(column, type=pa.large_string())


def _listed(column: Column) -> Sequence[str | None]:
    if isinstance(column, pa.Array):
        values: list[str | None] = column.to_pylist()
        return values
    return column


# Below this many values a Python dict codes a column faster than Arrow's calls cost: the
# real-time matcher builds features for tables of tens of records several times a run.
_SMALL = 4096


def _code_small(columns: Sequence[Sequence[str | None]]) -> tuple[list[np.ndarray], Vocabulary]:
    """As _code, in plain Python: sorted() orders strings by code point, as Arrow does."""
    values = sorted({v for column in columns for v in column if v is not None})
    index = {v: i for i, v in enumerate(values)}
    codes = [
        np.fromiter((-1 if v is None else index[v] for v in column), np.int32, len(column))
        for column in columns
    ]
    return codes, Vocabulary(values)


def _derive(
    codes: np.ndarray, vocab: Vocabulary, fn: Callable[[str], str | None]
) -> tuple[np.ndarray, Vocabulary]:
    """A column computed from another, once per distinct value it holds."""
    used = np.zeros(len(vocab), bool)
    used[codes[codes >= 0]] = True
    derived = [fn(v) if u else None for v, u in zip(vocab.values, used, strict=True)]
    (mapping,), target = _code(derived)
    return np.append(mapping, -1)[codes], target  # code -1 maps to the -1 appended


def _combine(
    parts: Sequence[np.ndarray], required: int, build: Callable[[np.ndarray], list[str | None]]
) -> tuple[np.ndarray, Vocabulary]:
    """Code a column computed from several: `build` makes the values for given records, and
    is only called for one record of each distinct combination of `parts` codes (of which
    the first `required` must be present)."""
    n = len(parts[0])
    present = np.ones(n, bool)
    key = np.zeros(n, np.int64)
    for i, codes in enumerate(parts):
        if i < required:
            present &= codes >= 0
        key = key * (int(codes.max(initial=0)) + 2) + codes + 1
    _, first, inverse = np.unique(key[present], return_index=True, return_inverse=True)
    derived = build(np.flatnonzero(present)[first])
    (mapping,), target = _code(derived)
    out = np.full(n, -1, np.int32)
    out[present] = mapping[inverse]
    return out, target


def _first_canon(name: str) -> str:
    return min(canonical_first_names(name.split(" ", 1)[0]))


def _dob_md(iso: str) -> str | None:
    return iso[5:10] if len(iso) == 10 else None


def _email_local(email: str) -> str | None:
    local, at, _ = email.rpartition("@")
    return local if at else None


_SEPARATORS = re.compile(r"[._-]")


def _email_bare(email: str) -> str:
    """The address without separators in its mailbox name: "ann_lee@x" → "annlee@x"."""
    local, at, domain = email.rpartition("@")
    return f"{_SEPARATORS.sub('', local)}@{domain}" if at else email


_BY_VALUE: dict[str, tuple[str, Callable[[str], str | None]]] = {
    "first_canon": ("first_name", _first_canon),
    "first_initial": ("first_name", lambda v: v[0]),
    "last_key": ("last_name", name_key),
    "dob_year": ("date_of_birth", lambda v: v[:4]),
    "dob_md": ("date_of_birth", _dob_md),
    "email_local": ("email", _email_local),
    "email_bare": ("email", _email_bare),
    "email_domain": ("email", lambda v: email_domain(v) or None),
}


def _derive_columns(codes: dict[str, np.ndarray], vocab: dict[str, Vocabulary]) -> None:
    for name, (source, fn) in _BY_VALUE.items():
        codes[name], vocab[name] = _derive(codes[source], vocab[source], fn)
    # As domain.normalise.address_key: "221b bakerst 4b".
    streets = np.array([s.replace(" ", "") for s in vocab["street"].values], dtype=object)

    def address(records: np.ndarray, with_unit: bool) -> list[str | None]:
        keys = vocab["house_number"].values[codes["house_number"][records]] + " "
        keys += streets[codes["street"][records]]
        unit = codes["unit"][records]
        if with_unit and len(records):
            keys[unit >= 0] += " " + vocab["unit"].values[unit[unit >= 0]]
        return list(keys)

    def district(records: np.ndarray) -> list[str | None]:
        postcodes = vocab["postcode"].strings(codes["postcode"][records])
        countries = vocab["country"].strings(codes["country"][records])
        return [district_of(p, c) for p, c in zip(postcodes, countries, strict=True)]

    house = [codes["house_number"], codes["street"]]
    codes["address_key"], vocab["address_key"] = _combine(
        [*house, codes["unit"]], 2, lambda r: address(r, with_unit=True)
    )
    codes["house_street"], vocab["house_street"] = _combine(
        house, 2, lambda r: address(r, with_unit=False)
    )
    codes["postcode_district"], vocab["postcode_district"] = _combine(
        [codes["postcode"], codes["country"]], 1, district
    )


def _name_pair(
    codes: Mapping[str, np.ndarray], vocab: Mapping[str, Vocabulary]
) -> tuple[np.ndarray, Vocabulary]:
    """Both names in either order ("max morrison" and "morrison max"): a blocking column
    that finds names typed into each other's boxes."""

    def pairs(records: np.ndarray) -> list[str | None]:
        firsts = vocab["first_name"].strings(codes["first_name"][records])
        lasts = vocab["last_name"].strings(codes["last_name"][records])
        return [" ".join(sorted((f, last))) for f, last in zip(firsts, lasts, strict=True)]

    return _combine([codes["first_name"], codes["last_name"]], 2, pairs)


# Derived columns that only some settings' rules use, built when asked (Features.ensure):
# every resolve of a million records would pay for them otherwise.
_ON_DEMAND: dict[
    str,
    Callable[[Mapping[str, np.ndarray], Mapping[str, Vocabulary]], tuple[np.ndarray, Vocabulary]],
] = {"name_pair": _name_pair}
_ON_DEMAND_LOCK = threading.Lock()


def one_slip(a: str, b: str) -> bool:
    """One name typed with a letter doubled or undoubled ("deerek", "mathew") or two
    neighbouring letters swapped ("jhon"): slips that keep every letter, which Jaro-Winkler
    can score below its threshold on short names. A changed letter is not a slip here:
    "maria" and "mario" are a sister and a brother."""
    if min(len(a), len(b)) < _MIN_SLIP_LENGTH or abs(len(a) - len(b)) > 1 or a == b:
        return False
    if _DOUBLED.sub(r"\1", a) == _DOUBLED.sub(r"\1", b):
        return True
    if len(a) != len(b):
        return False
    apart = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return len(apart) == 2 and apart[1] == apart[0] + 1 and a[apart[0]] == b[apart[1]]


def same_first_name(a: str, b: str) -> bool:
    """Whether two first names can be one person's: equal, an initial of the other,
    nicknames of one name, or one mistyped (the agreeing levels of the first_name
    comparison)."""
    if a == b:
        return True
    if len(a) == 1 or len(b) == 1:
        return a[0] == b[0]
    if canonical_first_names(a) & canonical_first_names(b):
        return True
    lo, hi = sorted((a, b))
    return JaroWinkler.similarity(lo, hi) >= FUZZY_FIRST_NAME - _SIMILARITY_SLACK or one_slip(a, b)


def names_agree(names: Vocabulary, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`same_first_name` over arrays of name codes (>= 0)."""
    agree: np.ndarray = a == b
    initial = (names.lengths[a] == 1) | (names.lengths[b] == 1)
    agree |= initial & (names.first_chars[a] == names.first_chars[b])
    rest = np.flatnonzero(~agree & ~initial)
    agree[rest] = names.nicknames(a[rest], b[rest])
    rest = rest[~agree[rest]]
    agree[rest] = names.jaro_winkler_at_least(a[rest], b[rest], FUZZY_FIRST_NAME)
    rest = rest[~agree[rest]]
    agree[rest] = names.slips(a[rest], b[rest])
    rest = rest[~agree[rest]]
    agree[rest] = names.rare_typos(a[rest], b[rest])
    return agree


def count_people(first_names: Sequence[str], enough: int) -> int:
    """How many different people these first names show, counting up to `enough`.

    Fullest names first, so an initial or a short form ("j", "chris") is absorbed by a
    full name rather than standing for a person that bridges two others.
    """
    people: list[str] = []
    for name in sorted(first_names, key=lambda s: (-len(s), s)):
        if not any(same_first_name(name, p) for p in people):
            people.append(name)
            if len(people) >= enough:
                break
    return len(people)


def _unswapped_first(values: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Each record's first name, except where records holding one value show the same two
    names both ways round ("sara ramirez", "ramirez sara"): the less common order is read
    as swapped, since one person typed into the wrong boxes is not two people."""
    width = np.int64(max(int(first.max(initial=0)), int(last.max(initial=0))) + 1)
    key = (values.astype(np.int64) * width + first) * width + last
    distinct, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    reverse = (values.astype(np.int64) * width + last) * width + first
    at = np.searchsorted(distinct, reverse).clip(max=max(len(distinct) - 1, 0))
    own, other = counts[inverse], np.where(distinct[at] == reverse, counts[at], 0)
    swapped = (last >= 0) & (last != first) & ((other > own) | ((other == own) & (last < first)))
    return np.where(swapped, last, first)


def _name_groups(values: np.ndarray, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (value, first name) pairs, sorted by value: two int arrays."""
    width = np.int64(int(first.max(initial=0)) + 1)
    pairs = distinct(values.astype(np.int64) * width + first)
    return pairs // width, (pairs % width).astype(np.int32)


def _any_two_people(
    names: Vocabulary, name_codes: np.ndarray, starts: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """Per group of distinct first names: do they show two people? They do when two full
    names cannot be one person's, or an initial fits none of the full names (and is not
    alone). Groups of more than _MANY_NAMES names are taken to be shared untested."""
    group = np.repeat(np.arange(len(starts)), counts)
    initial = names.lengths[name_codes] == 1
    out = counts > _MANY_NAMES
    full_groups, full_codes = group[~initial], name_codes[~initial]
    full_starts, full_counts = runs(full_groups)
    for size in distinct(full_counts[(full_counts >= 2) & (full_counts <= _MANY_NAMES)]):
        at = full_starts[full_counts == size]
        i, j = pair_indices(int(size))
        a, b = full_codes[(at[:, None] + i).ravel()], full_codes[(at[:, None] + j).ravel()]
        disagree = ~names_agree(names, a, b).reshape(len(at), len(i)).all(axis=1)
        out[full_groups[at]] |= disagree
    # An initial is absorbed by a full name with its letter ("w" by "william"); each letter
    # left over is one more person.
    letter = group.astype(np.int64) * 0x110000 + names.first_chars[name_codes]
    keys, where = np.unique(letter, return_inverse=True)
    has_full = np.zeros(len(keys), bool)
    has_full[where[~initial]] = True
    orphan = np.zeros(len(keys), bool)
    orphan[where[initial]] = True
    orphan &= ~has_full
    people = np.bincount(keys[orphan] // 0x110000, minlength=len(starts))
    named_in_full = np.zeros(len(starts), bool)
    named_in_full[full_groups] = True
    return out | (people + named_in_full >= 2)


def _shared(
    values: np.ndarray, first: np.ndarray, last: np.ndarray, names: Vocabulary, threshold: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per record: is its value held by records whose first names show `threshold` people?
    And is it, besides, held under no more than a household's first names?

    Two people: some two of the names cannot be one person's (exact). More: counted
    greedily with `count_people`.
    """
    named = np.flatnonzero((values >= 0) & (first >= 0))
    holders, name_codes = _name_groups(values[named], first[named])
    starts, counts = runs(holders)
    # Only values seen with several first names can be shared; unswap names there only.
    several = np.isin(values[named], holders[starts[counts >= 2]])
    named = named[several]
    firsts = _unswapped_first(values[named], first[named], last[named])
    holders, name_codes = _name_groups(values[named], firsts)
    starts, counts = runs(holders)
    flagged = np.zeros(int(values.max(initial=-1)) + 2, bool)  # the last slot is code -1
    if threshold <= 2:
        flagged[holders[starts]] = _any_two_people(names, name_codes, starts, counts)
        flagged[holders[starts]] |= threshold <= 1
    else:
        for start, count in zip(starts, counts, strict=True):
            group = names.values[name_codes[start : start + count]]
            flagged[holders[start]] = count_people(group, threshold) >= threshold
    few = np.zeros(len(flagged), bool)
    few[holders[starts]] = counts <= _HOUSEHOLD_NAMES
    return np.asarray(flagged[values]), np.asarray(flagged[values] & few[values])


def _count_first_names(
    names: Vocabulary, first: np.ndarray, given: tuple[Mapping[str, int], int] | None
) -> None:
    if given is None:
        held = first[first >= 0]
        counts = np.bincount(held, minlength=len(names))
        several = np.flatnonzero(counts > 1)  # as a model keeps them (see TermCounts)
        found = dict(zip(names.values[several].tolist(), counts[several].tolist(), strict=True))
        names.name_counts(counts, len(held), found)
        return
    count_of, total = given
    get = count_of.get
    named = names.values[names.first_names].tolist()
    seen = np.zeros(len(names), np.int64)
    seen[names.first_names] = [get(name, 1) for name in named]
    names.name_counts(seen, total, count_of)


def _address_scope(codes: dict[str, np.ndarray], vocab: dict[str, Vocabulary]) -> np.ndarray:
    """The address key qualified by postcode (else city): "12 high st" in two towns is two
    dwellings, not one address shared by two people."""
    postcodes = len(vocab["postcode"])
    postcode, city = codes["postcode"], codes["city"].astype(np.int64)
    scope = np.where(postcode >= 0, postcode, postcodes + 1 + city)  # no city: postcodes
    key = codes["address_key"] * np.int64(postcodes + len(vocab["city"]) + 1) + scope
    scoped = np.unique(key, return_inverse=True)[1].astype(np.int32)
    return np.where(codes["address_key"] >= 0, scoped, -1)


def build_features(
    columns: Mapping[str, Column],
    shared_threshold: int = 2,
    *,
    name_counts: tuple[Mapping[str, int], int] | None = None,
    decide_shared: bool = True,
) -> Features:
    """Code the normalised columns (absent ones count as all-missing), derive the
    comparison columns, and flag identifier values shared by different people (unless
    not ``decide_shared``: the caller flags them, from decisions kept, see sharing.py).

    How common each first name is tells a slip from a name (see _TYPO_RARE): counted over
    these records, or given as ``name_counts`` (a trained model's: the records holding each
    name held more than once, and the records holding any), so that a neighbourhood of a
    few records is judged as the whole store was."""
    lengths = {len(col) for col in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns differ in length: {sorted(lengths)}")
    n = lengths.pop() if lengths else 0
    none: list[str | None] = [None] * n
    given = {name: columns.get(name, none) for name in NORMALISED_FIELDS}

    # The name columns share one vocabulary; the others have one each. Arrow does most of
    # the coding, without the GIL: columns are coded in threads.
    groups = [_NAME_COLUMNS] + [
        (name,) for name in NORMALISED_FIELDS if name not in _UNCODED and name not in _NAME_COLUMNS
    ]
    codes: dict[str, np.ndarray] = {}
    vocab: dict[str, Vocabulary] = {}
    coded = in_threads(lambda group: _code(*(given[c] for c in group)), groups, records=n)
    for group, (group_codes, group_vocab) in zip(groups, coded, strict=True):
        codes.update(zip(group, group_codes, strict=True))
        vocab.update(dict.fromkeys(group, group_vocab))
    names = vocab["first_name"]
    names.first_names = np.zeros(len(names), bool)
    names.first_names[codes["first_name"][codes["first_name"] >= 0]] = True
    _count_first_names(names, codes["first_name"], name_counts)
    _derive_columns(codes, vocab)

    first, last = codes["first_name"], codes["last_name"]
    held = {c: codes[c] for c in IDENTIFIERS} | {"address_key": _address_scope(codes, vocab)}
    flags = {
        c: _shared(v, first, last, names, shared_threshold)
        if decide_shared
        else (np.zeros(n, bool), np.zeros(n, bool))
        for c, v in held.items()
    }
    return Features(
        n=n,
        codes=codes,
        shared={c: every for c, (every, _) in flags.items()},
        vocab=vocab,
        shared_by_few={c: few for c, (_, few) in flags.items()},
    )
