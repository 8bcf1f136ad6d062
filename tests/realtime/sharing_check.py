"""Checks that the kept decisions on shared values are a batch run's (see
resolution/sharing.py)."""

from __future__ import annotations

import numpy as np

from kenning.resolution.features import IDENTIFIERS, build_features
from kenning.resolution.pipeline import shared_when_big
from kenning.resolution.sharing import decisions
from kenning.services.identity import MODEL_NAME, load_table
from kenning.services.matching import model_in_use, stored_settings
from kenning.store import Store


def decided_over_the_store(store: Store) -> tuple[set[int], dict[int, bool]]:
    """What a batch run with the model in use (stored, or the shipped prior) decides over
    every record: the decision keys of every value held, and the shared ones (key -> a
    household's)."""
    model = model_in_use(store, MODEL_NAME)
    assert model is not None
    settings = stored_settings(store)
    features = build_features(
        load_table(store).columns, settings.shared_threshold, name_counts=model.name_counts()
    )
    shared_when_big(features, None, settings.max_block)
    return decisions(features, {c: np.ones(features.n, bool) for c in IDENTIFIERS})


def assert_kept_as_decided(store: Store) -> None:
    decided, shared = decided_over_the_store(store)
    assert shared, "the retailer has households: some values are shared"
    assert store.shared_values(decided) == shared
