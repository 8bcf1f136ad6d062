"""Which scored pairs a person should review: those the model is least sure of.

Uncertainty sampling, as dedupe and Zingg do it: the pairs whose match weight is nearest the
threshold are those an answer teaches the model most about. A few hundred of them are chosen
from tens of millions of pairs with numpy alone, a slice at a time (no copy of every
weight), so a batch run hardly notices.

They are spread out as well. The model learns per comparison level, so a hundred answers on
pairs that agree and differ on the same comparisons teach it little more than ten: a level
pattern gets a share of the pairs before any gets more. And one large family or shop address
should not fill the list: a record is in one pair before any is in two.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from kenning.resolution.model import LevelMatrix

IntArray = npt.NDArray[np.int64]
# Pairs looked at per pair wanted: the nearest ones, among which the spread is chosen.
POOL = 20
# Pairs further from the threshold than this (bits: 2**8 times the odds) the model is sure
# of, however few the others: at the default threshold, probabilities below 0.07 or above
# 0.9998 are not asked about.
UNCERTAIN_BITS = 8.0
# The share of the pairs wanted one level pattern may take before the others had theirs.
PATTERN_SHARE = 0.05
# Weights examined at a time (a slice's distances are all that is allocated).
_SLICE = 1 << 22
# Weights sampled to guess how wide a band around the threshold holds the pairs wanted.
_SAMPLE = 100_000
_NARROWEST = 1e-6  # bits


def nearest(
    weights: npt.NDArray[np.float64], threshold: float, count: int, within: float
) -> IntArray:
    """The indices of the ``count`` weights nearest ``threshold`` and at most ``within``
    of it, nearest first (ties by index, so the choice is the same every run).

    One pass over the weights, mostly: a band around the threshold holding about twice
    ``count`` of them is guessed from a sample, and widened if it held too few."""
    if count <= 0 or not len(weights):
        return np.empty(0, np.int64)
    sample = np.abs(weights[:: max(1, len(weights) // _SAMPLE)] - threshold)
    sample = sample[np.isfinite(sample)]
    share = min(1.0, 2 * count / len(weights))
    guess = float(np.quantile(sample, share)) if len(sample) else within
    band = min(max(guess, _NARROWEST), within)
    distance = np.empty(min(len(weights), _SLICE))
    while True:
        found: list[IntArray] = []
        for start in range(0, len(weights), _SLICE):
            part = weights[start : start + _SLICE]
            near = distance[: len(part)]
            np.subtract(part, threshold, out=near)
            np.abs(near, out=near)
            found.append(np.flatnonzero(near <= band) + start)
        chosen = np.concatenate(found)
        if len(chosen) >= count or band >= within:
            break
        band = min(band * 4, within)
    distance = np.abs(weights[chosen] - threshold)
    order = np.lexsort((chosen, distance))[:count]
    return np.asarray(chosen[order], np.int64)


def _occurrence(groups: IntArray) -> IntArray:
    """Per item, how many items of its group come before it."""
    sorter = np.argsort(groups, kind="stable")
    ordered = groups[sorter]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, len(groups)])
    occurrence = np.empty(len(groups), np.int64)
    occurrence[sorter] = np.arange(len(groups)) - np.repeat(starts, sizes)
    return occurrence


def most_uncertain(
    weights: npt.NDArray[np.float64],
    levels: LevelMatrix,
    left: IntArray,
    right: IntArray,
    threshold: float,
    count: int,
    skip: IntArray,
    records: int,
) -> IntArray:
    """The indices of up to ``count`` pairs to review, in the order to ask, spread over
    level patterns and records (see the module's docstring), none the model is sure of.
    ``skip``: the keys ``left * records + right`` of pairs answered or corrected."""
    pool = nearest(weights, threshold, count * POOL, UNCERTAIN_BITS)
    if len(skip):
        pool = pool[~np.isin(left[pool] * records + right[pool], skip)]
    if not len(pool):
        return pool
    _, pattern = np.unique(levels[pool], axis=0, return_inverse=True)
    cap = max(1, math.ceil(count * PATTERN_SHARE))
    # Rounds: every pattern's first `cap` pairs, then their next `cap`… nearest first in each.
    rounds = _occurrence(pattern.reshape(-1).astype(np.int64)) // cap
    pool = pool[np.lexsort((np.arange(len(pool)), rounds))]
    first: list[int] = []
    later: list[int] = []
    seen: set[int] = set()
    for i, a, b in zip(pool.tolist(), left[pool].tolist(), right[pool].tolist(), strict=True):
        (later if a in seen or b in seen else first).append(i)
        seen.update((a, b))
    return np.array((first + later)[:count], np.int64)
