"""Identity resolution over the whole store: load, resolve, keep ids, record what changed."""

from __future__ import annotations

import csv
import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kenning.domain.normalised import NORMALISED_FIELDS
from kenning.resolution.arrays import distinct
from kenning.resolution.comparisons import default_comparisons
from kenning.resolution.evaluation import Evaluation, evaluate
from kenning.resolution.explain import Explanation, explain_pair
from kenning.resolution.features import Column, Features, build_features
from kenning.resolution.ids import assign_ids
from kenning.resolution.model import Model
from kenning.resolution.pipeline import RecordTable, resolve, shared_when_big
from kenning.resolution.prior import REGENERATE, usable_prior
from kenning.resolution.settings import ResolutionSettings
from kenning.resolution.sharing import every_decision
from kenning.services import review
from kenning.services.matching import (
    SETTINGS_NAME,
    SHARING_NAME,
    change_rows,
    component_label,
    correction_pairs,
    describe_model,
    model_in_use,
    stored_settings,
)
from kenning.store import Store
from kenning.store.review import ordered

MODEL_NAME = "default"
RecordKey = tuple[str, str]
LabelledPair = tuple[RecordKey, RecordKey, bool]
# two records, and whether one person
# Pending records read at most by a batch run: followers leave a run's few hundred.
PENDING_READ = 1_000_000


@dataclass
class ResolveOutcome:
    records: int
    customers: int
    pairs_scored: int
    pairs_above_threshold: int
    merges_refused: int
    trained: bool  # a model was trained (and stored) by this run
    merges: int
    splits: int
    rows_written: int
    warnings: list[str] = field(default_factory=list)
    to_review: int = 0  # pairs kept for `kenning review`
    answers: int = 0  # review answers the model was trained with (when trained)
    model: str = ""  # the model the run resolved with, in words (see describe_model)


@dataclass
class ModelReport:
    """Which model resolves this store, and why (`kenning model show`)."""

    model: Model | None  # None: none fits the comparisons
    described: str
    trained_at: str | None  # when the stored model was trained; None for the prior
    records: int  # records in the store
    train_from_records: int
    notes: list[str]


def model_report(store: Store) -> ModelReport:
    model = model_in_use(store, MODEL_NAME)
    stamp = store.model_stamp(MODEL_NAME)
    settings = stored_settings(store)
    records = sum(store.record_counts().values())
    notes: list[str] = []
    if stamp is not None and (model is None or model.source == "prior"):
        notes.append("the stored model is for other comparisons: `kenning resolve` trains again")
    if model is None:
        notes.append(f"the shipped prior model is for other comparisons: `{REGENERATE}`")
    elif model.source == "prior":
        if records >= settings.train_from_records:
            notes.append(
                f"{records:,} records: the next `kenning resolve` trains a model of this store's"
            )
        else:
            notes.append(
                f"{records:,} records: `kenning resolve` trains a model of this store's from "
                f"{settings.train_from_records:,} (setting train_from_records)"
            )
    return ModelReport(
        model,
        "none" if model is None else describe_model(model),
        None if model is None or model.source == "prior" else str(stamp),
        records,
        settings.train_from_records,
        notes,
    )


def load_table(store: Store) -> RecordTable:
    keys, values = store.normalised_columns()  # in key order, as RecordTable wants
    return RecordTable(keys, dict(zip(NORMALISED_FIELDS, values, strict=True)))


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """A batch run holds tens of millions of long-lived strings and tuples and creates
    millions more; the cycle collector would rescan them all again and again (40% of the
    run on a million records). What a run creates holds no reference cycles worth waiting
    for, so the collector rests until it ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def resolve_store(
    store: Store,
    settings: ResolutionSettings | None = None,
    *,
    retrain: bool = False,
    labelled: Sequence[LabelledPair] = (),
    progress: Callable[[str], None] | None = None,
) -> ResolveOutcome:
    """Resolve the whole store, with the stored model, else one trained now when the store
    holds ``settings.train_from_records`` records, else the shipped prior. ``retrain``
    trains now whatever is stored and however few the records. Labelled pairs (known one
    person or two), given here or answered in review since the model was trained, mean
    training again, since only training uses them; a pair both labels, the label given
    here decides."""
    with _without_cycle_collection():
        return _resolve_store(
            store, settings, retrain=retrain, labelled=labelled, progress=progress
        )


def _resolve_store(
    store: Store,
    settings: ResolutionSettings | None,
    *,
    retrain: bool,
    labelled: Sequence[LabelledPair],
    progress: Callable[[str], None] | None,
) -> ResolveOutcome:
    say = progress or (lambda _: None)
    settings = settings or ResolutionSettings()
    answered = review.answered_pairs(store.review_answers())
    trained_with = store.load_model(review.REVIEW_NAME) or {"answers": review.digest([])}
    retrain = retrain or bool(labelled) or trained_with["answers"] != review.digest(answered)
    labelled = list({ordered(a, b): (a, b, same) for a, b, same in [*answered, *labelled]}.values())
    say("loading records")
    generation = store.identity_generation()  # before the read: see _settled_pending
    table = load_table(store)
    stored = None if retrain else store.load_model(MODEL_NAME)
    model = Model.from_dict(stored) if stored else None
    warnings: list[str] = []
    if model is not None and not model.matches(default_comparisons()):
        # Trained by an earlier version, whose comparisons had other levels: the model is
        # learnt from the records, so it is learnt again.
        say("the stored model is for other comparisons: training a new one")
        model = None
    if model is None and not retrain and len(table) < settings.train_from_records:
        model = usable_prior()
        if model is None:
            warnings.append(f"the shipped prior model is for other comparisons: `{REGENERATE}`")
    must, cannot = correction_pairs(store.corrections())
    resolution = resolve(
        table, settings, model=model, must_link=must, cannot_link=cannot, labelled=labelled,
        review=settings.review_pairs, progress=say,
    )  # fmt: skip
    trained = model is None
    say("assigning customer ids")
    previous = store.customer_assignments()
    ids, changes = assign_ids(table.keys, resolution.labels, previous)
    names = _component_labels(table.keys, resolution.components)
    rows = [
        (source, record_id, customer, component)
        for (source, record_id), customer, component in zip(
            table.keys,
            _per_record(ids, resolution.labels),
            _per_record(names, resolution.components),
            strict=True,
        )
    ]
    say("saving")
    with store.transaction():
        settled = _settled_pending(store, table, generation)
        if trained:
            store.save_model(MODEL_NAME, resolution.model.to_dict())
            store.save_model(review.REVIEW_NAME, {"answers": review.digest(answered)})
        store.save_model(SETTINGS_NAME, settings.model_dump(mode="json"))
        store.replace_review_pairs([(a, b, e.numbers()) for a, b, e in resolution.uncertain])
        keep_sharing(store, resolution.features)
        written = store.update_assignments(
            rows,
            previous,
            previous_components=store.component_assignments() if previous else {},
            remove=_vanished(store, previous, table.keys),
        )
        store.append_identity_changes(change_rows(changes))
        store.remove_pending(settled)
    return ResolveOutcome(
        records=len(table),
        customers=len(ids),
        pairs_scored=resolution.pairs_scored,
        pairs_above_threshold=resolution.pairs_above_threshold,
        merges_refused=resolution.merges_refused,
        trained=trained,
        merges=sum(1 for c in changes if c.kind == "merge"),
        splits=sum(1 for c in changes if c.kind == "split"),
        rows_written=written,
        warnings=[*warnings, *resolution.blocking.warnings],
        to_review=len(resolution.uncertain),
        answers=len(answered) if trained else 0,
        model=describe_model(resolution.model),
    )


def _settled_pending(store: Store, table: RecordTable, generation: int) -> list[RecordKey]:
    """The records a follower indexed and has not placed (pending) that this run places
    with the values it read: those indexed again since ``generation`` (read before the
    records) stay pending, for the follower to resolve with their new values."""
    pending = store.pending(PENDING_READ)
    if not pending:
        return []
    since = store.written_since(generation, "v")
    if since is None:  # what was written meanwhile cannot be told: leave them all
        return []
    return [key for key in table.index(pending) if key not in since]


def keep_sharing(store: Store, features: Features) -> None:
    """Keep which identifier values these features (of every record) decided shared, for
    the real-time matcher (see resolution/sharing.py), in place of all kept before."""
    shared = every_decision(features)
    store.replace_all_shared_values(shared)
    store.save_model(SHARING_NAME, {"shared_values": len(shared)})


def decide_sharing(
    store: Store, settings: ResolutionSettings, columns: Mapping[str, Column] | None = None
) -> bool:
    """Decide over every record (their normalised ``columns``, read when not given) which
    identifier values are shared, as a batch run with the model in use would, and keep
    it: for a store whose values changed outside resolution (an import indexed at once, a
    rebuild), or resolved before decisions were kept. False when no model fits the
    comparisons (the first batch run keeps them)."""
    model = model_in_use(store, MODEL_NAME)
    if model is None:
        return False
    counts = model.name_counts()
    with _without_cycle_collection():
        columns = columns or load_table(store).columns
        features = build_features(columns, settings.shared_threshold, name_counts=counts)
        shared_when_big(features, None, settings.max_block)
        keep_sharing(store, features)
    return True


def _vanished(
    store: Store, previous: Mapping[RecordKey, str], resolved: Sequence[RecordKey]
) -> list[RecordKey]:
    """Records with a customer that this run did not see and that are gone from the store.
    One the real-time matcher placed while this run was working is still there: kept."""
    if not previous:
        return []
    seen = set(resolved)
    unseen = [key for key in previous if key not in seen]
    still = store.record_states(unseen)
    return [key for key in unseen if key not in still]


def _component_labels(keys: Sequence[RecordKey], smallest: np.ndarray) -> dict[int, str]:
    """Each component's stored name, by its smallest record index."""
    return {i: component_label(keys[i]) for i in distinct(smallest).tolist()}


def _per_record(named: Mapping[int, str], labels: np.ndarray) -> list[str]:
    """Each record's name of its label: one gather, not a million dict look-ups."""
    names = np.empty(len(labels), dtype=object)
    names[np.fromiter(named, np.int64, len(named))] = list(named.values())
    per_record: list[str] = names[labels].tolist()
    return per_record


def export_customers(store: Store, out: Path) -> int:
    """CSV of source, record_id, customer_id; one row per record, in key order."""
    assignments = store.customer_assignments()
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("source", "record_id", "customer_id"))
        for (source, record_id), customer in sorted(assignments.items()):
            writer.writerow((source, record_id, customer))
    return len(assignments)


_LABEL_COLUMNS = ("source_a", "record_id_a", "source_b", "record_id_b", "match")
_YES, _NO = frozenset({"1", "true", "yes", "y"}), frozenset({"0", "false", "no", "n"})


def read_labelled_pairs(path: Path) -> list[LabelledPair]:
    """Pairs a person reviewed: CSV with source_a, record_id_a, source_b, record_id_b and
    match (1/0, true/false, yes/no)."""
    pairs: list[LabelledPair] = []
    for line, row in _csv_rows(path, _LABEL_COLUMNS):
        answer = (row["match"] or "").strip().lower()
        if answer not in _YES | _NO:
            raise ValueError(f"{path}:{line}: match must be 1 or 0, not {row['match']!r}")
        a, b = (row["source_a"], row["record_id_a"]), (row["source_b"], row["record_id_b"])
        pairs.append((a, b, answer in _YES))
    return pairs


def read_truth(path: Path) -> dict[RecordKey, str]:
    rows = _csv_rows(path, ("source", "record_id", "person_id"))
    return {(row["source"], row["record_id"]): row["person_id"] for _, row in rows}


def _csv_rows(path: Path, required: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of a CSV file that must have the `required` columns."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = set(required) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing columns {', '.join(sorted(missing))}")
        yield from enumerate(reader, start=2)


def evaluate_store(store: Store, truth: Path) -> Evaluation:
    predicted = store.customer_assignments()
    if not predicted:
        raise ValueError("no customers yet: run `kenning resolve` first")
    return evaluate(predicted, read_truth(truth))


def explain_records(
    store: Store, a: RecordKey, b: RecordKey, settings: ResolutionSettings | None = None
) -> tuple[Explanation, str | None, str | None]:
    """The stored model's reasoning about two records, and their current customers.

    Features are built over every record, as in batch resolution, so that shared
    identifiers and term frequencies are the ones the decision used.
    """
    model = model_in_use(store, MODEL_NAME)
    if model is None:
        raise ValueError("no model fits these comparisons: run `kenning resolve` first")
    table = load_table(store)
    index = table.index((a, b))
    for key in (a, b):
        if key not in index:
            raise ValueError(f"no record {key[0]}:{key[1]}")
    # The settings of the last run, which decided what is shown as decided.
    settings = settings or stored_settings(store)
    comparisons = default_comparisons()
    features = build_features(
        table.columns, settings.shared_threshold, name_counts=model.name_counts()
    )
    shared_when_big(features, None, settings.max_block)
    explanation = explain_pair(
        model,
        comparisons,
        features,
        index[a],
        index[b],
        settings.threshold_weight,
        settings.name_only_margin,
    )
    return explanation, store.customer_of(*a), store.customer_of(*b)
