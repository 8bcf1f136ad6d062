"""How well a clustering of records into customers matches the true people.

`evaluate` compares a predicted clustering (record key → customer id) with the ground truth
(record key → person id) and reports two families of scores:

* pairwise: every pair of records placed in one customer is a predicted link; precision is
  the share of predicted links that join one person's records, recall the share of one
  person's record pairs that were linked. Large clusters weigh quadratically.
* B-cubed: per record, precision is the share of its customer's records that belong to its
  person, recall the share of its person's records that sit in its customer; both averaged
  over records. Every record weighs the same.

All counts come from the contingency table of customers × people (how many records each
customer holds of each person); no pair is ever enumerated, so a million records take about
a second.

Conventions, for the degenerate cases:

* pairwise precision is 1.0 when no pair is predicted (every record alone): nothing claimed,
  nothing wrong;
* pairwise recall is 1.0 when the truth has no pair (every person has one record);
* an F1 is 0.0 when both its precision and recall are 0.0.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Evaluation", "evaluate"]

_SHOWN_KEYS = 5

# A record key: any hashable. Spelt Any because Mapping is invariant in its key type, and a
# dict[tuple[str, str], int] must be accepted as it is.
RecordKey = Any


@dataclass(frozen=True)
class Evaluation:
    """Scores of one predicted clustering against the truth (see the module docstring)."""

    records: int
    people: int
    customers: int
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    mixed_customers: int
    """Customers holding records of more than one person (wrong merges)."""
    split_people: int
    """People whose records are spread over more than one customer (missed links)."""
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def evaluate(
    predicted: Mapping[RecordKey, Hashable], truth: Mapping[RecordKey, Hashable]
) -> Evaluation:
    """Score `predicted` (record key → customer id) against `truth` (record key → person id).

    Both must hold the same record keys; otherwise a ValueError says how many keys each side
    lacks and names a few of them. Customer and person ids are only compared for equality
    within their own side, so any hashable ids work.
    """
    customer_codes: dict[Hashable, int] = {}
    person_codes: dict[Hashable, int] = {}
    customer_of: list[int] = []
    person_of: list[int] = []
    missing_from_truth: list[RecordKey] = []
    absent = object()
    for key, customer in predicted.items():
        person = truth.get(key, absent)
        if person is absent:
            missing_from_truth.append(key)
            continue
        customer_of.append(customer_codes.setdefault(customer, len(customer_codes)))
        person_of.append(person_codes.setdefault(person, len(person_codes)))
    if missing_from_truth or len(truth) != len(customer_of):
        _raise_mismatch(predicted, truth, missing_from_truth)
    if not customer_of:
        raise ValueError("nothing to evaluate: no records")
    return _score(
        np.asarray(customer_of, dtype=np.int64),
        np.asarray(person_of, dtype=np.int64),
        len(customer_codes),
        len(person_codes),
    )


def _raise_mismatch(
    predicted: Mapping[RecordKey, Hashable],
    truth: Mapping[RecordKey, Hashable],
    missing_from_truth: list[RecordKey],
) -> None:
    missing_from_predicted = [key for key in truth if key not in predicted]
    problems = []
    if missing_from_truth:
        problems.append(
            f"{len(missing_from_truth)} predicted record(s) missing from the truth, "
            f"e.g. {_some(missing_from_truth)}"
        )
    if missing_from_predicted:
        problems.append(
            f"{len(missing_from_predicted)} truth record(s) missing from the predictions, "
            f"e.g. {_some(missing_from_predicted)}"
        )
    raise ValueError("; ".join(problems))


def _some(keys: list[RecordKey]) -> str:
    return ", ".join(repr(key) for key in sorted(keys, key=repr)[:_SHOWN_KEYS])


def _pairs(counts: npt.NDArray[np.int64]) -> int:
    return int((counts * (counts - 1) // 2).sum())


def _ratio(numerator: int, denominator: int) -> float:
    return 1.0 if denominator == 0 else numerator / denominator


def _f1(precision: float, recall: float) -> float:
    total = precision + recall
    return 0.0 if total == 0.0 else 2.0 * precision * recall / total


def _score(
    customer_of: npt.NDArray[np.int64],
    person_of: npt.NDArray[np.int64],
    customers: int,
    people: int,
) -> Evaluation:
    records = len(customer_of)
    customer_sizes = np.bincount(customer_of, minlength=customers)
    person_sizes = np.bincount(person_of, minlength=people)
    # The non-empty cells of the customers × people table, and how many records each holds.
    cells, overlap = np.unique(customer_of * people + person_of, return_counts=True)
    cell_customer = cells // people
    cell_person = cells % people

    true_pairs = _pairs(person_sizes)
    predicted_pairs = _pairs(customer_sizes)
    correct_pairs = _pairs(overlap)
    precision = _ratio(correct_pairs, predicted_pairs)
    recall = _ratio(correct_pairs, true_pairs)

    squared = overlap.astype(np.float64) ** 2
    bcubed_precision = float((squared / customer_sizes[cell_customer]).sum()) / records
    bcubed_recall = float((squared / person_sizes[cell_person]).sum()) / records

    people_per_customer = np.bincount(cell_customer, minlength=customers)
    customers_per_person = np.bincount(cell_person, minlength=people)
    return Evaluation(
        records=records,
        people=people,
        customers=customers,
        pairwise_precision=precision,
        pairwise_recall=recall,
        pairwise_f1=_f1(precision, recall),
        bcubed_precision=bcubed_precision,
        bcubed_recall=bcubed_recall,
        bcubed_f1=_f1(bcubed_precision, bcubed_recall),
        mixed_customers=int((people_per_customer > 1).sum()),
        split_people=int((customers_per_person > 1).sum()),
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        correct_pairs=correct_pairs,
    )
