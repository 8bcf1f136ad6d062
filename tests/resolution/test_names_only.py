"""Names-and-places-only pairs join only where the name points to one person, and a
first name damaged beside an equal birth date is forgiven unless the address shows that
name with another birth date."""

from __future__ import annotations

import numpy as np

from kenning.resolution.features import Features, build_features
from kenning.resolution.pipeline import _unique_name_links, forgivable_names

Record = dict[str, str]


def features(*records: Record) -> Features:
    columns = {name: [r.get(name) for r in records] for r in records for name in r}
    return build_features(columns)


def link(f: Features, labels: list[int], pairs: list[tuple[int, int]]) -> list[int]:
    left = np.array([a for a, _ in pairs], np.int64)
    right = np.array([b for _, b in pairs], np.int64)
    eligible = np.ones(len(pairs), bool)
    return _unique_name_links(f, np.array(labels, np.int64), left, right, eligible).tolist()


RICARDO = {"first_name": "ricardo", "last_name": "salas", "city": "leeds"}


def test_a_name_and_a_town_join_the_only_customer_of_that_name() -> None:
    f = features({**RICARDO, "email": "rsalas@example.org"}, RICARDO, RICARDO)
    # Till records 1 and 2 are a name and a town; customer 0 has an e-mail.
    assert link(f, [0, 1, 2], [(0, 1), (0, 2), (1, 2)]) == [0, 0, 0]


def test_a_name_two_customers_hold_joins_neither() -> None:
    f = features(
        {**RICARDO, "email": "rsalas@example.org"},
        {**RICARDO, "email": "ricardo.salas@example.com"},
        RICARDO,
    )
    assert link(f, [0, 1, 2], [(0, 2), (1, 2)]) == [0, 1, 2]


def test_a_first_name_is_forgiven_beside_a_birth_date_unless_another_holds_it() -> None:
    home = {"house_number": "12", "street": "high st", "postcode": "LS1 1AA"}
    f = features(
        {"first_name": "ann", "date_of_birth": "1980-01-02", **home},
        {"first_name": "zoe", "date_of_birth": "1980-01-02", **home},  # ann's, name damaged
    )
    assert forgivable_names(f).tolist() == [True, True]
    f = features(
        {"first_name": "ann", "date_of_birth": "1980-01-02", **home},
        {"first_name": "zoe", "date_of_birth": "1980-01-02", **home},
        {"first_name": "zoe", "date_of_birth": "2010-05-06", **home},  # zoe lives there
    )
    assert forgivable_names(f).tolist() == [True, False, False]


def test_clustering_forgives_only_forgivable_records() -> None:
    from kenning.resolution.clustering import cluster

    def run(forgivable: list[bool]) -> list[int]:
        result = cluster(
            2,
            np.array([0], np.int64),
            np.array([1], np.int64),
            np.array([12.0]),
            threshold=5.0,
            columns={"dobs": ["1980-01-02"] * 2, "first_names": ["ann", "zoe"]},
            forgivable=np.array(forgivable),
        )
        return result.labels.tolist()

    assert run([True, True]) == [0, 0]
    assert run([True, False]) == [0, 1]
