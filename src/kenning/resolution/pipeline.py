"""Batch resolution: every record in, one customer label per record out.

features → candidate pairs (blocking) → comparison levels → model (trained when none is
given) → match weights → precision-keeping clustering. Records are put in key order first, so
the same records give the same customers in any input order.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from kenning.resolution.blocking import (
    BlockingReport,
    BlockingRule,
    Oversized,
    candidate_pairs,
    stable_keys,
)
from kenning.resolution.clustering import ConflictPenalties, cluster, first_names_compatible
from kenning.resolution.comparisons import Comparison, default_comparisons
from kenning.resolution.explain import Explanation, explain_pairs
from kenning.resolution.features import Features, build_features
from kenning.resolution.model import Model, compare_all, has_identity_evidence, score, train
from kenning.resolution.review import most_uncertain
from kenning.resolution.settings import ResolutionSettings
from kenning.resolution.sharing import KeptLookup, apply_kept

RecordKey = tuple[str, str]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class RecordTable:
    """Normalised records in key order, as columns."""

    keys: list[RecordKey]
    columns: dict[str, list[str | None]]

    @classmethod
    def from_rows(
        cls, rows: Iterable[tuple[RecordKey, Mapping[str, str | None]]], fields: Sequence[str]
    ) -> RecordTable:
        return cls.from_values(
            {key: [values.get(n) for n in fields] for key, values in rows}, fields
        )

    @classmethod
    def from_values(
        cls, rows: Mapping[RecordKey, Sequence[str | None]], fields: Sequence[str]
    ) -> RecordTable:
        """From each record's values of ``fields``, in that order."""
        keys = sorted(rows)
        columns = zip(*(rows[key] for key in keys), strict=True) if keys else ([] for _ in fields)
        return cls(keys=keys, columns=dict(zip(fields, map(list, columns), strict=True)))

    def __len__(self) -> int:
        return len(self.keys)

    def index(self, keys: Iterable[RecordKey]) -> dict[RecordKey, int]:
        """The positions of those of ``keys`` that are here (found by bisection: the keys
        are sorted, and a dict of a million keys costs more than the few looked up)."""
        found: dict[RecordKey, int] = {}
        for key in keys:
            at = bisect_left(self.keys, key)
            if at < len(self.keys) and self.keys[at] == key:
                found[key] = at
        return found


@dataclass
class Resolution:
    keys: list[RecordKey]
    labels: npt.NDArray[np.int64]  # per record: the smallest record index of its customer
    # per record: the smallest record index of its component — the records linked to it by
    # a pair above the threshold or a must-link, directly or through others. Customers
    # never cross components, so a component can be resolved again on its own.
    components: npt.NDArray[np.int64]
    features: Features
    model: Model
    blocking: BlockingReport
    pairs_scored: int
    pairs_above_threshold: int
    merges_refused: int
    # The pairs to review, most uncertain first, with why they scored what they did.
    uncertain: list[tuple[RecordKey, RecordKey, Explanation]] = field(default_factory=list)


def _pairs_of(
    keys: Sequence[tuple[RecordKey, RecordKey]], index: Mapping[RecordKey, int]
) -> list[tuple[int, int]]:
    """Correction pairs as record indices; corrections naming unknown records wait."""
    return [(index[a], index[b]) for a, b in keys if a in index and b in index and a != b]


# The columns clustering reads, by its names for them.
_CLUSTERED = {
    "dobs": "date_of_birth",
    "first_names": "first_name",
    "last_names": "last_name",
    "loyalty_ids": "loyalty_id",
    "emails": "email",
    "phones": "phone",
}


def _labelled_levels(
    comparisons: Sequence[Comparison],
    features: Features,
    index: Mapping[RecordKey, int],
    pairs: Sequence[tuple[RecordKey, RecordKey, bool]],
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.bool_]]:
    """The levels of labelled pairs whose records are both here, and their labels."""
    known = [(index[a], index[b], same) for a, b, same in pairs if a in index and b in index]
    left = np.array([a for a, _, _ in known], np.int64)
    right = np.array([b for _, b, _ in known], np.int64)
    levels = compare_all(comparisons, features, left, right)
    return levels, np.array([same for _, _, same in known], bool)


# Identifiers whose value, held by more records than a block may hold, is shared whoever
# holds it (the real-time matcher does not load thousands of holders to find out).
_BIG_MEANS_SHARED = ("email", "phone", "loyalty_id")


def shared_when_big(features: Features, oversized: Oversized | None, max_block: int) -> None:
    """An identifier value held by more records than a block may hold is shared, whoever
    holds it, and no household's either (see Features.shared_by_few). A part of the store is
    told which are (`oversized`); the whole store counts."""
    for column in _BIG_MEANS_SHARED:
        if oversized is None:
            codes = features.codes[column]
            counts = np.bincount(codes[codes >= 0], minlength=len(features.vocab[column]))
            big = (codes >= 0) & (np.append(counts, 0)[codes] > max_block)
        else:
            keys = oversized.get(column)  # the one-column rule is named by its column
            if keys is None or not len(keys):
                continue
            stable, valid = stable_keys(features, BlockingRule((column,)))
            big = valid & np.isin(stable, keys)
        features.shared[column] |= big
        features.crowded[column] = big
        if column in features.shared_by_few:
            features.shared_by_few[column] &= ~big


def _part_features(
    table: RecordTable,
    settings: ResolutionSettings,
    name_counts: tuple[Mapping[str, int], int] | None,
    oversized: Oversized | None,
    kept: KeptLookup | None,
) -> Features:
    """Features of records that may be a part of the store: shared values as kept (when
    given) and as the whole store's big blocks say."""
    features = build_features(
        table.columns,
        settings.shared_threshold,
        name_counts=name_counts,
        decide_shared=kept is None,
    )
    if kept is not None:
        apply_kept(features, kept)
    shared_when_big(features, oversized, settings.max_block)
    return features


def _weigh(
    model: Model,
    comparisons: Sequence[Comparison],
    features: Features,
    left: npt.NDArray[np.int64],
    levels: npt.NDArray[np.int8],
    settings: ResolutionSettings,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Match weights of pairs, and the part of each a household's agreement gave."""
    weights, household = score(model, comparisons, features, left, levels)
    # Names and places alone count for less by a set margin (settings.name_only_threshold).
    margin = np.where(has_identity_evidence(comparisons, levels), 0.0, settings.name_only_margin)
    return weights - margin, household


def _names_only(
    comparisons: Sequence[Comparison],
    levels: npt.NDArray[np.int8],
    weights: npt.NDArray[np.float64],
    settings: ResolutionSettings,
) -> npt.NDArray[np.bool_]:
    """Pairs that agree on both names and on places only, too weak for the threshold for
    want of the margin names-and-places-only pairs need, strong enough without it (see
    _unique_name_links)."""
    margin = settings.name_only_margin
    if not np.isfinite(margin):
        return np.zeros(len(weights), bool)
    named = ~has_identity_evidence(comparisons, levels)
    for i, comparison in enumerate(comparisons):
        differ = levels[:, i] == len(comparison.levels) - 1  # "else"
        if comparison.name in ("first_name", "last_name"):  # both given and agreeing
            named &= (levels[:, i] > 0) & ~differ
            if "initial" in comparison.levels:  # "s smith" may be any Smith
                named &= levels[:, i] != comparison.levels.index("initial")
        elif comparison.name in _PLACES:  # another town, postcode or street: another person
            named &= ~differ
    threshold = settings.threshold_weight
    return named & (weights < threshold) & (weights + margin >= threshold)


_PLACES = ("address", "postcode", "city")
# Columns one person has one value of, or a few (an address is not one: people move, and
# post goes elsewhere).
_ONE_PERSON = ("date_of_birth", "email", "phone", "loyalty_id")


def _unique_name_links(
    features: Features,
    labels: npt.NDArray[np.int64],
    left: npt.NDArray[np.int64],
    right: npt.NDArray[np.int64],
    eligible: npt.NDArray[np.bool_],
) -> npt.NDArray[np.int64]:
    """Customers joined along names-and-places-only pairs (``eligible``: strong enough but
    for the margin) where the name points to one person: of the customers such pairs
    connect, at most one holds a birth date, an e-mail, a phone or a loyalty card (two
    that do were kept apart by all they hold: they are two people of one name). A till
    record that is a name and a town joins the only customer of its name; two Ricardo
    Salases with e-mails of their own leave it alone. An address does not count: a
    register's census and tax records of one resident both have one."""
    take = eligible & (labels[left] != labels[right])
    if not take.any():
        return labels
    n = len(labels)
    a, b = labels[left[take]], labels[right[take]]
    group = smallest_of_components(n, a, b)
    clusters = np.unique(np.concatenate([a, b]))
    identified = np.zeros(n, bool)  # per customer: holds something one person has
    for column in _ONE_PERSON:
        identified[labels[features.codes[column] >= 0]] = True
    mine = clusters[identified[clusters]]
    two_people = np.bincount(group[mine], minlength=n) >= 2  # per group (its smallest label)
    join = np.zeros(n, bool)
    join[clusters] = ~two_people[group[clusters]]
    return np.where(join[labels], group[labels], labels)


def direct_links(
    table: RecordTable,
    focus: npt.NDArray[np.bool_],
    model: Model,
    settings: ResolutionSettings | None = None,
    oversized: Oversized | None = None,
    kept: KeptLookup | None = None,
) -> list[tuple[RecordKey, RecordKey]]:
    """The pairs above the threshold that hold a `focus` record: what new records link to
    directly. The real-time matcher resolves again only the components these touch.
    ``kept``: as for resolve."""
    settings = settings or ResolutionSettings()
    comparisons = default_comparisons()
    features = _part_features(table, settings, model.name_counts(), oversized, kept)
    left, right, _ = candidate_pairs(
        features,
        settings.rules(),
        max_block=settings.max_block,
        oversized=oversized,
        anchors=focus,
    )
    mine = focus[left] | focus[right]
    left, right = left[mine], right[mine]
    levels = compare_all(comparisons, features, left, right)
    weights, _ = _weigh(model, comparisons, features, left, levels, settings)
    above = (weights >= settings.threshold_weight) | _names_only(
        comparisons, levels, weights, settings
    )
    return [
        (table.keys[a], table.keys[b])
        for a, b in zip(left[above].tolist(), right[above].tolist(), strict=True)
    ]


# Below this household rate (see model.household_rate) the records show no families: a
# second first name or birth date at one address is a damaged field.
_FEW_HOUSEHOLDS = 0.3


def _penalties(settings: ResolutionSettings, model: Model) -> ConflictPenalties:
    """The settings' conflict penalties, but none for birth dates and first names where
    the model found the records show no households to keep apart (Febrl's copies of one
    person, each with a field replaced), as its trained data showed."""
    penalties = settings.penalties()
    rate = model.household_rate
    if rate is not None and rate < _FEW_HOUSEHOLDS:
        return replace(penalties, date_of_birth=0.0, first_name=0.0)
    return penalties


def _refused_anyway(
    comparisons: Sequence[Comparison],
    features: Features,
    left: npt.NDArray[np.int64],
    right: npt.NDArray[np.int64],
    levels: npt.NDArray[np.int8],
    personal: npt.NDArray[np.float64],
    forgivable: npt.NDArray[np.bool_],
    penalties: ConflictPenalties,
    threshold: float,
) -> npt.NDArray[np.bool_]:
    """Pairs the clustering walk would refuse whatever it had joined before: their own two
    records hold first names that disagree (and may not be forgiven) or birth dates that
    do, and the evidence a household would not share (``personal``) falls short of that
    conflict's penalty. Such a pair changes no customer, so it is left out of the walk and
    of the components: households' pairs, above the threshold on a shared address or
    landline, would otherwise make most of what the walk takes one edge at a time."""
    out = np.zeros(len(left), bool)
    for i, comparison in enumerate(comparisons):
        if comparison.name == "first_name" and penalties.first_name:
            maybe = levels[:, i] == len(comparison.levels) - 1  # "else"
            maybe &= ~(forgivable[left] & forgivable[right])
            maybe &= personal - penalties.first_name < threshold
            # A first name of one word that disagrees at the pair's level disagrees as the
            # walk tells first names too; one of several words the walk reads by its first
            # (see first_names_compatible), so those pairs are asked as the walk asks.
            names = features.vocab["first_name"]
            codes = features.codes["first_name"]
            _, words = names.tokens
            at = np.flatnonzero(maybe)
            out[at] = True
            several = at[(words[codes[left[at]]] > 1) | (words[codes[right[at]]] > 1)]
            out[several] = [
                not first_names_compatible(names.values[codes[x]], names.values[codes[y]])
                for x, y in zip(left[several].tolist(), right[several].tolist(), strict=True)
            ]
        elif comparison.name == "date_of_birth" and penalties.date_of_birth:
            differ = [
                comparison.levels.index(level) for level in ("two_parts", "same_year", "else")
            ]
            out |= np.isin(levels[:, i], differ) & (personal - penalties.date_of_birth < threshold)
    return out


def forgivable_names(features: Features) -> npt.NDArray[np.bool_]:
    """Per record: may its first name, disagreeing with a cluster of the same birth date,
    be taken for a damaged field (Febrl replaces names outright)? Not where its address
    shows that first name with another birth date: another person of that name lives
    there, and the birth date is likelier a household member's, copied (a register's
    error), than the name a slip."""
    first, dob, home = (features.codes[c] for c in ("first_name", "date_of_birth", "address_key"))
    held = (first >= 0) & (dob >= 0) & (home >= 0)
    width = np.int64(int(first.max(initial=0)) + 1)
    person = home.astype(np.int64) * width + first
    pairs = np.unique(np.stack([person[held], dob[held].astype(np.int64)]), axis=1)
    several, counts = np.unique(pairs[0], return_counts=True)
    ambiguous = np.zeros(len(first), bool)
    ambiguous[held] = np.isin(person[held], several[counts > 1])
    return (dob >= 0) & ~ambiguous


def smallest_of_components(
    n: int, left: npt.NDArray[np.int64], right: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Per record, the smallest record index of its connected component."""
    graph = coo_matrix((np.ones(len(left), np.int8), (left, right)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    smallest = np.full(n, n, np.int64)
    np.minimum.at(smallest, component, np.arange(n))
    return np.asarray(smallest[component])


def resolve(
    table: RecordTable,
    settings: ResolutionSettings | None = None,
    *,
    model: Model | None = None,
    must_link: Sequence[tuple[RecordKey, RecordKey]] = (),
    cannot_link: Sequence[tuple[RecordKey, RecordKey]] = (),
    labelled: Sequence[tuple[RecordKey, RecordKey, bool]] = (),
    oversized: Oversized | None = None,
    kept: KeptLookup | None = None,
    review: int = 0,
    progress: Progress | None = None,
) -> Resolution:
    """Resolve every record. Training (when no model is given) learns from the records
    alone, corrected by pairs known to be one person or two: the `labelled` ones and the
    must- and cannot-links.

    The real-time matcher resolves a part of the store (whole components), passing the
    stable keys of blocks too big in the whole store, by rule, as `oversized`, and the
    decisions kept on which identifier values are shared as `kept` (see sharing.py), in
    place of deciding over all their holders.

    ``review``: how many of the pairs the model is least sure of to choose for a person
    to review (see review.py), leaving out the labelled and corrected ones."""
    settings = settings or ResolutionSettings()
    say = progress or (lambda _: None)
    comparisons: tuple[Comparison, ...] = default_comparisons()
    if model is not None:
        model.check_matches(comparisons)

    say("features")
    # A trained model's counts of first names, so a neighbourhood is judged as the store was.
    counts = None if model is None else model.name_counts()
    features = _part_features(table, settings, counts, oversized, kept)
    say("blocking")
    left, right, blocking = candidate_pairs(
        features, settings.rules(), max_block=settings.max_block, oversized=oversized
    )
    say("comparing")
    levels = compare_all(comparisons, features, left, right)
    named = [*must_link, *cannot_link, *((a, b) for a, b, _ in labelled)]
    index = table.index(key for pair in named for key in pair)
    if model is None:
        say("training")
        model = train(
            comparisons,
            features,
            levels,
            candidate_keys=left * max(len(table), 1) + right,
            labelled=_labelled_levels(
                comparisons,
                features,
                index,
                [
                    *labelled,
                    *((a, b, True) for a, b in must_link),
                    *((a, b, False) for a, b in cannot_link),
                ],
            ),
            u_pairs=settings.u_pairs,
            sample=settings.em_pairs,
            seed=settings.seed,
        )
    say("scoring")
    weights, household = _weigh(model, comparisons, features, left, levels, settings)
    say("clustering")
    links = _pairs_of(must_link, index)
    penalties = _penalties(settings, model)
    forgivable = forgivable_names(features)
    refused = _refused_anyway(
        comparisons, features, left, right, levels, weights - household, forgivable, penalties,
        settings.threshold_weight,
    )  # fmt: skip
    walked = np.where(refused, -np.inf, weights)
    result = cluster(
        len(table),
        left,
        right,
        walked,
        household=household,
        threshold=settings.threshold_weight,
        columns={
            name: (features.codes[column], features.vocab[column].values)
            for name, column in _CLUSTERED.items()
        },
        must_link=links,
        cannot_link=_pairs_of(cannot_link, index),
        penalties=penalties,
        slips=features.vocab["first_name"].rare_typo,
        forgivable=forgivable,
    )
    names_only = _names_only(comparisons, levels, weights, settings)
    labels = _unique_name_links(features, result.labels, left, right, names_only)
    # Components: what joins customers or may, so the real-time matcher, resolving one
    # component again, sees every customer a name might point to.
    above = (walked >= settings.threshold_weight) | names_only
    return Resolution(
        keys=table.keys,
        labels=labels,
        components=smallest_of_components(
            len(table),
            np.concatenate([left[above], np.array([a for a, _ in links], np.int64)]),
            np.concatenate([right[above], np.array([b for _, b in links], np.int64)]),
        ),
        features=features,
        model=model,
        blocking=blocking,
        pairs_scored=len(left),
        pairs_above_threshold=int(above.sum()),
        merges_refused=result.merges_refused,
        uncertain=_uncertain(
            review,
            table,
            model,
            comparisons,
            features,
            settings,
            index,
            named,
            (left, right, levels, weights),
        ),
    )


def _uncertain(
    count: int,
    table: RecordTable,
    model: Model,
    comparisons: Sequence[Comparison],
    features: Features,
    settings: ResolutionSettings,
    index: Mapping[RecordKey, int],
    known: Sequence[tuple[RecordKey, RecordKey]],
    scored: tuple[
        npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int8], npt.NDArray[np.float64]
    ],
) -> list[tuple[RecordKey, RecordKey, Explanation]]:
    """Up to ``count`` pairs to review, with their explanations; none already ``known``."""
    if count <= 0:
        return []
    left, right, levels, weights = scored
    n = max(len(table), 1)
    skip = np.array([min(i, j) * n + max(i, j) for i, j in _pairs_of(known, index)], np.int64)
    chosen = most_uncertain(weights, levels, left, right, settings.threshold_weight, count, skip, n)
    explanations = explain_pairs(
        model,
        comparisons,
        features,
        left[chosen],
        right[chosen],
        settings.threshold_weight,
        settings.name_only_margin,
    )
    return [
        (table.keys[a], table.keys[b], explanation)
        for a, b, explanation in zip(
            left[chosen].tolist(), right[chosen].tolist(), explanations, strict=True
        )
    ]
