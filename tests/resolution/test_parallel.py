"""Pairs compared and weighed in parts, in threads, give what one pass gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kenning.datagen import DatagenConfig, generate
from kenning.ingest.importer import Importer
from kenning.resolution import parallel
from kenning.resolution.blocking import candidate_pairs
from kenning.resolution.comparisons import default_comparisons
from kenning.resolution.features import build_features
from kenning.resolution.model import compare_all, score, train
from kenning.services.identity import load_table
from kenning.store import open_store


def test_in_parts_covers_the_range_in_order() -> None:
    parts = parallel.in_parts(10_050, lambda s: (s.start, s.stop), part=1_000)
    assert parts[0][0] == 0 and parts[-1][1] == 10_050
    assert [p[0] for p in parts[1:]] == [p[1] for p in parts[:-1]]  # no gap, no overlap
    assert parallel.in_parts(7, lambda s: (s.start, s.stop), part=1_000) == [(0, 7)]


def test_threads_give_the_levels_and_weights_of_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate(DatagenConfig(people=150, seed=3, activity=False), tmp_path)
    with open_store(f"sqlite:///{tmp_path / 'k.db'}") as store:
        Importer(store).import_files(sorted((tmp_path / "records").glob("*.csv")))
        table = load_table(store)
    features = build_features(table.columns)
    left, right, _ = candidate_pairs(features)
    comparisons = default_comparisons()
    levels = compare_all(comparisons, features, left, right)
    model = train(comparisons, features, levels)
    weights, household = score(model, comparisons, features, left, levels)

    monkeypatch.setattr(parallel, "PART", 50)
    monkeypatch.setattr(parallel, "_WARM", 7)
    assert len(left) > 4 * 50  # so that several parts run in threads
    assert np.array_equal(compare_all(comparisons, features, left, right), levels)
    in_threads = score(model, comparisons, features, left, levels)
    assert np.array_equal(in_threads[0], weights) and np.array_equal(in_threads[1], household)
