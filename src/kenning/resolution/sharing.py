"""Which identifier values several people share, kept between runs.

Whether an e-mail, phone, loyalty id or address is shared is decided over all its holders
(Features.shared). Batch resolution sees every holder; the real-time matcher resolves a
few records' neighbourhood, and loading every holder of every value its candidates hold
would cost most of its time. So the decision is kept per value, by a stable key: the
matcher decides afresh only the values whose holders changed, over all their holders, and
takes every other value's decision as kept.

Kept: the values that are shared, each with whether a household's (held under a handful
of first names). A value not kept is not shared.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

import numpy as np
import numpy.typing as npt

from kenning.resolution.blocking import BlockingRule, stable_keys
from kenning.resolution.features import IDENTIFIERS, Features

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
# Decision key -> a household's, of the values kept as shared.
Kept = Mapping[int, bool]
# Looks up the kept decisions of these decision keys.
KeptLookup = Callable[[Collection[int]], Kept]
# An address is one dwelling within its postcode, else its town (see features'
# _address_scope): its decision is kept under the key of the first of these it has.
_ADDRESS_SCOPES = (
    BlockingRule(("address_key", "postcode")),
    BlockingRule(("address_key", "city")),
    BlockingRule(("address_key",)),
)


def lookup_keys(
    features: Features, column: str, among: BoolArray | None = None
) -> tuple[IntArray, BoolArray]:
    """Per record (of those ``among`` names), the key the store finds the holders of its
    value by (the one-column rule's; an address's regardless of postcode), and whether it
    has one."""
    return stable_keys(features, BlockingRule((column,)), among)


def decision_keys(
    features: Features, column: str, among: BoolArray | None = None
) -> tuple[IntArray, BoolArray]:
    """Per record (of those ``among`` names), the key its value's decision is kept under,
    and whether it has one: the lookup key, except that an address is qualified by its
    postcode, else its town ("12 high st" in two towns is two dwellings, as
    Features.shared decides)."""
    if column != "address_key":
        return lookup_keys(features, column, among)
    keys = np.zeros(features.n, np.int64)
    held = np.zeros(features.n, bool)
    wanted = np.ones(features.n, bool) if among is None else among
    for rule in _ADDRESS_SCOPES:  # the first scope a record has
        scoped, valid = stable_keys(features, rule, wanted & ~held)
        keys[valid] = scoped[valid]
        held |= valid
    return keys, held


def holding(features: Features, lookup: Collection[int]) -> dict[str, BoolArray]:
    """Per identifier column, the records whose value has one of these lookup keys."""
    wanted = np.fromiter(lookup, np.int64, len(lookup))
    out = {}
    for column in IDENTIFIERS:
        keys, valid = lookup_keys(features, column)
        out[column] = valid & np.isin(keys, wanted)
    return out


def decisions(
    features: Features, records: Mapping[str, BoolArray]
) -> tuple[set[int], dict[int, bool]]:
    """The decisions these features make on the values ``records`` (per column) hold: the
    decision keys of those values, and those of them shared, with whether a household's."""
    decided: set[int] = set()
    shared: dict[int, bool] = {}
    for column in IDENTIFIERS:
        keys, mine = decision_keys(features, column, records[column])
        decided.update(keys[mine].tolist())
        take = mine & features.shared[column]
        few = features.shared_by_few.get(column)
        households = few[take] if few is not None else np.zeros(int(take.sum()), bool)
        shared.update(zip(keys[take].tolist(), households.tolist(), strict=True))
    return decided, shared


def every_decision(features: Features) -> dict[int, bool]:
    """The shared values of all these records: a batch run's, over the whole store."""
    return decisions(features, features.shared)[1]


def apply_kept(features: Features, kept: KeptLookup) -> None:
    """Every record's flags as kept, in place of those computed over these records (which
    are not all the holders of their values)."""
    per_column = {column: decision_keys(features, column) for column in IDENTIFIERS}
    every = set()
    for keys, valid in per_column.values():
        every.update(keys[valid].tolist())
    found = kept(every)
    shared_keys = np.fromiter(found, np.int64, len(found))
    households = np.array([key for key, household in found.items() if household], np.int64)
    for column, (keys, valid) in per_column.items():
        shared = valid & np.isin(keys, shared_keys)
        features.shared[column] = shared
        if column in features.shared_by_few:
            features.shared_by_few[column] = shared & np.isin(keys, households)
