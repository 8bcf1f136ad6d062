"""Stable customer ids: a re-run keeps them, and says what merged and what split.

Each new cluster takes over the previous customer id it shares most records with (each old
id goes to one cluster at most; ties go to the smaller id). A cluster with no predecessor
gets an id derived from its smallest record key, so a fresh run on the same records gives the
same ids too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from hashlib import blake2b

import numpy as np
import numpy.typing as npt

from kenning.resolution.arrays import distinct, runs

RecordKey = tuple[str, str]


@dataclass(frozen=True)
class IdentityChange:
    kind: str  # "merge" or "split"
    customer_id: str  # merge: the customer that now holds the records; split: the one split
    others: tuple[str, ...]  # merge: the customers merged in; split: the customers split off
    records: tuple[RecordKey, ...] = field(default=())  # the records that moved


def new_customer_id(
    first_key: RecordKey, taken: set[str], in_use: Callable[[str], bool] | None = None
) -> str:
    digest = blake2b(f"{first_key[0]}\x1f{first_key[1]}".encode(), digest_size=8).hexdigest()
    candidate, n = f"cus_{digest}", 1
    while candidate in taken or (in_use is not None and in_use(candidate)):
        n += 1
        candidate = f"cus_{digest}_{n}"
    return candidate


def assign_ids(
    keys: Sequence[RecordKey],
    labels: Sequence[int] | npt.NDArray[np.int64],
    previous: Mapping[RecordKey, str],
    in_use: Callable[[str], bool] | None = None,
) -> tuple[dict[int, str], list[IdentityChange]]:
    """Customer id per cluster label, and the merges and splits since ``previous``.

    ``keys`` are in sorted order (as the pipeline keeps them) and a record's label is the
    smallest record index in its cluster, so label order is the order of clusters' first
    keys. Counting is done on arrays: a million records in a second or two.

    ``in_use`` says whether an id is taken by records beyond ``keys`` (resolving part of the
    store): a new id is never one of them.
    """
    labels = np.asarray(labels, np.int64)
    old_codes, old_ids = _code_sorted([previous.get(key) for key in keys])
    held = old_codes >= 0
    width = max(len(old_ids), 1)
    # One cell per (cluster, old id) holding records of both, with how many.
    cells, counts = np.unique(labels[held] * width + old_codes[held], return_counts=True)
    cell_labels, cell_olds = cells // width, cells % width
    ids: dict[int, str] = {}
    given = np.zeros(len(old_ids), bool)
    # Largest overlap first; ties to the smaller old id, then to the earlier cluster.
    for at in np.lexsort((cell_labels, cell_olds, -counts)).tolist():
        label, old = int(cell_labels[at]), int(cell_olds[at])
        if label not in ids and not given[old]:
            ids[label] = old_ids[old]
            given[old] = True
    taken: set[str] = set(previous.values())  # an old id is never reused for someone else
    for label in distinct(labels).tolist():
        if label not in ids:
            ids[label] = new_customer_id(keys[label], taken, in_use)
            taken.add(ids[label])
    return ids, _changes(keys, labels, old_codes, old_ids, (cell_labels, cell_olds), ids, previous)


def _code_sorted(values: Sequence[str | None]) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Codes (-1 for None) over the sorted distinct values: code order is string order."""
    names = sorted({v for v in values if v is not None})
    index = {name: code for code, name in enumerate(names)}
    codes = np.fromiter(
        (-1 if v is None else index[v] for v in values), np.int64, count=len(values)
    )
    return codes, names


def _changes(
    keys: Sequence[RecordKey],
    labels: npt.NDArray[np.int64],
    old_codes: npt.NDArray[np.int64],
    old_ids: Sequence[str],
    cells: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
    ids: Mapping[int, str],
    previous: Mapping[RecordKey, str],
) -> list[IdentityChange]:
    cell_labels, cell_olds = cells  # sorted by label, then by old id
    changes: list[IdentityChange] = []
    by_label = np.argsort(labels, kind="stable")  # records grouped by cluster, in key order
    sorted_labels = labels[by_label]
    starts, lengths = runs(cell_labels)
    for lo, length in zip(starts.tolist(), lengths.tolist(), strict=True):
        hi = lo + length
        if length < 2:
            continue  # a cluster holding records of one old customer at most: no merge
        label = int(cell_labels[lo])
        merged = [old for old in cell_olds[lo:hi].tolist() if old_ids[old] != ids[label]]
        first, last = np.searchsorted(sorted_labels, [label, label + 1])
        members = by_label[first:last]
        moved = members[np.isin(old_codes[members], merged)]
        changes.append(
            IdentityChange(
                "merge",
                ids[label],
                tuple(old_ids[old] for old in merged),
                tuple(keys[i] for i in moved.tolist()),
            )
        )
    by_old = np.argsort(cell_olds, kind="stable")
    olds_sorted = cell_olds[by_old]
    starts, lengths = runs(olds_sorted)
    split = {
        old_ids[int(olds_sorted[lo])]: cell_labels[by_old[lo : lo + length]]
        for lo, length in zip(starts.tolist(), lengths.tolist(), strict=True)
        if length > 1  # one old customer's records now in several clusters
    }
    if split:
        held: dict[str, list[RecordKey]] = {}
        for key, old_id in previous.items():
            if old_id in split:
                held.setdefault(old_id, []).append(key)
        for old_id in sorted(split):
            others = tuple(sorted({ids[label] for label in split[old_id].tolist()} - {old_id}))
            changes.append(IdentityChange("split", old_id, others, tuple(sorted(held[old_id]))))
    return changes
