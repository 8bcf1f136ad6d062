"""Clustering that keeps precision: strongest evidence first, and no merge that would put two
identities into one customer.

Plain connected components chain a household together: Ann–(shared landline)–Bob–(same
address)–Bob Jr. Here pairs are taken in order of match weight, strongest first, and two
clusters join only if the joined customer would still describe one person: at most one date
of birth (up to a typo), first names that agree (up to nicknames, initials and typos), at
most one loyalty card — or if the evidence for the merge exceeds the threshold by a large,
set margin per disagreement (see ConflictPenalties) — and never across a cannot-link.
Must-links join first and always. Ties are broken by the records' keys, so the result never
depends on input order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from kenning.domain.normalise import canonical_first_names, is_initial
from kenning.resolution.arrays import distinct, runs
from kenning.resolution.features import one_slip
from kenning.resolution.parallel import beside

IntArray = npt.NDArray[np.int64]
# A column as int codes (-1: no value) and the value of each code.
Coded = tuple[npt.NDArray[np.integer], Sequence[str] | npt.NDArray[np.object_]]


Values = tuple[str, ...]
_NO_RECORDS: frozenset[int] = frozenset()


class _Identity:
    """What a cluster claims about its person: each fact's distinct values, a handful at
    most, as tuples (far cheaper to make than sets), merged on union. A plain class: one is
    made for each record an edge reaches, hundreds of thousands per run."""

    __slots__ = (
        "cannot",
        "dobs",
        "emails",
        "first_names",
        "forgivable",
        "last_names",
        "loyalty_ids",
        "members",
        "phones",
    )

    def __init__(self, record: int, values: Sequence[str | None], forgivable: bool) -> None:
        dob, first, last, loyalty, email, phone = values
        # May a first name that disagrees be forgiven, given one birth date (see penalty)?
        self.forgivable = forgivable
        self.dobs: Values = (dob,) if dob else ()
        self.first_names: Values = (first,) if first else ()
        # A first name elsewhere may be this record's surname, typed into the wrong box.
        self.last_names: Values = (last,) if last else ()
        self.loyalty_ids: Values = (loyalty,) if loyalty else ()
        self.emails: Values = (email,) if email else ()
        self.phones: Values = (phone,) if phone else ()
        self.cannot = _NO_RECORDS  # records this cluster must never hold
        self.members = [record]


def _joined(x: Values, y: Values) -> Values:
    """The values of both, each once."""
    if not y or x == y:
        return x
    if not x:
        return y
    return x + tuple(v for v in y if v not in x)


# These three are asked about the same few values again and again over millions of edges.
@lru_cache(maxsize=65_536)
def dates_compatible(a: str, b: str) -> bool:
    """The same birth date up to a typo: equal, day and month swapped, or one digit off."""
    if a == b:
        return True
    da, db = a.replace("-", ""), b.replace("-", "")
    if da[:4] == db[:4] and da[4:6] == db[6:8] and da[6:8] == db[4:6]:
        return True
    return DamerauLevenshtein.distance(da, db) <= 1


@lru_cache(maxsize=65_536)
def first_names_compatible(a: str, b: str) -> bool:
    """One person's first names: equal, nickname and name, initial and name, or a typo."""
    if a == b:
        return True
    ta, tb = a.split()[0], b.split()[0]
    if is_initial(ta) or is_initial(tb):
        return ta[0] == tb[0]
    if canonical_first_names(ta) & canonical_first_names(tb):
        return True
    return bool(JaroWinkler.similarity(ta, tb) >= 0.92) or one_slip(ta, tb)


# A test of two first names: one person's? (Or, given to `cluster` as its ``slips``, is one
# a rare slip of the other: features.Vocabulary.rare_typo.)
NameTest = Callable[[str, str], bool]


def first_names_test(slips: NameTest | None) -> NameTest:
    """`first_names_compatible`, or else one name a rare slip of the other, cached for
    one run (how rare a spelling is depends on the records)."""
    if slips is None:
        return first_names_compatible

    @lru_cache(maxsize=65_536)
    def compatible(a: str, b: str) -> bool:
        return first_names_compatible(a, b) or slips(a.split()[0], b.split()[0])

    return compatible


@lru_cache(maxsize=65_536)
def identifiers_compatible(a: str, b: str) -> bool:
    return a == b or DamerauLevenshtein.distance(a, b) <= 1


def _all_compatible(left: Values, right: Values, same: Callable[[str, str], bool]) -> bool:
    # Most merges are between clusters that say nothing or the same thing: answer those
    # without looping (this runs once per edge, millions of times).
    if not left or not right or left == right:
        return True
    return all(x == y or same(x, y) for x in left for y in right)


def _disjoint(left: Values, right: Values) -> bool:
    return bool(left) and bool(right) and not any(v in right for v in left)


def _first_names_agree(x: _Identity, y: _Identity, compatible: NameTest) -> bool:
    """Every pair of first names is one person's, or one of them is the other's surname
    (first and last name typed into each other's boxes)."""
    if not x.first_names or not y.first_names or x.first_names == y.first_names:
        return True
    return all(
        a == b or compatible(a, b) or a in y.last_names or b in x.last_names
        for a in x.first_names
        for b in y.first_names
    )


@dataclass(frozen=True)
class ConflictPenalties:
    """Bits of evidence a merge must have beyond the threshold to join two clusters that
    disagree on a one-per-person fact. Large by default: a household, twins, father and son
    never carry that much; a typing error beyond the comparisons' reach sometimes does
    (every other field agreeing), and is then forgiven."""

    date_of_birth: float = 25.0
    first_name: float = 20.0
    loyalty_id: float = 25.0
    # Both e-mails and phones, known on each side, all different: a father and son of one
    # name at one address, far more often than one shopper who changed both.
    contacts: float = 20.0


@dataclass
class ClusterResult:
    labels: IntArray  # cluster label per record: the smallest record index in its cluster
    merges_refused: int
    edges_used: int


_NONE = np.array([None], dtype=object)  # the value of code -1, appended to a vocabulary


class _Clusters:
    def __init__(
        self,
        n: int,
        columns: Sequence[Coded],
        first_names: NameTest,
        forgivable: npt.NDArray[np.bool_] | None = None,
    ) -> None:
        """``columns``: dobs, first names, last names, loyalty ids, e-mails, phones;
        ``forgivable``: per record, see `cluster`."""
        self.forgivable = np.zeros(n, bool) if forgivable is None else forgivable
        self.parent = list(range(n))
        self.first_names = first_names
        self._columns = columns
        # Built on first use (or by prepare): most records of a million never meet an edge.
        self._identity: dict[int, _Identity] = {}

    def identity(self, root: int) -> _Identity:
        found = self._identity.get(root)
        if found is None:  # a record a correction names, before any edge reached it
            self.prepare(np.array([root], np.int64))
            found = self._identity[root]
        return found

    def prepare(self, records: IntArray) -> None:
        """Build the identities of the clusters of one record each among ``records`` at
        once: a gather per column costs far less than a look-up per record and column."""
        fresh = [r for r in records.tolist() if self.parent[r] == r and r not in self._identity]
        chosen = np.array(fresh, np.int64)
        columns = [
            np.append(np.asarray(names, dtype=object), _NONE)[codes[chosen]].tolist()
            for codes, names in self._columns
        ]
        forgivable = self.forgivable[chosen].tolist()
        for record, forgive, *values in zip(fresh, forgivable, *columns, strict=True):
            self._identity[record] = _Identity(record, values, forgive)

    def find(self, i: int) -> int:
        parent = self.parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    def penalty(self, a: int, b: int, penalties: ConflictPenalties) -> float:
        """Bits of evidence a merge of clusters a and b must overcome (inf: never)."""
        x, y = self.identity(a), self.identity(b)
        if (x.cannot or y.cannot) and (
            x.cannot.intersection(y.members) or y.cannot.intersection(x.members)
        ):
            return math.inf
        total = 0.0
        if not _all_compatible(x.dobs, y.dobs, dates_compatible):
            total += penalties.date_of_birth
        if not _first_names_agree(x, y, self.first_names) and not (
            x.forgivable and y.forgivable and len(x.dobs) == 1 and x.dobs == y.dobs
        ):
            total += penalties.first_name
        if not _all_compatible(x.loyalty_ids, y.loyalty_ids, identifiers_compatible):
            total += penalties.loyalty_id
        if _disjoint(x.emails, y.emails) and _disjoint(x.phones, y.phones):
            total += penalties.contacts
        return total

    def union(self, a: int, b: int) -> None:
        # The smaller index becomes the root, so labels are the same whatever the join order.
        root, child = (a, b) if a < b else (b, a)
        x, y = self.identity(root), self.identity(child)
        self.parent[child] = root
        del self._identity[child]
        x.dobs = _joined(x.dobs, y.dobs)
        x.forgivable = x.forgivable and y.forgivable
        x.first_names = _joined(x.first_names, y.first_names)
        x.last_names = _joined(x.last_names, y.last_names)
        x.loyalty_ids = _joined(x.loyalty_ids, y.loyalty_ids)
        x.emails = _joined(x.emails, y.emails)
        x.phones = _joined(x.phones, y.phones)
        if y.cannot:
            x.cannot = x.cannot | y.cannot
        x.members += y.members


# The columns clustering reads, by the names `cluster` takes them under.
COLUMNS = ("dobs", "first_names", "last_names", "loyalty_ids", "emails", "phones")


def cluster(
    n: int,
    left: IntArray,
    right: IntArray,
    weights: npt.NDArray[np.float64],
    *,
    household: npt.NDArray[np.float64] | None = None,
    threshold: float,
    columns: Mapping[str, Coded | Sequence[str | None] | None],
    must_link: Sequence[tuple[int, int]] = (),
    cannot_link: Sequence[tuple[int, int]] = (),
    penalties: ConflictPenalties | None = None,
    slips: NameTest | None = None,
    forgivable: npt.NDArray[np.bool_] | None = None,
) -> ClusterResult:
    """Customers from scored pairs. Records are expected in key order (see the pipeline), so
    that index order is key order and ties break the same way on every run. ``columns``
    holds the record values clustering reads (see COLUMNS; one absent has no values), each
    as values or already coded (codes and the value of each code); ``slips`` tells a rare
    misspelling of a first name from another name. A first name that disagrees between
    two clusters of one and the same birth date is forgiven where every record of both is
    ``forgivable``: one person's name damaged, not twins (see pipeline.forgivable_names)."""
    penalties = penalties or ConflictPenalties()
    coded = {name: _coded(columns.get(name), n) for name in COLUMNS}
    first_names = first_names_test(slips)
    clusters = _Clusters(n, [coded[name] for name in COLUMNS], first_names, forgivable)
    for a, b in cannot_link:
        clusters.identity(a).cannot |= {b}
        clusters.identity(b).cannot |= {a}
    for a, b in must_link:
        ra, rb = clusters.find(a), clusters.find(b)
        if ra != rb:
            clusters.union(ra, rb)
    keep = weights >= threshold
    touched = [i for pair in (*must_link, *cannot_link) for i in pair]
    one_per_person: list[tuple[Coded, NameTest]] = [
        (coded["dobs"], dates_compatible),
        (coded["first_names"], first_names),
        (coded["loyalty_ids"], identifiers_compatible),
    ]
    contacts = (coded["emails"], coded["phones"])
    component, clean = _clean_components(
        n, left[keep], right[keep], one_per_person, contacts, touched
    )
    # Clean components join whole, as the loop below would; it only walks the others.
    keep &= ~clean[component[left]]
    # What may overcome a conflict: only evidence a household member would not also have.
    personal = weights if household is None else weights - household
    order = np.lexsort((right[keep], left[keep], -weights[keep]))
    edges = _Edges(left[keep][order], right[keep][order], personal[keep][order])
    if len(edges.left) >= FORK_FROM:
        refused, used = _walk_in_two(
            clusters, edges, _mine(component, edges.left, touched), threshold, penalties
        )
    else:
        refused, used = _walk(clusters, edges, threshold, penalties)
    reached = np.zeros(n, bool)
    reached[edges.left] = reached[edges.right] = True
    # Only records an edge or a must-link reached can have a root other than themselves.
    reached[np.asarray(touched, np.int64)] = True
    labels = np.arange(n, dtype=np.int64)
    moved = np.flatnonzero(reached)
    labels[moved] = [clusters.find(i) for i in moved.tolist()]
    smallest = np.full(len(clean), n, np.int64)
    np.minimum.at(smallest, component, np.arange(n))
    joined = clean[component]
    labels[joined] = smallest[component[joined]]
    used += int(joined.sum()) - int(clean.sum())  # a component of k records takes k - 1 edges
    return ClusterResult(labels, refused, used)


# Edges walked one by one from which the walk is split in two, half of it in a forked copy
# of the process (see parallel.beside): a million records' runs walk about a million.
FORK_FROM = 200_000


@dataclass(frozen=True)
class _Edges:
    """Pairs to walk, strongest first, with the evidence a household would not share."""

    left: IntArray
    right: IntArray
    own: npt.NDArray[np.float64]

    def part(self, chosen: npt.NDArray[np.bool_]) -> _Edges:
        return _Edges(self.left[chosen], self.right[chosen], self.own[chosen])


def _walk(
    clusters: _Clusters, edges: _Edges, threshold: float, penalties: ConflictPenalties
) -> tuple[int, int]:
    """Join clusters along the edges, in their order, unless a conflict forbids it;
    returns (merges refused, edges used)."""
    clusters.prepare(np.unique(np.concatenate([edges.left, edges.right])))
    refused = used = 0
    # The hot loop, once per edge: methods and the parent list bound to locals, and a
    # record that is its own root (most are) answered without a call.
    parent, find, union, penalty_of = (
        clusters.parent,
        clusters.find,
        clusters.union,
        clusters.penalty,
    )
    lefts, rights, own = edges.left.tolist(), edges.right.tolist(), edges.own.tolist()
    for a, b, mine in zip(lefts, rights, own, strict=True):
        ra = a if parent[a] == a else find(a)
        rb = b if parent[b] == b else find(b)
        if ra == rb:
            continue
        penalty = penalty_of(ra, rb, penalties)
        if penalty and mine - penalty < threshold:
            refused += 1
            continue
        union(ra, rb)
        used += 1
    return refused, used


def _mine(component: IntArray, left: IntArray, touched: Sequence[int]) -> npt.NDArray[np.bool_]:
    """Which edges this process walks when the walk is split: whole components (merges
    in one never touch another), about half the edges; those a correction names, whose
    must-links may join two components, all here."""
    of = component[left]
    cumulative = np.cumsum(np.bincount(of, minlength=int(component.max(initial=0)) + 1))
    here: npt.NDArray[np.bool_] = cumulative <= cumulative[-1] // 2
    here[component[np.asarray(touched, np.int64)]] = True
    return here[of]


def _walk_in_two(
    clusters: _Clusters,
    edges: _Edges,
    mine: npt.NDArray[np.bool_],
    threshold: float,
    penalties: ConflictPenalties,
) -> tuple[int, int]:
    """The walk, the edges not ``mine`` in a forked copy meanwhile: the same joins as one
    walk, since the halves share no component. The copy answers with its counts and the
    root of each record its edges reach."""
    theirs = edges.part(~mine)
    records = np.unique(np.concatenate([theirs.left, theirs.right]))

    def other() -> bytes:
        refused, used = _walk(clusters, theirs, threshold, penalties)
        roots = [clusters.find(record) for record in records.tolist()]
        return np.array([refused, used, *roots], np.int64).tobytes()

    answer, (refused, used) = beside(
        other, lambda: _walk(clusters, edges.part(mine), threshold, penalties)
    )
    if answer is None:  # the copy could not walk its half: walked here
        more = _walk(clusters, theirs, threshold, penalties)
        return refused + more[0], used + more[1]
    counts = np.frombuffer(answer, np.int64)
    parent = clusters.parent
    for record, root in zip(records.tolist(), counts[2:].tolist(), strict=True):
        parent[record] = root
    return refused + int(counts[0]), used + int(counts[1])


def _coded(column: Coded | Sequence[str | None] | None, n: int) -> Coded:
    if isinstance(column, tuple) and len(column) == 2 and isinstance(column[0], np.ndarray):
        return column  # already coded
    values: Sequence[str | None] = column or [None] * n
    index: dict[str, int] = {}
    codes = np.fromiter(
        (-1 if v is None else index.setdefault(v, len(index)) for v in values),
        np.int64,
        count=len(values),
    )
    return codes, list(index)


def _clean_components(
    n: int,
    left: IntArray,
    right: IntArray,
    one_per_person: Sequence[tuple[Coded, Callable[[str, str], bool]]],
    contacts: Sequence[Coded],
    touched: Sequence[int],
) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """The connected components of the edges, and which can hold no conflict whatever the
    merge order: the values of each one-per-person column in it are pairwise compatible,
    e-mails or phones have at most one value, and no correction names its records. Most
    customers are such."""
    graph = coo_matrix((np.ones(len(left), np.int8), (left, right)), shape=(n, n))
    count, component = connected_components(graph, directed=False)
    component = component.astype(np.int64)
    sizes = np.bincount(component, minlength=count)
    members = np.flatnonzero(sizes[component] > 1)
    dirty = np.zeros(count, bool)
    dirty[component[np.asarray(touched, np.int64)]] = True
    for (codes, values), compatible in one_per_person:
        for group, found in _values_per_component(component, members, codes).items():
            names = [values[c] for c in found]
            if not all(compatible(a, b) for i, a in enumerate(names) for b in names[i + 1 :]):
                dirty[group] = True
    several = [np.zeros(count, bool), np.zeros(count, bool)]
    for i, column in enumerate(contacts):
        several[i][list(_values_per_component(component, members, column[0]))] = True
    dirty |= several[0] & several[1]
    return component, (sizes > 1) & ~dirty


def _values_per_component(
    component: IntArray, members: IntArray, codes: npt.NDArray[np.integer]
) -> dict[int, list[int]]:
    """The components holding more than one distinct value, each with its value codes
    (code -1, no value, not counted)."""
    held = codes[members].astype(np.int64)
    present = held >= 0
    width = int(held.max(initial=0)) + 1
    keys = distinct(component[members[present]] * width + held[present])
    groups, found = keys // width, keys % width
    starts, lengths = runs(groups)
    many = lengths > 1
    return {
        int(groups[start]): found[start : start + length].tolist()
        for start, length in zip(starts[many].tolist(), lengths[many].tolist(), strict=True)
    }
