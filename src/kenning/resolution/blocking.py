"""Blocking: which pairs of records are worth comparing at all.

Each rule names feature columns that must be equal (and present) on both records; the pairs
of all rules are unioned without duplicates. A block of records sharing one value is capped:
a value that thousands of records share (a shop's default e-mail, a common name in a big
city) is no evidence of identity, and comparing all its pairs would cost more than the rest
of the run. Capped blocks are reported, never silently dropped.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from hashlib import blake2b
from weakref import WeakKeyDictionary

import numpy as np
import numpy.typing as npt

from kenning.resolution.arrays import distinct, pair_indices
from kenning.resolution.features import Features, Vocabulary
from kenning.resolution.parallel import in_threads

IntArray = npt.NDArray[np.int64]
# Rule name -> stable keys of its blocks too big to compare (see candidate_pairs).
Oversized = Mapping[str, IntArray]

# Identifier columns whose shared values (see Features.shared) must not form blocks.
_SHARED_AWARE = ("email", "phone", "loyalty_id", "address_key")


@dataclass(frozen=True)
class BlockingRule:
    columns: tuple[str, ...]

    @property
    def name(self) -> str:
        return "+".join(self.columns)


DEFAULT_RULES: tuple[BlockingRule, ...] = (
    BlockingRule(("email",)),
    BlockingRule(("phone",)),
    BlockingRule(("loyalty_id",)),
    BlockingRule(("serial_number",)),
    BlockingRule(("last_key", "date_of_birth")),
    BlockingRule(("first_canon", "last_key", "postcode_district")),
    BlockingRule(("first_canon", "last_key", "city")),
    BlockingRule(("first_initial", "address_key")),
    BlockingRule(("date_of_birth", "postcode")),
    BlockingRule(("email_local", "last_key")),
    BlockingRule(("first_canon", "last_key")),
    BlockingRule(("last_key", "postcode")),
    BlockingRule(("first_canon", "date_of_birth")),
    BlockingRule(("house_street", "postcode")),
    # A name typed beyond recognition: the birth date with where the person lives.
    BlockingRule(("date_of_birth", "city")),
    BlockingRule(("date_of_birth", "house_number")),
    BlockingRule(("first_canon", "postcode")),
    # A street name typed beyond recognition: the house number with the postcode or surname.
    BlockingRule(("house_number", "postcode")),
    BlockingRule(("last_key", "house_number")),
)


@dataclass
class BlockingReport:
    pairs_by_rule: dict[str, int] = field(default_factory=dict)
    capped_blocks: dict[str, int] = field(default_factory=dict)  # rule -> blocks skipped
    capped_pairs: dict[str, int] = field(default_factory=dict)  # rule -> pairs not made
    warnings: list[str] = field(default_factory=list)
    pairs: int = 0


def _rule_keys(features: Features, rule: BlockingRule) -> IntArray:
    """One int64 key per record (equal keys ⇔ equal values on every column), -1 = no key."""
    key = _raw_rule_keys(features, rule)
    # Re-code so keys stay small whatever the number of columns.
    out = np.full(features.n, -1, dtype=np.int64)
    valid = key >= 0
    if valid.any():
        _, dense = np.unique(key[valid], return_inverse=True)
        out[valid] = dense
    return out


def _raw_rule_keys(features: Features, rule: BlockingRule) -> IntArray:
    """_rule_keys before they are made small: a record's codes combined, -1 = no key."""
    features.ensure(rule.columns)
    key = np.zeros(features.n, dtype=np.int64)
    valid = np.ones(features.n, dtype=bool)
    for column in rule.columns:
        codes = features.codes[column].astype(np.int64)
        valid &= codes >= 0
        if column in _SHARED_AWARE and column in features.shared:
            valid &= ~features.shared[column]
        key = key * (int(codes.max(initial=0)) + 2) + codes + 1
    return np.where(valid, key, -1)


# Columns the real-time matcher looks records up by besides the rules': every holder of an
# address, for the same reason as for an e-mail (see Features.shared).
LOOKUP_ONLY: tuple[BlockingRule, ...] = (BlockingRule(("address_key",)),)
_MIX_INT = 0x9E3779B97F4A7C15  # an odd constant: multiplying by it mixes the bits
_MIX = np.uint64(_MIX_INT)
_U64 = (1 << 64) - 1


# Each vocabulary's value hashes, kept while it lives: a column is in several rules, and
# its hashes are asked for rule after rule.
_HASHES: WeakKeyDictionary[Vocabulary, npt.NDArray[np.uint64]] = WeakKeyDictionary()


def _hash_values(values: list[str]) -> npt.NDArray[np.uint64]:
    digests = b"".join(blake2b(v.encode(), digest_size=8).digest() for v in values)
    return np.frombuffer(digests, np.uint64) if values else np.zeros(0, np.uint64)


def _value_hashes(
    features: Features, column: str, used: npt.NDArray[np.bool_] | None = None
) -> npt.NDArray[np.uint64]:
    """A 64-bit hash of each value of the column's vocabulary, whatever else is in it, and
    0 after the last (for code -1). With ``used`` (records), only their values are hashed
    (unless the whole vocabulary's are known): the others are 0."""
    vocab = features.vocab[column]
    found = _HASHES.get(vocab)
    if found is None and used is not None:
        codes = distinct(features.codes[column][used & (features.codes[column] >= 0)])
        some = np.zeros(len(vocab) + 1, np.uint64)
        some[codes] = _hash_values(vocab.values[codes].tolist())
        return some
    if found is None:
        found = np.append(_hash_values(vocab.values.tolist()), np.uint64(0))
        _HASHES[vocab] = found
    return found


@cache
def _seed(rule: str) -> int:
    """A rule's hash: where its keys start (native byte order, as the values' hashes)."""
    return int.from_bytes(blake2b(rule.encode(), digest_size=8).digest(), sys.byteorder)


def stable_keys(
    features: Features, rule: BlockingRule, among: npt.NDArray[np.bool_] | None = None
) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """A rule's key per record as a hash of the rule and its values (not of codes), so the
    same record has the same key in any Features: what the store indexes for the real-time
    matcher to find a record's candidates. Returns (keys, has a key); shared values count.
    With ``among``, only those records' keys are computed: the others have none. Keep the
    answer's arrays as they are: they are kept for the next asking."""
    known = features.stable.get(rule.name) if among is None else None
    if known is not None:
        return known
    features.ensure(rule.columns)
    key = np.full(features.n, _seed(rule.name), np.uint64)
    valid = np.ones(features.n, dtype=bool) if among is None else among.copy()
    for column in rule.columns:
        valid &= features.codes[column] >= 0
    with np.errstate(over="ignore"):
        for column in rule.columns:
            hashes = _value_hashes(features, column, None if among is None else valid)
            key = key * _MIX + hashes[features.codes[column]]  # code -1: the 0 at the end
    if among is None:
        features.stable[rule.name] = (key.view(np.int64), valid)
    return key.view(np.int64), valid


def lookup_key(column: str, value: str) -> int:
    """The stable key of the one-column rule on ``column`` for a normalised value: how a
    record is found by its e-mail, phone, loyalty id or serial number. The arithmetic of
    stable_keys in plain integers (numpy's scalar set-up costs more than the sum, and this
    runs on every lookup): 64-bit wrap-around, native byte order, read as signed."""
    value_hash = int.from_bytes(blake2b(value.encode(), digest_size=8).digest(), sys.byteorder)
    key = (_seed(column) * _MIX_INT + value_hash) & _U64
    return key - (1 << 64) if key >> 63 else key


def record_keys(
    features: Features, rules: Sequence[BlockingRule]
) -> tuple[IntArray, IntArray, list[str]]:
    """(record index, stable key) of every rule's key of every record, and of LOOKUP_ONLY,
    with the name of the rule each key is of."""
    records: list[IntArray] = []
    keys: list[IntArray] = []
    names: list[str] = []
    for rule in (*rules, *LOOKUP_ONLY):
        key, valid = stable_keys(features, rule)
        records.append(np.flatnonzero(valid))
        keys.append(key[valid])
        names += [rule.name] * int(valid.sum())
    return np.concatenate(records), np.concatenate(keys), names


def pairs_within_blocks(keys: IntArray, max_block: int) -> tuple[IntArray, IntArray, int, int]:
    """All pairs (left < right) of records with equal non-negative keys.

    Blocks larger than ``max_block`` are skipped; returns (left, right, blocks skipped,
    pairs skipped).
    """
    members = np.flatnonzero(keys >= 0)
    order = members[np.argsort(keys[members], kind="stable")]
    sorted_keys = keys[order]
    if len(order) < 2:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, 0, 0
    cuts = np.flatnonzero(np.diff(sorted_keys)) + 1
    starts = np.concatenate(([0], cuts))
    sizes = np.diff(np.concatenate((starts, [len(order)])))
    too_big = sizes > max_block
    skipped_pairs = int((sizes[too_big] * (sizes[too_big] - 1) // 2).sum())
    lefts: list[IntArray] = []
    rights: list[IntArray] = []
    for size in distinct(sizes[(sizes >= 2) & ~too_big]):
        group_starts = starts[sizes == size]
        a, b = pair_indices(int(size))
        left = order[group_starts[:, None] + a[None, :]].ravel()
        right = order[group_starts[:, None] + b[None, :]].ravel()
        lefts.append(np.minimum(left, right))
        rights.append(np.maximum(left, right))
    if not lefts:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, int(too_big.sum()), skipped_pairs
    return np.concatenate(lefts), np.concatenate(rights), int(too_big.sum()), skipped_pairs


# Up to this many records, every pair is tested rule by rule at once: cheaper than sorting
# each rule's blocks (the real-time matcher's runs of a few records), and no block can be
# too big.
_ALL_PAIRS_UP_TO = 128


def _blocks(
    features: Features,
    rule: BlockingRule,
    keys: IntArray,
    oversized: Oversized | None,
    anchors: npt.NDArray[np.bool_] | None,
) -> IntArray:
    """A rule's keys (changed in place) with the blocks too big in the whole store, and
    those that hold no anchor, left out (-1)."""
    big = (oversized or {}).get(rule.name)
    if big is not None and len(big):
        stable, _ = stable_keys(features, rule)
        keys[np.isin(stable, big)] = -1
    if anchors is not None:
        keys[(keys >= 0) & ~np.isin(keys, keys[anchors & (keys >= 0)])] = -1
    return keys


def _among_few(
    features: Features,
    rules: Sequence[BlockingRule],
    report: BlockingReport,
    oversized: Oversized | None,
    anchors: npt.NDArray[np.bool_] | None,
) -> tuple[IntArray, IntArray, BlockingReport]:
    """candidate_pairs of a few records: every pair, kept where some rule's keys agree."""
    left, right = pair_indices(features.n)
    kept = np.zeros(len(left), bool)
    for rule in rules:
        keys = _blocks(features, rule, _raw_rule_keys(features, rule), oversized, anchors)
        same = (keys[left] == keys[right]) & (keys[left] >= 0)
        report.pairs_by_rule[rule.name] = int(same.sum())
        kept |= same
    report.pairs = int(kept.sum())
    return left[kept].astype(np.int64), right[kept].astype(np.int64), report


def candidate_pairs(
    features: Features,
    rules: Sequence[BlockingRule] = DEFAULT_RULES,
    *,
    max_block: int = 200,
    warn_pairs_per_record: float = 50.0,
    oversized: Oversized | None = None,
    anchors: npt.NDArray[np.bool_] | None = None,
) -> tuple[IntArray, IntArray, BlockingReport]:
    """The union of every rule's pairs, each pair once, sorted by (left, right).

    `oversized` holds stable keys of blocks known to be too big elsewhere, by rule: the records
    here are a part of a larger store, whose blocks are capped as a whole. With `anchors`,
    only blocks that hold an anchor record make pairs (whole, capped by their whole size):
    the pairs an anchor is in are among them."""
    report = BlockingReport()
    n = features.n
    if n <= min(_ALL_PAIRS_UP_TO, max_block):
        return _among_few(features, rules, report, oversized, anchors)

    def pairs_of(rule: BlockingRule) -> tuple[IntArray, IntArray, int, int]:
        keys = _blocks(features, rule, _rule_keys(features, rule), oversized, anchors)
        return pairs_within_blocks(keys, max_block)

    ids: list[IntArray] = []
    for rule, (left, right, skipped_blocks, skipped_pairs) in zip(
        rules, in_threads(pairs_of, rules, records=n), strict=True
    ):
        report.pairs_by_rule[rule.name] = len(left)
        if skipped_blocks:
            report.capped_blocks[rule.name] = skipped_blocks
            report.capped_pairs[rule.name] = skipped_pairs
            report.warnings.append(
                f"rule {rule.name}: {skipped_blocks} blocks of more than {max_block} records "
                f"share one value ({skipped_pairs:,} pairs not compared)"
            )
        if len(left) > warn_pairs_per_record * max(n, 1):
            report.warnings.append(
                f"rule {rule.name} makes {len(left):,} pairs for {n:,} records: "
                "too loose a rule slows every run; consider narrowing it"
            )
        ids.append(left * n + right)
    if not ids:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, report
    unique = distinct(np.concatenate(ids))
    report.pairs = len(unique)
    return unique // max(n, 1), unique % max(n, 1), report
