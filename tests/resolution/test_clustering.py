"""Clustering keeps precision: conflicts refused, corrections respected, order irrelevant."""

from __future__ import annotations

import numpy as np
import pytest

from kenning.resolution import clustering, parallel
from kenning.resolution.clustering import (
    cluster,
    dates_compatible,
    first_names_compatible,
    first_names_test,
)


def _run(
    edges: list[tuple[int, int, float]],
    n: int,
    dobs: list[str | None] | None = None,
    firsts: list[str | None] | None = None,
    loyalty: list[str | None] | None = None,
    emails: list[str | None] | None = None,
    phones: list[str | None] | None = None,
    **kwargs: object,
) -> list[int]:
    left = np.array([a for a, _, _ in edges], dtype=np.int64)
    right = np.array([b for _, b, _ in edges], dtype=np.int64)
    weights = np.array([w for _, _, w in edges])
    result = cluster(
        n,
        left,
        right,
        weights,
        threshold=5.0,
        columns={
            "dobs": dobs,
            "first_names": firsts,
            "loyalty_ids": loyalty,
            "emails": emails,
            "phones": phones,
        },
        **kwargs,  # type: ignore[arg-type]
    )
    return result.labels.tolist()


def test_pairs_above_the_threshold_join() -> None:
    assert _run([(0, 1, 9.0), (1, 2, 7.0), (2, 3, 1.0)], 4) == [0, 0, 0, 3]


def test_household_is_not_chained_through_a_shared_phone() -> None:
    # Ann(0)~Ann(1) strongly; Ann(1)~Bob(2) by a shared landline; Bob(2)~Bob(3).
    firsts: list[str | None] = ["ann", "ann", "bob", "robert"]
    labels = _run([(0, 1, 20.0), (2, 3, 18.0), (1, 2, 8.0)], 4, firsts=firsts)
    assert labels == [0, 0, 2, 2]


def test_two_dates_of_birth_are_refused_but_a_typo_is_not() -> None:
    dobs: list[str | None] = ["1980-03-04", "1980-04-03", "1980-03-04", "1975-01-01"]
    # 0-1 day and month swapped: same person; 3 is someone else, however strong the edge.
    labels = _run([(0, 1, 10.0), (0, 2, 10.0), (2, 3, 29.0)], 4, dobs=dobs)
    assert labels[0] == labels[1] == labels[2] and labels[3] != labels[0]
    assert dates_compatible("1980-03-14", "1980-03-15") is True  # one digit
    assert dates_compatible("1980-03-14", "1981-04-14") is False


def test_overwhelming_evidence_forgives_one_disagreement() -> None:
    # A first name typed beyond recognition, everything else agreeing: 20 bits over.
    firsts: list[str | None] = ["amber", "zqxw"]
    assert _run([(0, 1, 24.0)], 2, firsts=firsts) == [0, 1]
    assert _run([(0, 1, 26.0)], 2, firsts=firsts) == [0, 0]
    # Never across a cannot-link, whatever the evidence.
    assert _run([(0, 1, 99.0)], 2, cannot_link=[(0, 1)]) == [0, 1]


def test_a_household_s_agreement_cannot_overcome_a_conflict() -> None:
    # Ann and Bob: same surname, address, postcode and town give 30 bits, of which 26 are
    # the household's. Bob's first name disagrees: only the 4 personal bits may count.
    firsts: list[str | None] = ["ann", "bob"]
    household = _run([(0, 1, 30.0)], 2, firsts=firsts, household=np.array([26.0]))
    assert household == [0, 1]
    # The same 30 bits from e-mail and phone (nothing a household shares) do forgive it.
    assert _run([(0, 1, 30.0)], 2, firsts=firsts, household=np.array([0.0])) == [0, 0]


def test_father_and_son_of_one_name_with_their_own_contacts_stay_apart() -> None:
    # Joseph Brooks senior and junior at one address: nothing personal in common, and
    # each has his own e-mail and phone.
    firsts: list[str | None] = ["joseph"] * 4
    emails: list[str | None] = ["jb94@example.com", None, "bigjoe@example.com", None]
    phones: list[str | None] = ["+12155550100", None, "+12155550199", None]
    edges = [(0, 1, 30.0), (2, 3, 30.0), (1, 2, 30.0)]
    household = np.array([30.0, 30.0, 30.0])
    apart = _run(edges, 4, firsts=firsts, emails=emails, phones=phones, household=household)
    assert apart == [0, 0, 2, 2]
    # One shared phone and they are one man with two e-mail addresses.
    phones[2] = phones[0]
    joined = _run(edges, 4, firsts=firsts, emails=emails, phones=phones, household=household)
    assert joined == [0, 0, 0, 0]


def test_first_names_nicknames_initials_typos() -> None:
    assert first_names_compatible("william", "bill")
    assert first_names_compatible("theresa", "tess")
    assert first_names_compatible("j", "john")
    assert first_names_compatible("jonathan", "jonathon")
    assert not first_names_compatible("john", "mary")
    assert not first_names_compatible("j", "mary")


def test_a_rare_slip_of_a_first_name_is_no_conflict() -> None:
    """ "nark" and "mark" are two names to the rules of spelling, one to a store that holds
    hundreds of Marks and one Nark: clustering is told which slips are so."""
    edges = [(0, 1, 9.0)]
    assert _run(edges, 2, firsts=["mark", "nark"]) == [0, 1]
    slips = {("mark", "nark"), ("nark", "mark")}.__contains__
    assert _run(edges, 2, firsts=["mark", "nark"], slips=lambda a, b: slips((a, b))) == [0, 0]
    test = first_names_test(lambda a, b: slips((a, b)))
    assert test("mark j", "nark") and not test("mark", "mary")


def test_one_loyalty_card_per_person() -> None:
    loyalty: list[str | None] = ["771234567890", "779999999999", None]
    labels = _run([(0, 2, 10.0), (1, 2, 9.0)], 3, loyalty=loyalty)
    assert labels == [0, 1, 0]


def test_must_link_always_and_cannot_link_never() -> None:
    edges = [(0, 1, 20.0), (1, 2, 20.0)]
    assert _run(edges, 4, must_link=[(2, 3)], cannot_link=[(0, 2)]) == [0, 0, 2, 2]


def test_result_does_not_depend_on_edge_order() -> None:
    rng = np.random.default_rng(7)
    n = 60
    edges = [
        (int(a), int(b), float(w))
        for a, b, w in zip(
            rng.integers(0, n, 200),
            rng.integers(0, n, 200),
            rng.choice([6.0, 8.0, 8.0, 12.0], 200),
            strict=True,
        )
        if a < b
    ]
    firsts: list[str | None] = [rng.choice(["ann", "bob", "cy", None]) for _ in range(n)]
    first = _run(edges, n, firsts=firsts)
    for _ in range(5):
        shuffled = [edges[i] for i in rng.permutation(len(edges))]
        assert _run(shuffled, n, firsts=firsts) == first


def _random_edges(rng: np.random.Generator, n: int, count: int) -> list[tuple[int, int, float]]:
    """``count`` random pairs (some dropped: a record with itself) of n records, weighed."""
    return [
        (int(min(a, b)), int(max(a, b)), float(w))
        for a, b, w in zip(
            rng.integers(0, n, count),
            rng.integers(0, n, count),
            rng.choice([6.0, 9.0, 14.0, 30.0], count),
            strict=True,
        )
        if a != b
    ]


def test_components_without_conflicts_join_whole_as_the_greedy_walk_would() -> None:
    # Sparse random graphs: many components hold one value per column (joined at once),
    # the rest conflict (walked edge by edge). A self cannot-link, which forbids nothing,
    # sends every component down the walk: both ways must give the same customers.
    rng = np.random.default_rng(11)
    for _ in range(20):
        n = 80
        edges = _random_edges(rng, n, 70)
        columns = {
            "firsts": [rng.choice(["ann", "anne", "bob", None, None]) for _ in range(n)],
            "dobs": [rng.choice(["1980-01-02", "1991-05-06", None, None, None]) for _ in range(n)],
            "loyalty": [rng.choice(["771", "772", None, None, None, None]) for _ in range(n)],
            "emails": [rng.choice(["a@x.org", "b@x.org", None, None]) for _ in range(n)],
            "phones": [rng.choice(["+1555", "+1556", None, None]) for _ in range(n)],
        }
        fast = _run(edges, n, **columns)  # type: ignore[arg-type]
        walked = _run(edges, n, cannot_link=[(i, i) for i in range(n)], **columns)  # type: ignore[arg-type]
        assert fast == walked


def _random_run(seed: int, **kwargs: object) -> list[int]:
    """A sparse random graph whose components conflict (walked edge by edge), with a
    must-link joining two of them and a cannot-link."""
    rng = np.random.default_rng(seed)
    n = 400
    edges = _random_edges(rng, n, 500)
    columns = {
        "firsts": [rng.choice(["ann", "bob", "cy", None]) for _ in range(n)],
        "dobs": [rng.choice(["1980-01-02", "1991-05-06", None, None]) for _ in range(n)],
        "emails": [rng.choice(["a@x.org", "b@x.org", None]) for _ in range(n)],
    }
    return _run(edges, n, must_link=[(3, 250)], cannot_link=[(7, 8)], **columns, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_walk_split_with_a_forked_copy_joins_as_one_walk(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = _random_run(seed)
    forked: list[bool] = []
    beside = parallel.beside

    def watched(other, mine):  # type: ignore[no-untyped-def]
        answer, result = beside(other, mine)
        forked.append(answer is not None)
        return answer, result

    monkeypatch.setattr(clustering, "FORK_FROM", 0)
    monkeypatch.setattr(clustering, "beside", watched)
    assert _random_run(seed) == alone
    assert forked == [True]


def test_a_copy_that_fails_leaves_its_half_to_be_walked_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alone = _random_run(4)
    monkeypatch.setattr(clustering, "FORK_FROM", 0)
    monkeypatch.setattr(clustering, "beside", lambda other, mine: (None, mine()))
    assert _random_run(4) == alone
