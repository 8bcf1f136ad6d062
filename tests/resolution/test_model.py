"""Training: EM over the distinct level vectors is EM over every pair; no pairs, no crash."""

from __future__ import annotations

import math

import numpy as np

from kenning.resolution.model import _FLOOR, _counts, _decreasing, _distinct_rows, _em, _Strata
from kenning.resolution.pipeline import RecordTable, resolve


def _strata(candidates: np.ndarray, seen: np.ndarray, sizes: list[int]) -> _Strata:
    rng = np.random.default_rng(1)
    outside = np.stack([rng.integers(0, s, 500) for s in sizes], axis=1).astype(np.int8)
    return _Strata(
        candidates=candidates,
        seen=seen,
        scale=3.0,
        outside=_counts(outside, sizes, None),
        outside_scale=1000.0,
        sizes=sizes,
    )


def test_em_over_distinct_vectors_is_em_over_every_pair() -> None:
    sizes = [3, 4, 2]
    rng = np.random.default_rng(7)
    levels = np.stack([rng.integers(0, s, 5000) for s in sizes], axis=1).astype(np.int8)
    rows, seen = _distinct_rows(levels, sizes)
    assert len(rows) < 30 and seen.sum() == len(levels)
    start = [_decreasing(s) for s in sizes]
    u = [[0.0] + [1.0 / (s - 1)] * (s - 1) for s in sizes]
    every = _em(_strata(levels, np.ones(len(levels)), sizes), start, u, 0.1, _FLOOR, 25, 1e-9)
    distinct = _em(_strata(rows, seen, sizes), start, u, 0.1, _FLOOR, 25, 1e-9)
    assert every[3] == distinct[3]  # iterations
    assert math.isclose(every[2], distinct[2], rel_tol=1e-9)  # match rate
    for a, b in zip((*every[0], *every[1]), (*distinct[0], *distinct[1]), strict=True):
        assert np.allclose(a, b, rtol=1e-9, atol=0)


def test_records_with_no_candidate_pair_train_and_stay_apart() -> None:
    table = RecordTable.from_rows(
        [
            (("web", "1"), {"first_name": "ann", "email": "ann@example.org"}),
            (("web", "2"), {"first_name": "bob", "email": "bob@example.net"}),
        ],
        ["first_name", "email"],
    )
    result = resolve(table)
    assert result.labels.tolist() == [0, 1]
    assert math.isfinite(result.model.prior)
