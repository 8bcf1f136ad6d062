"""Identity review (active learning): a person answers link or no-link on the pairs the
last batch run was least sure of, and the next batch run trains on the answers.

Answers teach the model, as dedupe's and Zingg's do: they move the weights of every pair
that agrees and differs as the answered pair does, and a pair answered "link" may still stay
apart when its records conflict (two birth dates). They are not corrections: a must-link or
cannot-link (POST /v1/identity/links, /unlinks) binds every run whatever the model says, and
applies at once. Keeping the two apart keeps a reviewer's many quick judgements from
overruling the evidence, and an operator's few deliberate ones from being outvoted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from kenning.domain.refusals import Refusal
from kenning.resolution.explain import Explanation
from kenning.store import Store
from kenning.store.review import ReviewAnswer, ordered

RecordKey = tuple[str, str]
LabelledPair = tuple[RecordKey, RecordKey, bool]
Values = dict[str, str | None]
# In the models table: the answers the stored model was trained with (their digest), so
# the next batch run trains again when they changed.
REVIEW_NAME = "review"


@dataclass(frozen=True)
class ReviewItem:
    a: RecordKey
    b: RecordKey
    explanation: Explanation  # with the records' current values
    records: tuple[Values, Values]  # their normalised values
    customers: tuple[str | None, str | None]


def pairs_to_review(store: Store, limit: int, offset: int = 0) -> list[ReviewItem]:
    """The pairs nobody has answered yet, most uncertain first; pairs a record of which
    is gone since the run that chose them are left out."""
    rows = store.review_pairs(limit, offset)
    keys = [key for row in rows for key in (row.a, row.b)]
    records = {(r.source, r.record_id): r.normalised for r in store.get_records(keys)}
    customers = store.customers_of(keys)
    items = []
    for row in rows:
        a, b = records.get(row.a), records.get(row.b)
        if a is None or b is None:
            continue
        items.append(
            ReviewItem(
                row.a,
                row.b,
                Explanation.from_numbers(row.explanation, a, b),
                (a, b),
                (customers.get(row.a), customers.get(row.b)),
            )
        )
    return items


def item_json(item: ReviewItem) -> dict[str, Any]:
    """A pair to review as JSON (`kenning review --list --json` and the API): the records'
    values, their customers, and the waterfall (prior, then each comparison's weight)."""
    e = item.explanation
    return {
        "a": {"source": item.a[0], "record_id": item.a[1], "customer_id": item.customers[0],
              "values": item.records[0]},
        "b": {"source": item.b[0], "record_id": item.b[1], "customer_id": item.customers[1],
              "values": item.records[1]},
        "probability": e.probability,
        "weight": e.total,
        "needed": e.needed,
        "waterfall": {
            "prior_weight": e.prior_weight,
            "names_only_margin": e.names_only_margin,
            "threshold_weight": e.threshold_weight,
            "steps": [asdict(step) for step in e.steps],
        },
    }  # fmt: skip


def answer(
    store: Store,
    a: RecordKey,
    b: RecordKey,
    link: bool,
    *,
    answered_by: str | None,
    note: str | None,
    now: datetime,
) -> ReviewAnswer:
    """Keep a person's answer on two records (replacing an earlier one on them); the next
    `kenning resolve` trains on it."""
    if a == b:
        raise Refusal("invalid", "a record is always one person with itself")
    found = {(r.source, r.record_id) for r in store.get_records([a, b])}
    for key in (a, b):
        if key not in found:
            raise Refusal("not_found", f"no record {key[0]}:{key[1]}")
    store.answer_review(a, b, link, answered_by=answered_by, note=note, answered_at=now)
    first, second = ordered(a, b)
    return ReviewAnswer(first, second, link, answered_by, note, now.isoformat())


def answered_pairs(answers: Sequence[ReviewAnswer]) -> list[LabelledPair]:
    return [(r.a, r.b, r.link) for r in answers]


def digest(pairs: Sequence[LabelledPair]) -> str:
    """A fingerprint of labelled pairs: equal when the same pairs have the same labels."""
    text = "\n".join(f"{a}\x1f{b}\x1f{int(same)}" for a, b, same in sorted(pairs))
    return hashlib.sha256(text.encode()).hexdigest()
