"""The Fellegi–Sunter model: how much each comparison level says about two records being one
person, learnt from the data itself.

For each comparison level, m is the probability of that level when the records are the same
person and u when they are not. u comes from random pairs (nearly all non-matches); m comes
from expectation–maximisation over the candidate pairs with u held fixed. A pair's match
weight is the sum of log2(m/u) over its comparisons (null levels add nothing) plus the prior,
and term-frequency adjustments make an exact match on a rare name or postcode count for more
than one on a common one. The model is data: it round-trips through JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from kenning.resolution.arrays import distinct
from kenning.resolution.comparisons import Comparison
from kenning.resolution.features import Features
from kenning.resolution.parallel import in_parts

FloatArray = npt.NDArray[np.float64]
LevelMatrix = npt.NDArray[np.int8]  # pairs × comparisons

# Probabilities never reach 0 or 1: a level never seen would otherwise weigh ±infinity.
_FLOOR = 1e-6
_MIN_PRIOR = 1e-12
# Records' worth of the comparison's average frequency that a value's own count is
# weighed against (see TermCounts.trust).
TF_PSEUDO_COUNT = 0.5
# Comparisons whose exact level is adjusted by how common the value is.
TF_COLUMNS: dict[str, str] = {
    "first_name": "first_name",
    "last_name": "last_name",
    "postcode": "postcode",
    "city": "city",
}


@dataclass
class ComparisonWeights:
    name: str
    levels: list[str]
    m: list[float]
    u: list[float]

    def weights(self) -> list[float]:
        """log2(m/u) per level; 0 for the null level."""
        return [0.0] + [
            float(np.log2(max(m, _FLOOR) / max(u, _MIN_PRIOR)))
            for m, u in zip(self.m[1:], self.u[1:], strict=True)
        ]


@dataclass
class TermCounts:
    total: int  # records holding any value
    counts: dict[str, int]  # value -> records holding it, for values held more than once

    @classmethod
    def of(cls, codes: npt.NDArray[np.int32], values: npt.NDArray[np.object_]) -> TermCounts:
        valid = codes[codes >= 0]
        counts = np.bincount(valid, minlength=len(values))
        several = np.flatnonzero(counts > 1)
        return cls(
            len(valid), dict(zip(values[several].tolist(), counts[several].tolist(), strict=True))
        )

    def per_value(self, values: npt.NDArray[np.object_]) -> npt.NDArray[np.float64]:
        """The share of records holding each of ``values`` (a value never seen: one)."""
        get = self.counts.get
        counts = np.fromiter((get(v, 1) for v in values.tolist()), np.float64, len(values))
        return counts / max(self.total, 1)

    def trust(self, values: npt.NDArray[np.object_]) -> npt.NDArray[np.float64]:
        """How far each value's own frequency is trusted over the comparison's average,
        n / (n + TF_PSEUDO_COUNT) for a value held by n records (held once or never: 0).
        A name seen once or never is not known to be rare, only unknown: it weighs as
        an average name would ("Bea Browser", new to the store, must not merge two
        strangers), and a name seen twice most of the way as its count says."""
        get = self.counts.get
        counts = np.fromiter((get(v, 0) for v in values.tolist()), np.float64, len(values))
        return counts / (counts + TF_PSEUDO_COUNT)


@dataclass
class Model:
    comparisons: list[ComparisonWeights]
    # Probability that two records drawn at random are one person: the base rate every
    # pair's evidence is weighed against. (Among candidate pairs the rate is far higher,
    # but being a candidate is no evidence beyond the comparisons that made it one.)
    prior: float
    u_exact_tf: dict[str, float] = field(default_factory=dict)  # column -> u of exact level
    # column -> how many training records held each value (values held once are left out)
    # and how many held any: term frequencies are part of the model, so a record resolved
    # alone in real time weighs a rare name exactly as the batch run that trained it did.
    term_counts: dict[str, TermCounts] = field(default_factory=dict)
    trained_on_pairs: int = 0
    em_iterations: int = 0
    labelled_pairs: int = 0  # pairs known to be one person or two that corrected m and u
    # Where the model comes from: "trained" on the store's own records, or the "prior"
    # shipped with Kenning (trained on a generated retailer) that a store uses until it
    # holds enough records to train its own; and how many records it was trained on.
    source: str = "trained"
    trained_on_records: int = 0
    # Of the addresses whose records show a birth date, the share held under two first
    # names and two birth dates: two people (see household_rate). None: too few to tell.
    household_rate: float | None = None

    def weight_table(self) -> FloatArray:
        """comparisons × max levels table of log2 Bayes factors."""
        width = max(len(c.levels) for c in self.comparisons)
        table = np.zeros((len(self.comparisons), width))
        for i, comparison in enumerate(self.comparisons):
            w = comparison.weights()
            table[i, : len(w)] = w
        return table

    @property
    def prior_weight(self) -> float:
        p = min(max(self.prior, _MIN_PRIOR), 1 - _FLOOR)
        return float(np.log2(p / (1 - p)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "prior": self.prior,
            "trained_on_pairs": self.trained_on_pairs,
            "em_iterations": self.em_iterations,
            "labelled_pairs": self.labelled_pairs,
            "source": self.source,
            "trained_on_records": self.trained_on_records,
            "household_rate": self.household_rate,
            "u_exact_tf": self.u_exact_tf,
            "term_counts": {
                column: {"total": tc.total, "counts": tc.counts}
                for column, tc in self.term_counts.items()
            },
            "comparisons": [
                {"name": c.name, "levels": c.levels, "m": c.m, "u": c.u} for c in self.comparisons
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Model:
        return cls(
            comparisons=[
                ComparisonWeights(c["name"], list(c["levels"]), list(c["m"]), list(c["u"]))
                for c in data["comparisons"]
            ],
            prior=float(data["prior"]),
            u_exact_tf=dict(data.get("u_exact_tf", {})),
            term_counts={
                column: TermCounts(int(tc["total"]), dict(tc["counts"]))
                for column, tc in data.get("term_counts", {}).items()
            },
            trained_on_pairs=int(data.get("trained_on_pairs", 0)),
            em_iterations=int(data.get("em_iterations", 0)),
            labelled_pairs=int(data.get("labelled_pairs", 0)),
            source=str(data.get("source", "trained")),
            trained_on_records=int(data.get("trained_on_records", 0)),
            household_rate=data.get("household_rate"),
        )

    def matches(self, comparisons: Sequence[Comparison]) -> bool:
        """Whether the model was trained for these comparisons and their levels."""
        return [c.name for c in comparisons] == [c.name for c in self.comparisons] and all(
            list(c.levels) == w.levels for c, w in zip(comparisons, self.comparisons, strict=True)
        )

    def name_counts(self) -> tuple[dict[str, int], int] | None:
        """How many records held each first name when the model was trained (names held
        more than once), and how many held one: see build_features."""
        counted = self.term_counts.get(TF_COLUMNS["first_name"])
        return None if counted is None else (counted.counts, counted.total)

    def check_matches(self, comparisons: Sequence[Comparison]) -> None:
        if not self.matches(comparisons):
            mine = [f"{c.name} {c.levels}" for c in self.comparisons]
            raise ValueError(
                f"the stored model was trained for other comparisons ({'; '.join(mine)}): "
                "run `kenning resolve` to train it again"
            )


def compare_all(
    comparisons: Sequence[Comparison],
    features: Features,
    left: npt.NDArray[np.int64],
    right: npt.NDArray[np.int64],
) -> LevelMatrix:
    def compare(part: slice) -> LevelMatrix:
        levels = np.zeros((len(left[part]), len(comparisons)), dtype=np.int8)
        for i, comparison in enumerate(comparisons):
            levels[:, i] = comparison.compare(features, left[part], right[part])
        return levels

    return np.concatenate(in_parts(len(left), compare))


def random_pairs(
    n: int, pairs: int, seed: int, exclude: npt.NDArray[np.int64] | None = None
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Random record pairs (left < right, never a record with itself), leaving out the pair
    keys ``left * n + right`` in the sorted array `exclude`."""
    rng = np.random.default_rng(seed)
    count = min(pairs, n * (n - 1) // 2) if n >= 2 else 0
    a = rng.integers(0, max(n, 1), size=count)
    b = rng.integers(0, max(n - 1, 1), size=count)
    b = np.where(b >= a, b + 1, b)
    # In key order: a sample's order means nothing, and sorted keys find their place in
    # `exclude` in a tenth of the time scattered ones take (memory stays in cache).
    keys = np.sort(np.minimum(a, b) * n + np.maximum(a, b))
    if exclude is not None and len(exclude):
        at = np.searchsorted(exclude, keys).clip(max=len(exclude) - 1)
        keys = keys[exclude[at] != keys]
    return keys // max(n, 1), keys % max(n, 1)


def _posterior(
    levels: LevelMatrix, m: list[list[float]], u: list[list[float]], prior: float
) -> FloatArray:
    idx = np.arange(levels.shape[1])
    log_odds = (_log_table(m)[idx, levels] - _log_table(u)[idx, levels]).sum(axis=1)
    odds = np.exp(np.clip(log_odds + np.log(prior / (1 - prior)), -700, 700))
    return np.asarray(odds / (1 + odds), dtype=np.float64)


def _counts(levels: LevelMatrix, sizes: Sequence[int], weights: FloatArray | None) -> FloatArray:
    """comparisons × levels table of (weighted) level counts."""
    table = np.zeros((len(sizes), max(sizes)))
    for i, size in enumerate(sizes):
        table[i, :size] = np.bincount(levels[:, i], weights=weights, minlength=size)
    return table


def _shares(counts: FloatArray, sizes: Sequence[int], floor: float) -> list[list[float]]:
    """Per comparison, each non-null level's share of the counts (null excluded)."""
    out: list[list[float]] = []
    for row, size in zip(counts, sizes, strict=True):
        agreeing = row[1:size]
        total = agreeing.sum()
        shares = agreeing / total if total > 0 else np.full(size - 1, 1.0 / max(size - 1, 1))
        out.append([0.0] + [float(max(x, floor)) for x in shares])
    return out


@dataclass
class _Strata:
    """Every record pair, in two strata. Candidates (blocking proposed them) are a sample
    of their level vectors standing for `scale` pairs each, match or not by EM; each
    distinct vector is held once, with how many of the sample have it (`seen`). The rest
    are non-matches, known by the level counts of random pairs outside the candidates,
    standing for `outside_scale` pairs each."""

    candidates: LevelMatrix
    seen: FloatArray
    scale: float
    outside: FloatArray
    outside_scale: float
    sizes: list[int]

    def maximise(self, p: FloatArray, floor: float) -> tuple[list[list[float]], ...]:
        """m from the candidates' match posteriors; u from every non-match: the outside
        stratum and the candidates' non-match posteriors. Counting the candidates this way
        is what lets an e-mail or a loyalty card weigh what it does: their agreement among
        non-matches is rarer than any affordable random sample can show."""
        m = _shares(_counts(self.candidates, self.sizes, p * self.seen), self.sizes, _FLOOR)
        non_match = self.outside * self.outside_scale + self.scale * _counts(
            self.candidates, self.sizes, (1.0 - p) * self.seen
        )
        return m, _shares(non_match, self.sizes, floor)


def _distinct_rows(levels: LevelMatrix, sizes: Sequence[int]) -> tuple[LevelMatrix, FloatArray]:
    """The distinct level vectors and how many rows have each: all EM needs to know of
    millions of pairs, in a few thousand rows."""
    if not len(levels) or math.prod(sizes) >= 2**62:
        rows, seen = np.unique(levels.reshape(len(levels), len(sizes)), axis=0, return_counts=True)
        return rows, seen.astype(np.float64)
    # Each vector as one number (levels are digits in mixed radix): a sort of integers.
    radix = np.cumprod([1, *sizes[:-1]], dtype=np.int64)
    keys = levels.astype(np.int64) @ radix
    _, first, seen = np.unique(keys, return_index=True, return_counts=True)
    return levels[first], seen.astype(np.float64)


def _em(
    strata: _Strata,
    m: list[list[float]],
    u: list[list[float]],
    rate: float,
    floor: float,
    max_iterations: int,
    tolerance: float,
) -> tuple[list[list[float]], list[list[float]], float, int]:
    """m, u and the match rate among candidates by EM."""
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007 - the count is reported
        p = _posterior(strata.candidates, m, u, rate)
        new_m, new_u = strata.maximise(p, floor)
        if strata.seen.sum():  # with no candidates at all, the rate stays where it began
            rate = float(min(max(np.average(p, weights=strata.seen), _FLOOR), 1 - _FLOOR))
        change = max(
            abs(a - b)
            for old, new in zip(m, new_m, strict=True)
            for a, b in zip(old, new, strict=True)
        )
        m, u = new_m, new_u
        if change < tolerance:
            break
    return m, u, rate, iterations


def train(
    comparisons: Sequence[Comparison],
    features: Features,
    levels: LevelMatrix,
    *,
    candidate_keys: npt.NDArray[np.int64] | None = None,
    labelled: tuple[LevelMatrix, npt.NDArray[np.bool_]] | None = None,
    u_pairs: int = 1_000_000,
    max_iterations: int = 25,
    tolerance: float = 1e-4,
    sample: int = 3_000_000,
    seed: int = 0,
) -> Model:
    """Learn m, u and the base rate from the records alone.

    `levels` are the candidate pairs' levels; `candidate_keys` their sorted keys
    ``left * n + right``. Pairs outside the candidates are taken as non-matches and known
    from a random sample of them; the candidates are split into matches and non-matches by
    EM, which estimates m and u together (see _Strata). Without `candidate_keys`, every
    random pair counts as a non-match. `labelled` pairs (levels, is-match) known to be one
    person or two then correct m and u (see _with_labels).
    """
    sizes = [len(c.levels) for c in comparisons]
    rng = np.random.default_rng(seed)
    n, candidates = features.n, len(levels)
    if len(levels) > sample:
        levels = levels[np.sort(rng.choice(len(levels), size=sample, replace=False))]
    all_pairs = max(n * (n - 1) // 2, 1)
    left, right = random_pairs(n, u_pairs, seed, candidate_keys)
    randoms = compare_all(comparisons, features, left, right)
    outside = all_pairs - (candidates if candidate_keys is not None else 0)
    patterns, seen = _distinct_rows(levels, sizes)
    strata = _Strata(
        candidates=patterns,
        seen=seen,
        scale=candidates / max(len(levels), 1),
        outside=_counts(randoms, sizes, None),
        outside_scale=outside / max(len(randoms), 1),
        sizes=sizes,
    )
    # A level no non-match was seen at is taken as rarer than half a pair in all of them.
    floor = min(_FLOOR, 0.5 / all_pairs)
    u = _shares(strata.outside, sizes, floor)
    # Start m from "agreement is likely for matches": most mass on the strongest level.
    m = [_decreasing(size) for size in sizes]
    m, u, rate, iterations = _em(strata, m, u, 0.1, floor, max_iterations, tolerance)
    if labelled is not None and len(labelled[0]):
        known, is_match = labelled
        m = _with_labels(m, known[is_match], sizes, _FLOOR)
        u = _with_labels(u, known[~is_match], sizes, floor)
    prior = min(max(rate * candidates / all_pairs, _MIN_PRIOR), 0.5)
    names = [c.name for c in comparisons]
    return Model(
        comparisons=[
            ComparisonWeights(c.name, list(c.levels), mc, uc)
            for c, mc, uc in zip(comparisons, m, u, strict=True)
        ],
        prior=prior,
        u_exact_tf={name: uc[1] for name, uc in zip(names, u, strict=True) if name in TF_COLUMNS},
        term_counts={
            column: TermCounts.of(features.codes[column], features.vocab[column].values)
            for name, column in TF_COLUMNS.items()
            if name in names
        },
        trained_on_pairs=len(levels),
        labelled_pairs=0 if labelled is None else len(labelled[0]),
        em_iterations=iterations,
        trained_on_records=n,
        household_rate=household_rate(features),
    )


# Addresses with two records or more showing a birth date needed to tell households apart.
_HOUSEHOLD_SAMPLE = 50


def household_rate(features: Features) -> float | None:
    """Of the addresses two or more records with a birth date hold, the share held under
    two first names and two birth dates or more: two people living there. A retailer's
    and a register's records show households at most of them (0.6, 0.99 measured); a data
    set of one person's copies (Febrl) at few (0.02-0.15): there a second first name or
    birth date at one address is a damaged field, not a family. None: too few to tell."""
    home, first, dob = (features.codes[c] for c in ("address_key", "first_name", "date_of_birth"))
    held = (home >= 0) & (first >= 0) & (dob >= 0)
    homes = home[held].astype(np.int64)
    if not len(homes):
        return None
    size = int(homes.max()) + 1
    several = np.bincount(homes, minlength=size) >= 2
    if several.sum() < _HOUSEHOLD_SAMPLE:
        return None

    def kinds(column: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
        width = np.int64(int(column.max(initial=0)) + 1)
        return np.bincount(distinct(homes * width + column[held]) // width, minlength=size)

    families = several & (kinds(first) >= 2) & (kinds(dob) >= 2)
    return float(families.sum() / several.sum())


# How many labelled pairs weigh as much as the unsupervised estimate: a few hundred
# reviewed pairs move the weights, a handful do not overturn what millions of pairs showed.
LABEL_STRENGTH = 1000.0


def _with_labels(
    shares: list[list[float]], known: LevelMatrix, sizes: Sequence[int], floor: float
) -> list[list[float]]:
    """Level shares updated by labelled pairs, the unsupervised estimate standing as a
    prior worth LABEL_STRENGTH pairs (a Dirichlet posterior mean)."""
    counts = _counts(known, sizes, None)
    out: list[list[float]] = []
    for row, size, prior in zip(counts, sizes, shares, strict=True):
        seen = row[1:size]
        mixed = (LABEL_STRENGTH * np.asarray(prior[1:]) + seen) / (LABEL_STRENGTH + seen.sum())
        out.append([0.0] + [float(max(x, floor)) for x in mixed])
    return out


def _decreasing(size: int) -> list[float]:
    shares = np.linspace(0.9, 0.05, max(size - 1, 1))
    return [0.0, *(shares / shares.sum()).tolist()]


def _log_table(probabilities: list[list[float]]) -> FloatArray:
    """comparisons × levels natural-log table; null level 0 (it multiplies by 1)."""
    width = max(len(row) for row in probabilities)
    table = np.zeros((len(probabilities), width))
    for i, row in enumerate(probabilities):
        for level, value in enumerate(row):
            table[i, level] = 0.0 if level == 0 else np.log(max(value, _MIN_PRIOR))
    return table


def tf_shares(
    model: Model, comparisons: Sequence[Comparison], features: Features
) -> dict[int, FloatArray]:
    """Per term-frequency-adjusted comparison (by index), two rows: each value's share of
    records and how far that share is trusted (TermCounts.trust), by the model's counts
    (made when it was trained); a model without them counts these records."""
    out: dict[int, FloatArray] = {}
    for i, comparison in enumerate(comparisons):
        column = TF_COLUMNS.get(comparison.name)
        if column is None or comparison.name not in model.u_exact_tf:
            continue
        frozen = model.term_counts.get(column)
        if frozen is None:
            codes = features.codes[column]
            frozen = TermCounts.of(codes, features.vocab[column].values)
        values = features.vocab[column].values
        out[i] = np.stack([frozen.per_value(values), frozen.trust(values)])
    return out


def tf_adjustment_matrix(
    model: Model,
    comparisons: Sequence[Comparison],
    features: Features,
    left: npt.NDArray[np.int64],
    levels: LevelMatrix,
    shares: Mapping[int, FloatArray] | None = None,
) -> FloatArray:
    """Per pair and comparison, the term-frequency adjustment (log2).

    On an exact match of a value held by a share tf of records, the evidence is
    log2(m / tf) rather than log2(m / u): rarer values say more. ``shares`` are
    `tf_shares` (computed here when not given).
    """
    shares = tf_shares(model, comparisons, features) if shares is None else shares
    out = np.zeros((len(left), len(comparisons)))
    for i, share in shares.items():
        exact = levels[:, i] == 1
        if not exact.any():
            continue
        comparison = comparisons[i]
        codes = features.codes[TF_COLUMNS[comparison.name]]
        tf, trust = share[:, codes[left[exact]]]
        u_exact = max(model.u_exact_tf[comparison.name], _FLOOR)
        out[exact, i] = trust * np.log2(u_exact / np.maximum(tf, _FLOOR))
    return out


# Comparisons that speak of one person rather than one name: a pair agreeing on none of them
# (names and places only) is a namesake as often as it is the same shopper.
IDENTITY_EVIDENCE = ("email", "phone", "date_of_birth", "address", "loyalty_id")


def has_identity_evidence(
    comparisons: Sequence[Comparison], levels: LevelMatrix
) -> npt.NDArray[np.bool_]:
    found = np.zeros(len(levels), dtype=bool)
    for i, comparison in enumerate(comparisons):
        if comparison.name in IDENTITY_EVIDENCE:
            agree = len(comparison.levels) - 1  # the last level is disagreement
            found |= (levels[:, i] > 0) & (levels[:, i] < agree)
    return found


# Comparisons a household shares as often as one person does: a family agrees on surname,
# address, postcode and town, so their agreement cannot tell Ann from her husband.
HOUSEHOLD = frozenset({"last_name", "address", "postcode", "city"})


def level_weights(
    table: FloatArray, comparisons: Sequence[Comparison], levels: LevelMatrix
) -> FloatArray:
    """Per pair and comparison, the Bayes factor (log2) of its level (see weight_table),
    except that a household's value says "one of us" and only names say which: a shared
    level counts for nothing between records whose first or last names disagree (a mother
    and a daughter at one address, a couple at one mailbox), or where one has no first
    name (an e-mail-list record of the family's mailbox)."""
    parts: FloatArray = table[np.arange(len(comparisons)), levels]
    apart = np.zeros(len(levels), bool)
    for i, c in enumerate(comparisons):
        if c.name in ("first_name", "last_name"):
            apart |= levels[:, i] == len(c.levels) - 1  # "else"
        if c.name == "first_name":
            apart |= levels[:, i] == 0  # no first name on one side: which of them?
    for i, c in enumerate(comparisons):
        if "shared" in c.levels and apart.any():
            moot = apart & (levels[:, i] == c.levels.index("shared"))
            parts[moot, i] = np.minimum(parts[moot, i], 0.0)
    return parts


def is_household(comparison: str, level: str) -> bool:
    """Is this agreement one a household has as often as one person? Surname, address,
    postcode and town (HOUSEHOLD), and a value a household shares (its landline, its
    mailbox)."""
    return comparison in HOUSEHOLD or level == "shared"


def household_levels(comparisons: Sequence[Comparison], width: int) -> npt.NDArray[np.bool_]:
    """`is_household` per comparison and level, as a table."""
    family = np.zeros((len(comparisons), width), bool)
    for i, c in enumerate(comparisons):
        for k, level in enumerate(c.levels):
            family[i, k] = is_household(c.name, level)
    return family


def score(
    model: Model,
    comparisons: Sequence[Comparison],
    features: Features,
    left: npt.NDArray[np.int64],
    levels: LevelMatrix,
) -> tuple[FloatArray, FloatArray]:
    """Per pair: the match weight (log2 odds: prior + Bayes factors + term frequencies),
    and the part of it a household's agreement contributed (its positive weights)."""
    table = model.weight_table()
    idx = np.arange(len(comparisons))
    family = household_levels(comparisons, table.shape[1])

    shares = tf_shares(model, comparisons, features)

    def weigh(part: slice) -> tuple[FloatArray, FloatArray]:
        these = levels[part]
        parts = level_weights(table, comparisons, these) + tf_adjustment_matrix(
            model, comparisons, features, left[part], these, shares
        )
        household: FloatArray = (parts.clip(min=0) * family[idx, these]).sum(axis=1)
        return parts.sum(axis=1) + model.prior_weight, household

    done = in_parts(len(left), weigh)
    return np.concatenate([w for w, _ in done]), np.concatenate([h for _, h in done])


def probability(weights: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp2(-np.clip(weights, -60, 60))), dtype=np.float64)
