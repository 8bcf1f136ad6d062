"""Blocking: what anchored blocking leaves out is only what no anchor is in."""

from __future__ import annotations

import random

import numpy as np
import pytest

from kenning.domain.normalised import NORMALISED_FIELDS
from kenning.resolution import blocking
from kenning.resolution.blocking import BlockingRule, candidate_pairs, stable_keys
from kenning.resolution.features import build_features


def _columns(rows: list[dict[str, str]]) -> dict[str, list[str | None]]:
    return {name: [row.get(name) for row in rows] for name in NORMALISED_FIELDS}


def test_anchored_pairs_are_the_pairs_an_anchor_is_in() -> None:
    rows = [
        {"first_name": "ann", "last_name": "lee", "postcode": "sw1a 1aa", "email": "a@x.com"},
        {"first_name": "ann", "last_name": "lee", "postcode": "sw1a 1aa"},
        {"first_name": "bob", "last_name": "ray", "postcode": "n1 9gu", "email": "b@x.com"},
        {"first_name": "bob", "last_name": "ray", "postcode": "n1 9gu", "email": "b@x.com"},
        {"first_name": "bob", "last_name": "ray", "postcode": "n1 9gu"},
        {"first_name": "cat", "last_name": "fox", "email": "a@x.com"},
    ]
    features = build_features(_columns(rows))
    left, right, _ = candidate_pairs(features)
    anchors = np.zeros(len(rows), bool)
    anchors[[0, 4]] = True
    a_left, a_right, _ = candidate_pairs(features, anchors=anchors)
    mine = anchors[a_left] | anchors[a_right]
    expected = anchors[left] | anchors[right]
    assert sorted(zip(a_left[mine].tolist(), a_right[mine].tolist(), strict=True)) == sorted(
        zip(left[expected].tolist(), right[expected].tolist(), strict=True)
    )
    assert expected.sum() >= 3 and (~expected).sum() >= 1  # both kinds were there
    # Bob's blocks hold no anchor when only Ann's first record is one: none of them is paired.
    only_ann = np.zeros(len(rows), bool)
    only_ann[0] = True
    o_left, o_right, _ = candidate_pairs(features, anchors=only_ann)
    assert not set(zip(o_left.tolist(), o_right.tolist(), strict=True)) & {(2, 3), (2, 4), (3, 4)}
    assert {(2, 3), (2, 4), (3, 4)} <= set(zip(left.tolist(), right.tolist(), strict=True))


def test_names_typed_into_each_others_boxes_share_a_name_pair_block() -> None:
    rows = [
        {"first_name": "max", "last_name": "morrison", "city": "moonta"},
        {"first_name": "morrison", "last_name": "max", "city": "moonta"},
        {"first_name": "max", "last_name": "morrison", "city": "perth"},
    ]
    features = build_features(_columns(rows))
    assert "name_pair" not in features.codes  # built only for the settings that use it
    left, right, _ = candidate_pairs(features, [BlockingRule(("name_pair", "city"))])
    assert list(zip(left.tolist(), right.tolist(), strict=True)) == [(0, 1)]
    assert features.value("name_pair", 1) == "max morrison"


def test_a_few_records_are_paired_as_blocks_pair_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Up to a hundred-odd records every pair is tested rule by rule: the same pairs, and
    the same counts per rule, as sorting each rule's blocks gives."""
    rng = random.Random(4)
    rows = [
        {
            "first_name": rng.choice(("ann", "bob", "cat", None)),
            "last_name": rng.choice(("lee", "ray", "fox")),
            "postcode": rng.choice(("sw1a 1aa", "n1 9gu", None)),
            "email": rng.choice(("a@x.com", "b@x.com", None, None)),
            "date_of_birth": rng.choice(("1980-01-02", None)),
        }
        for _ in range(90)
    ]
    features = build_features(_columns(rows))
    anchors = np.array([rng.random() < 0.1 for _ in rows])
    email_block = stable_keys(features, BlockingRule(("email",)))[0][[0]]
    cases = [{}, {"anchors": anchors}, {"oversized": {"email": email_block}}]
    for options in cases:
        few_left, few_right, few = candidate_pairs(features, **options)  # type: ignore[arg-type]
        with monkeypatch.context() as patch:
            patch.setattr(blocking, "_ALL_PAIRS_UP_TO", 0)
            left, right, report = candidate_pairs(features, **options)  # type: ignore[arg-type]
        assert few_left.tolist() == left.tolist() and few_right.tolist() == right.tolist()
        assert few.pairs_by_rule == report.pairs_by_rule and few.pairs == report.pairs
        assert len(left) > 100
