"""Blocking: what anchored blocking leaves out is only what no anchor is in."""

from __future__ import annotations

import numpy as np

from kenning.domain.normalised import NORMALISED_FIELDS
from kenning.resolution.blocking import BlockingRule, candidate_pairs
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
