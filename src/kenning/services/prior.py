"""Making the shipped prior model again (`kenning model prior`): the generated retailer
(`kenning datagen`) imported into a scratch store and trained on, as `kenning resolve`
would train, with the default comparisons and settings. The generator is seeded, so the
same version of Kenning makes the same prior."""

from __future__ import annotations

import tempfile
from pathlib import Path

from kenning.ingest.importer import Importer
from kenning.resolution.model import Model
from kenning.resolution.pipeline import resolve
from kenning.resolution.prior import as_prior
from kenning.services.identity import load_table
from kenning.store import open_store

# A retailer of this many people (some 40,000 records from five systems): enough that every
# comparison level is seen among matches and non-matches; the run takes about a minute.
PRIOR_PEOPLE = 15_000
PRIOR_SEED = 2026


def train_prior(people: int = PRIOR_PEOPLE, seed: int = PRIOR_SEED) -> Model:
    """A prior trained on a generated retailer of ``people`` (needs the demo extra)."""
    from kenning.datagen import MARKETS, DatagenConfig, generate

    with tempfile.TemporaryDirectory(prefix="kenning-prior-") as scratch:
        out = Path(scratch)
        generate(DatagenConfig(people=people, seed=seed, activity=False), out)
        with open_store(f"sqlite:///{out / 'prior.db'}") as store:
            Importer(store, markets=tuple(MARKETS.split(","))).import_files(
                sorted((out / "records").glob("*.csv"))
            )
            table = load_table(store)
    return as_prior(resolve(table).model)
