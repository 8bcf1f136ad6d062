"""The prior model shipped with Kenning: what a store with no trained model of its own
resolves with, online and in batch, from its first record.

It is a model trained like any other (`kenning model prior` makes it again, see
services/prior.py), on a generated retailer, then made general: the term frequencies of
postcodes and towns describe the generator's made-up geography, not a retailer's, so only
the names' are kept (how common a first name or surname is travels; a postcode does not).
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from importlib.resources import files
from typing import Final

import orjson

from kenning.resolution.comparisons import default_comparisons
from kenning.resolution.model import Model

PRIOR_FILE: Final = "prior_model.json"
# How to make the shipped prior again when the comparisons change.
REGENERATE: Final = f"kenning model prior --out src/kenning/resolution/{PRIOR_FILE}"
# The term frequencies a prior keeps: names are as common in one country's shops as in
# another's; the generated postcodes and towns are nobody's.
PRIOR_TF: Final = ("first_name", "last_name")


def as_prior(model: Model) -> Model:
    """A trained model made a prior (see the module's note)."""
    return replace(
        model,
        source="prior",
        u_exact_tf={k: v for k, v in model.u_exact_tf.items() if k in PRIOR_TF},
        term_counts={k: v for k, v in model.term_counts.items() if k in PRIOR_TF},
    )


@cache
def shipped_prior() -> Model:
    """The prior as shipped (parsed once per process)."""
    data = files("kenning.resolution").joinpath(PRIOR_FILE).read_bytes()
    return Model.from_dict(orjson.loads(data))


def usable_prior() -> Model | None:
    """The shipped prior, or None when it was made for other comparisons than these (a
    change to comparisons.py without `REGENERATE`): then nothing resolves until a model
    is trained, as before there was a prior."""
    prior = shipped_prior()
    return prior if prior.matches(default_comparisons()) else None
