"""Batch resolution over the store, on every backend: order, stable ids, corrections."""

from __future__ import annotations

import csv
import math
import random
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from kenning.datagen import DatagenConfig, generate
from kenning.ingest.importer import Importer
from kenning.resolution.settings import ResolutionSettings
from kenning.services.identity import MODEL_NAME, evaluate_store, resolve_store
from kenning.store import Store, open_store


@pytest.fixture(scope="module")
def retailer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("retailer")
    generate(DatagenConfig(people=400, seed=11, activity=False), out)
    return out


def _files(retailer: Path) -> list[Path]:
    return sorted((retailer / "records").glob("*.csv"))


def _shuffled_copy(retailer: Path, into: Path) -> list[Path]:
    rng = random.Random(3)
    copies = []
    for path in _files(retailer):
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        header, body = rows[0], rows[1:]
        rng.shuffle(body)
        target = into / path.name
        with target.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows([header, *body])
        copies.append(target)
    copies.reverse()
    return copies


def test_resolution_is_precise_on_the_demo_retailer(store: Store, retailer: Path) -> None:
    Importer(store).import_files(_files(retailer))
    outcome = resolve_store(store)
    assert outcome.trained and outcome.records == sum(store.record_counts().values())
    result = evaluate_store(store, retailer / "truth.csv")
    assert result.pairwise_precision >= 0.95
    assert result.pairwise_recall >= 0.6
    assert result.customers < result.records


def test_same_records_in_any_order_give_the_same_customers(
    store: Store, retailer: Path, tmp_path: Path
) -> None:
    Importer(store).import_files(_files(retailer))
    resolve_store(store)
    with open_store(f"sqlite:///{tmp_path / 'shuffled.db'}") as other:
        Importer(other).import_files(_shuffled_copy(retailer, tmp_path))
        resolve_store(other)
        assert other.customer_assignments() == store.customer_assignments()


def test_a_rerun_keeps_every_id_and_records_no_change(store: Store, retailer: Path) -> None:
    Importer(store).import_files(_files(retailer))
    resolve_store(store)
    first = store.customer_assignments()
    again = resolve_store(store)
    assert not again.trained
    assert store.customer_assignments() == first
    assert (again.merges, again.splits, again.rows_written) == (0, 0, 0)


def test_a_model_of_an_earlier_versions_comparisons_is_trained_again(
    store: Store, retailer: Path
) -> None:
    Importer(store).import_files(_files(retailer))
    resolve_store(store)
    first = store.customer_assignments()
    older = store.load_model(MODEL_NAME)
    assert older is not None
    city = next(c for c in older["comparisons"] if c["name"] == "city")
    keep = [i for i, level in enumerate(city["levels"]) if level != "fuzzy"]
    for field in ("levels", "m", "u"):
        city[field] = [city[field][i] for i in keep]  # as before the fuzzy level
    store.save_model(MODEL_NAME, older)
    again = resolve_store(store)
    assert again.trained and store.customer_assignments() == first


def test_corrections_are_respected_by_every_run(store: Store, retailer: Path) -> None:
    Importer(store).import_files(_files(retailer))
    resolve_store(store)
    assignments = store.customer_assignments()
    by_customer: dict[str, list[tuple[str, str]]] = {}
    for key, customer in sorted(assignments.items()):
        by_customer.setdefault(customer, []).append(key)
    together = next(keys for keys in by_customer.values() if len(keys) >= 2)
    apart = [keys[0] for keys in list(by_customer.values())[:2]]

    assert store.add_correction("cannot_link", together[0], together[1], "two people")
    assert not store.add_correction("cannot_link", together[1], together[0], "again")
    store.add_correction("must_link", apart[0], apart[1], "same shopper, confirmed in store")
    outcome = resolve_store(store)
    after = store.customer_assignments()
    assert after[together[0]] != after[together[1]]
    assert after[apart[0]] == after[apart[1]]
    assert outcome.merges >= 1 and outcome.splits >= 1
    assert {c.kind for c in store.identity_changes()} >= {"merge", "split"}


def test_settings_round_trip(tmp_path: Path) -> None:
    settings = ResolutionSettings(threshold=0.97, blocking_rules=[["email"], ["phone"]])
    for name in ("s.json", "s.yaml"):
        settings.dump(tmp_path / name)
        assert ResolutionSettings.load(tmp_path / name) == settings
    with pytest.raises(ValueError, match="threshold"):
        ResolutionSettings.model_validate({"threshold": 1.5})


def test_explanation_adds_up_to_the_decision(store: Store, retailer: Path, tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    from click.testing import CliRunner

    from kenning.cli import cli
    from kenning.services.identity import explain_records

    Importer(store).import_files(_files(retailer))
    resolve_store(store)
    assignments = store.customer_assignments()
    by_customer: dict[str, list[tuple[str, str]]] = {}
    for key, customer in sorted(assignments.items()):
        by_customer.setdefault(customer, []).append(key)
    a, b = next(keys for keys in by_customer.values() if len(keys) >= 2)[:2]
    explanation, ca, cb = explain_records(store, a, b)
    assert ca == cb
    parts = explanation.prior_weight + sum(s.weight + s.tf_adjustment for s in explanation.steps)
    assert explanation.total == pytest.approx(parts)
    assert 0.0 <= explanation.probability <= 1.0
    # One customer: the pair passed the threshold it needed, names-only margin included.
    assert explanation.needed >= explanation.threshold_weight
    household = sum(
        max(0.0, s.weight + s.tf_adjustment)
        for s in explanation.steps
        if s.comparison in {"last_name", "address", "postcode", "city"}
    )
    assert explanation.household_weight == pytest.approx(household)

    if store.dialect == "sqlite":
        chart = tmp_path / "why.svg"
        result = CliRunner().invoke(
            cli,
            [
                "--db",
                store.url,
                "explain",
                f"{a[0]}:{a[1]}",
                f"{b[0]}:{b[1]}",
                "--chart",
                str(chart),
            ],
        )
        assert result.exit_code == 0, result.output
        text = " ".join(result.output.split())  # the console wraps at 80 columns
        assert "Match weight" in text and "the same customer" in text
        assert ET.parse(chart).getroot().tag.endswith("svg")
        bad = CliRunner().invoke(cli, ["--db", store.url, "explain", "nocolon", "pos:1"])
        assert bad.exit_code == 2 and "SOURCE:RECORD_ID" in bad.output

    # The explanation weighs the pair by the settings the last run used, not the defaults.
    resolve_store(store, ResolutionSettings(threshold=0.9, name_only_threshold=None))
    again, _, _ = explain_records(store, a, b)
    assert again.threshold_weight == pytest.approx(math.log2(9))


def test_reviewed_pairs_correct_the_model(store: Store, retailer: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from kenning.cli import cli
    from kenning.resolution.model import Model
    from kenning.services.identity import MODEL_NAME, read_labelled_pairs

    Importer(store).import_files(_files(retailer))
    resolve_store(store)
    unlabelled = Model.from_dict(store.load_model(MODEL_NAME) or {})
    truth = csv.DictReader((retailer / "truth.csv").open(encoding="utf-8"))
    people: dict[str, list[tuple[str, str]]] = {}
    for row in truth:
        people.setdefault(row["person_id"], []).append((row["source"], row["record_id"]))
    groups = [keys for keys in people.values() if len(keys) >= 2][:150]
    labels = tmp_path / "labels.csv"
    with labels.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(("source_a", "record_id_a", "source_b", "record_id_b", "match"))
        for keys, other in pairwise(groups):
            out.writerow((*keys[0], *keys[1], "1"))
            out.writerow((*keys[0], *other[0], "0"))
    pairs = read_labelled_pairs(labels)
    assert len(pairs) == 2 * (len(groups) - 1) and pairs[0][2] and not pairs[1][2]

    outcome = resolve_store(store, labelled=pairs)
    assert outcome.trained  # labels only matter to training, so they retrain
    labelled = Model.from_dict(store.load_model(MODEL_NAME) or {})
    assert labelled.labelled_pairs == len(pairs)
    assert [c.m for c in labelled.comparisons] != [c.m for c in unlabelled.comparisons]

    if store.dialect == "sqlite":
        bad = tmp_path / "bad.csv"
        bad.write_text("source_a,record_id_a,source_b,record_id_b,match\npos,1,web,2,maybe\n")
        result = CliRunner().invoke(cli, ["--db", store.url, "resolve", "--labels", str(bad)])
        assert result.exit_code != 0 and "bad.csv:2: match must be 1 or 0" in result.output


def test_pairs_refused_anyway_leave_the_customers_as_the_walk_makes_them(
    store: Store, retailer: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Households' pairs the walk would refuse whatever came before are left out of it;
    # the customers must be those the walk makes with them.
    from kenning.resolution import pipeline
    from kenning.services.identity import load_table

    Importer(store).import_files(_files(retailer))
    table = load_table(store)
    refused = []
    original = pipeline._refused_anyway

    def spied(*args: object) -> np.ndarray:
        refused.append(original(*args))  # type: ignore[arg-type]
        return refused[-1]

    monkeypatch.setattr(pipeline, "_refused_anyway", spied)
    quick = pipeline.resolve(table)
    assert refused[0].sum() > 10  # households' pairs, above the threshold
    monkeypatch.setattr(pipeline, "_refused_anyway", lambda *a: np.zeros(len(a[2]), bool))
    full = pipeline.resolve(table, model=quick.model)
    assert quick.labels.tolist() == full.labels.tolist()


def test_records_of_families_and_copies_of_one_person_are_told_apart() -> None:
    from kenning.resolution.features import build_features
    from kenning.resolution.model import household_rate

    def homes(people: list[tuple[str, str]]) -> dict[str, list[str | None]]:
        # 60 addresses, each with these (first name, birth date) records.
        rows = [(str(n), first, dob) for n in range(60) for first, dob in people]
        return {
            "house_number": [n for n, _, _ in rows],
            "street": ["high st"] * len(rows),
            "first_name": [f for _, f, _ in rows],
            "date_of_birth": [d for _, _, d in rows],
        }

    family = homes([("ann", "1970-01-02"), ("bob", "1968-05-06"), ("cy", "2001-03-04")])
    copies = homes([("ann", "1970-01-02"), ("ann", "1970-01-02"), ("zoe", "1970-01-02")])
    assert household_rate(build_features(family)) == 1.0
    assert household_rate(build_features(copies)) == 0.0
    assert household_rate(build_features(homes([("ann", "1970-01-02")]))) is None
