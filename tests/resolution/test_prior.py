"""The prior model shipped with Kenning: made for today's comparisons, and a prior."""

from __future__ import annotations

from kenning.resolution.comparisons import default_comparisons
from kenning.resolution.model import Model
from kenning.resolution.prior import PRIOR_TF, REGENERATE, shipped_prior


def test_the_shipped_prior_is_for_the_default_comparisons() -> None:
    prior = shipped_prior()
    assert prior.matches(default_comparisons()), (
        "the comparisons or their levels changed: make the shipped prior again with "
        f"`{REGENERATE}` (and commit it)"
    )


def test_the_shipped_prior_is_a_prior_with_sane_weights() -> None:
    prior = shipped_prior()
    assert prior.source == "prior" and prior.trained_on_records > 10_000
    assert Model.from_dict(prior.to_dict()) == prior
    for comparison in prior.comparisons:
        assert all(0 < p <= 1 for p in comparison.m[1:] + comparison.u[1:]), comparison.name
        exact, *_, differs = comparison.weights()[1:]
        assert exact > 0 > differs, comparison.name  # agreeing is evidence, differing against
    # Names are as common in any shop; the generator's postcodes and towns are nobody's.
    assert set(prior.term_counts) == set(prior.u_exact_tf) == set(PRIOR_TF)
    assert prior.term_counts["first_name"].counts.get("michael", 0) > 10
