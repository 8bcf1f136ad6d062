"""Stable customer ids and the merges and splits between runs."""

from __future__ import annotations

from kenning.resolution.ids import assign_ids

K = [("pos", "1"), ("pos", "2"), ("web", "1"), ("web", "2")]


def test_fresh_ids_are_deterministic() -> None:
    ids_a, changes = assign_ids(K, [0, 0, 2, 2], {})
    ids_b, _ = assign_ids(K, [0, 0, 2, 2], {})
    assert ids_a == ids_b and changes == []
    assert len(set(ids_a.values())) == 2


def test_rerun_keeps_ids_and_reports_a_merge() -> None:
    previous = {K[0]: "cus_a", K[1]: "cus_a", K[2]: "cus_b", K[3]: "cus_c"}
    ids, changes = assign_ids(K, [0, 0, 0, 3], previous)
    assert ids == {0: "cus_a", 3: "cus_c"}
    [merge] = changes
    assert merge.kind == "merge" and merge.customer_id == "cus_a" and merge.others == ("cus_b",)
    assert merge.records == (K[2],)


def test_split_keeps_the_id_on_the_larger_part() -> None:
    previous = dict.fromkeys(K, "cus_a")
    ids, changes = assign_ids(K, [0, 0, 0, 3], previous)
    assert ids[0] == "cus_a" and ids[3] != "cus_a"
    [split] = changes
    assert split.kind == "split" and split.customer_id == "cus_a" and split.others == (ids[3],)
