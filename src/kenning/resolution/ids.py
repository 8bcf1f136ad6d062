"""Stable customer ids: a re-run keeps them, and says what merged and what split.

Each new cluster takes over the previous customer id it shares most records with (each old
id goes to one cluster at most; ties go to the smaller id). A cluster with no predecessor
gets an id derived from its smallest record key, so a fresh run on the same records gives the
same ids too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from hashlib import blake2b

RecordKey = tuple[str, str]


@dataclass(frozen=True)
class IdentityChange:
    kind: str  # "merge" or "split"
    customer_id: str  # merge: the customer that now holds the records; split: the one split
    others: tuple[str, ...]  # merge: the customers merged in; split: the customers split off
    records: tuple[RecordKey, ...] = field(default=())  # the records that moved


def new_customer_id(first_key: RecordKey, taken: set[str]) -> str:
    digest = blake2b(f"{first_key[0]}\x1f{first_key[1]}".encode(), digest_size=8).hexdigest()
    candidate, n = f"cus_{digest}", 1
    while candidate in taken:
        n += 1
        candidate = f"cus_{digest}_{n}"
    return candidate


def assign_ids(
    keys: Sequence[RecordKey],
    clusters: Mapping[int, Sequence[int]],
    previous: Mapping[RecordKey, str],
) -> tuple[dict[int, str], list[IdentityChange]]:
    """Customer id per cluster label, and the merges and splits since ``previous``.

    ``keys`` are in sorted order (as the pipeline keeps them), so a cluster's smallest
    record index is its smallest key.
    """
    first = {label: keys[min(members)] for label, members in clusters.items()}
    overlaps: list[tuple[int, str, RecordKey, int]] = []
    for label, members in clusters.items():
        counts = Counter(previous[keys[i]] for i in members if keys[i] in previous)
        overlaps += [(-count, old, first[label], label) for old, count in counts.items()]
    overlaps.sort()
    ids: dict[int, str] = {}
    taken: set[str] = set(previous.values())  # an old id is never reused for someone else
    given: set[str] = set()
    for _, old, _, label in overlaps:
        if label in ids or old in given:
            continue
        ids[label] = old
        given.add(old)
    for label in sorted(clusters, key=first.__getitem__):
        if label not in ids:
            ids[label] = new_customer_id(first[label], taken)
            taken.add(ids[label])
    return ids, _changes(keys, clusters, previous, ids)


def _changes(
    keys: Sequence[RecordKey],
    clusters: Mapping[int, Sequence[int]],
    previous: Mapping[RecordKey, str],
    ids: Mapping[int, str],
) -> list[IdentityChange]:
    changes: list[IdentityChange] = []
    now: dict[str, set[str]] = {}  # old id -> new ids its records went to
    for label, members in clusters.items():
        olds = sorted({previous[keys[i]] for i in members if keys[i] in previous})
        for old in olds:
            now.setdefault(old, set()).add(ids[label])
        merged = [old for old in olds if old != ids[label]]
        if merged and len(olds) > 1:
            moved = tuple(sorted(keys[i] for i in members if previous.get(keys[i]) in merged))
            changes.append(IdentityChange("merge", ids[label], tuple(merged), moved))
    split = {old for old, new_ids in now.items() if len(new_ids) > 1}
    held: dict[str, list[RecordKey]] = {}
    for key, old in previous.items():
        if old in split:
            held.setdefault(old, []).append(key)
    for old in sorted(split):
        others = tuple(sorted(now[old] - {old}))
        changes.append(IdentityChange("split", old, others, tuple(sorted(held[old]))))
    return changes
