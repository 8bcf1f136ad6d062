from __future__ import annotations

from collections.abc import Hashable
from fractions import Fraction
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kenning.resolution.evaluation import Evaluation, evaluate

# Four records of person 1 (a, b, c, d) and two of person 2 (e, f).
TRUTH: dict[Hashable, Hashable] = {
    "a": 1,
    "b": 1,
    "c": 1,
    "d": 1,
    "e": 2,
    "f": 2,
}


def f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall)


def test_a_known_mix() -> None:
    # Customer x holds a, b, c (all person 1); customer y holds d (person 1) with e, f (person 2).
    result = evaluate({"a": "x", "b": "x", "c": "x", "d": "y", "e": "y", "f": "y"}, TRUTH)

    assert (result.records, result.people, result.customers) == (6, 2, 2)
    # True pairs: C(4,2) + C(2,2) = 7. Predicted: C(3,2) + C(3,2) = 6.
    # Correct: ab ac bc inside x, ef inside y = 4.
    assert (result.true_pairs, result.predicted_pairs, result.correct_pairs) == (7, 6, 4)
    assert result.pairwise_precision == pytest.approx(4 / 6)
    assert result.pairwise_recall == pytest.approx(4 / 7)
    assert result.pairwise_f1 == pytest.approx(8 / 13)
    # B-cubed precision, per record: a b c 3/3; d 1/3; e f 2/3 → (3 + 1/3 + 4/3) / 6 = 7/9.
    assert result.bcubed_precision == pytest.approx(7 / 9)
    # B-cubed recall, per record: a b c 3/4; d 1/4; e f 2/2 → (9/4 + 1/4 + 2) / 6 = 3/4.
    assert result.bcubed_recall == pytest.approx(3 / 4)
    assert result.bcubed_f1 == pytest.approx(42 / 55)
    assert result.mixed_customers == 1  # y
    assert result.split_people == 1  # person 1


def test_all_singletons() -> None:
    result = evaluate({key: key for key in TRUTH}, TRUTH)

    assert result.customers == 6
    assert (result.true_pairs, result.predicted_pairs, result.correct_pairs) == (7, 0, 0)
    # No predicted pair: precision is 1.0 by convention.
    assert result.pairwise_precision == 1.0
    assert result.pairwise_recall == 0.0
    assert result.pairwise_f1 == 0.0
    assert result.bcubed_precision == 1.0
    # a b c d 1/4 each, e f 1/2 each → (1 + 1) / 6 = 1/3.
    assert result.bcubed_recall == pytest.approx(1 / 3)
    assert result.bcubed_f1 == pytest.approx(0.5)
    assert result.mixed_customers == 0
    assert result.split_people == 2


def test_all_in_one_customer() -> None:
    result = evaluate(dict.fromkeys(TRUTH, "everyone"), TRUTH)

    assert result.customers == 1
    # Predicted: C(6,2) = 15, of which the 7 true pairs are correct.
    assert (result.true_pairs, result.predicted_pairs, result.correct_pairs) == (7, 15, 7)
    assert result.pairwise_precision == pytest.approx(7 / 15)
    assert result.pairwise_recall == 1.0
    assert result.pairwise_f1 == pytest.approx(f1(7 / 15, 1.0))
    # a b c d 4/6 each, e f 2/6 each → (16/6 + 4/6) / 6 = 5/9.
    assert result.bcubed_precision == pytest.approx(5 / 9)
    assert result.bcubed_recall == 1.0
    assert result.bcubed_f1 == pytest.approx(f1(5 / 9, 1.0))
    assert result.mixed_customers == 1
    assert result.split_people == 0


def test_perfect() -> None:
    result = evaluate({key: f"c{person}" for key, person in TRUTH.items()}, TRUTH)

    for name in [
        "pairwise_precision",
        "pairwise_recall",
        "pairwise_f1",
        "bcubed_precision",
        "bcubed_recall",
        "bcubed_f1",
    ]:
        assert getattr(result, name) == 1.0, name
    assert (result.mixed_customers, result.split_people) == (0, 0)


def test_truth_without_pairs_has_full_recall() -> None:
    truth: dict[Hashable, Hashable] = {"a": 1, "b": 2}
    result = evaluate({"a": "x", "b": "y"}, truth)
    assert result.true_pairs == 0
    assert (result.pairwise_precision, result.pairwise_recall, result.pairwise_f1) == (1, 1, 1)

    merged = evaluate({"a": "x", "b": "x"}, truth)
    assert (merged.pairwise_precision, merged.pairwise_recall, merged.pairwise_f1) == (0, 1, 0)


def test_keys_and_ids_may_be_any_hashable() -> None:
    truth: dict[Hashable, Hashable] = {("pos", "1"): "p1", ("web", 1): "p1", ("pos", 2): 7}
    result = evaluate({("pos", "1"): 10, ("web", 1): 10, ("pos", 2): None}, truth)
    assert result.pairwise_f1 == 1.0


def test_as_dict() -> None:
    result = evaluate({key: key for key in TRUTH}, TRUTH)
    as_dict = result.as_dict()
    assert as_dict["records"] == 6
    assert as_dict["pairwise_precision"] == 1.0
    assert set(as_dict) == set(Evaluation.__dataclass_fields__)


def test_keys_missing_from_truth() -> None:
    predicted: dict[Hashable, Hashable] = dict.fromkeys(TRUTH, 0)
    predicted |= {"zz": 0, "yy": 0}
    with pytest.raises(ValueError, match=r"2 predicted record\(s\) missing from the truth.*'yy'"):
        evaluate(predicted, TRUTH)


def test_keys_missing_from_predictions() -> None:
    with pytest.raises(ValueError, match=r"1 truth record\(s\) missing from the predictions.*'f'"):
        evaluate(dict.fromkeys("abcde", 0), TRUTH)


def test_both_sides_missing_keys_reports_both() -> None:
    with pytest.raises(ValueError) as raised:
        evaluate({"a": 0, "q": 0}, {"a": 0, "r": 0, "s": 0})
    message = str(raised.value)
    assert "1 predicted record(s) missing from the truth, e.g. 'q'" in message
    assert "2 truth record(s) missing from the predictions, e.g. 'r', 's'" in message


def test_long_key_lists_are_cut_short() -> None:
    with pytest.raises(ValueError) as raised:
        evaluate({}, {f"k{i:03}": 0 for i in range(500)})
    message = str(raised.value)
    assert message.startswith("500 truth record(s)")
    assert "'k004'" in message
    assert "'k005'" not in message


def test_nothing_to_evaluate() -> None:
    with pytest.raises(ValueError, match="no records"):
        evaluate({}, {})


def brute_force(predicted: dict[int, int], truth: dict[int, int]) -> dict[str, Fraction]:
    """Every pair and every record, counted one by one."""
    keys = list(predicted)
    pairs = list(combinations(keys, 2))
    true = {pair for pair in pairs if truth[pair[0]] == truth[pair[1]]}
    linked = {pair for pair in pairs if predicted[pair[0]] == predicted[pair[1]]}
    precision = Fraction(0)
    recall = Fraction(0)
    for key in keys:
        customer = {k for k in keys if predicted[k] == predicted[key]}
        person = {k for k in keys if truth[k] == truth[key]}
        precision += Fraction(len(customer & person), len(customer))
        recall += Fraction(len(customer & person), len(person))
    return {
        "true_pairs": Fraction(len(true)),
        "predicted_pairs": Fraction(len(linked)),
        "correct_pairs": Fraction(len(true & linked)),
        "bcubed_precision": precision / len(keys),
        "bcubed_recall": recall / len(keys),
    }


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=30))
def test_agrees_with_counting_every_pair(labels: list[tuple[int, int]]) -> None:
    predicted = {i: customer for i, (customer, _) in enumerate(labels)}
    truth = {i: person for i, (_, person) in enumerate(labels)}
    result = evaluate(predicted, truth)
    expected = brute_force(predicted, truth)

    assert result.true_pairs == expected["true_pairs"]
    assert result.predicted_pairs == expected["predicted_pairs"]
    assert result.correct_pairs == expected["correct_pairs"]
    assert result.bcubed_precision == pytest.approx(float(expected["bcubed_precision"]))
    assert result.bcubed_recall == pytest.approx(float(expected["bcubed_recall"]))
    assert result.mixed_customers == sum(
        len({truth[k] for k in predicted if predicted[k] == c}) > 1 for c in set(predicted.values())
    )
    assert result.split_people == sum(
        len({predicted[k] for k in truth if truth[k] == p}) > 1 for p in set(truth.values())
    )
