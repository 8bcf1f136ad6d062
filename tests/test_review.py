"""Identity review on every backend: the pairs a batch run was least sure of, answers kept
once per pair, and the next run trained on them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson
import pytest
from click.testing import CliRunner

from kenning.cli import cli
from kenning.datagen import DatagenConfig, generate
from kenning.domain.refusals import Refusal
from kenning.ingest.importer import Importer
from kenning.resolution.model import Model
from kenning.resolution.review import most_uncertain, nearest
from kenning.resolution.settings import ResolutionSettings
from kenning.services import review
from kenning.services.identity import MODEL_NAME, explain_records, resolve_store
from kenning.store import Store

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def retailer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("retailer")
    generate(DatagenConfig(people=300, seed=4, activity=False), out)
    return out


@pytest.fixture
def resolved(store: Store, retailer: Path) -> Store:
    Importer(store).import_files(sorted((retailer / "records").glob("*.csv")))
    resolve_store(store, retrain=True)  # 992 records: trained as asked, not the prior
    return store


def test_an_answer_is_kept_once_per_pair_the_latest_standing(store: Store) -> None:
    a, b = ("web", "9"), ("pos", "10")
    store.answer_review(a, b, True, answered_by="ann", note=None, answered_at=NOW)
    store.answer_review(b, a, False, answered_by="bob", note="twins", answered_at=NOW)
    (kept,) = store.review_answers()
    assert (kept.a, kept.b) == (b, a)  # in key order, whichever way it was given
    assert (kept.link, kept.answered_by, kept.note) == (False, "bob", "twins")
    assert kept.answered_at.startswith("2026-12-05")


def test_the_pairs_nearest_the_threshold_are_kept_with_their_waterfall(resolved: Store) -> None:
    items = review.pairs_to_review(resolved, 1000)
    assert 0 < len(items) <= ResolutionSettings().review_pairs
    assert len({(i.a, i.b) for i in items}) == len(items)
    # The kept waterfall is the decision's: it adds up as explaining the pair anew does.
    for item in items[:3]:
        again, customer_a, customer_b = explain_records(resolved, item.a, item.b)
        assert item.explanation.total == pytest.approx(again.total)
        assert item.explanation.needed == pytest.approx(again.needed)
        assert [s.left for s in item.explanation.steps] == [s.left for s in again.steps]
        assert item.customers == (customer_a, customer_b)
    # Nearest the threshold: a few are far nearer than the scored pairs on the whole.
    resolve_store(resolved, ResolutionSettings(review_pairs=10_000))
    every = _distances(review.pairs_to_review(resolved, 10_000))
    resolve_store(resolved, ResolutionSettings(review_pairs=20))
    few = _distances(review.pairs_to_review(resolved, 10_000))
    assert len(few) == 20 and len(every) > 10 * len(few)
    assert np.median(few) < np.percentile(every, 10)
    shown = review.item_json(items[0])
    assert shown["a"]["values"]["first_name"] == items[0].records[0]["first_name"]
    assert len(shown["waterfall"]["steps"]) == len(items[0].explanation.steps)


def _distances(items: list[review.ReviewItem]) -> np.ndarray:
    return np.array([abs(i.explanation.total - i.explanation.needed) for i in items])


def test_answers_leave_the_list_and_train_the_next_run(resolved: Store) -> None:
    before = Model.from_dict(resolved.load_model(MODEL_NAME) or {})
    assert before.labelled_pairs == 0
    listed = review.pairs_to_review(resolved, 1000)

    def levels(pair: review.ReviewItem) -> set[tuple[str, str]]:
        steps = explain_records(resolved, pair.a, pair.b)[0].steps
        return {(s.comparison, s.level) for s in steps if s.level != "null"}

    # Two pairs that share no level: the no-link answer moves u of its levels and the link
    # answer m of its own, so each answer's effect on its own pair shows alone.
    no, yes = next(
        (x, y) for x in listed for y in listed if x is not y and not levels(x) & levels(y)
    )
    was = {(p.a, p.b): explain_records(resolved, p.a, p.b)[0].total for p in (no, yes)}
    review.answer(resolved, no.a, no.b, False, answered_by="t", note=None, now=NOW)
    review.answer(resolved, yes.b, yes.a, True, answered_by="t", note=None, now=NOW)
    listed = {(i.a, i.b) for i in review.pairs_to_review(resolved, 1000)}
    assert (no.a, no.b) not in listed and (yes.a, yes.b) not in listed

    outcome = resolve_store(resolved)
    assert outcome.trained and outcome.answers == 2
    after = Model.from_dict(resolved.load_model(MODEL_NAME) or {})
    assert after.labelled_pairs == 2
    # Two people: what the pair agrees on counts for less; one person: for more.
    assert explain_records(resolved, no.a, no.b)[0].total < was[no.a, no.b]
    assert explain_records(resolved, yes.a, yes.b)[0].total > was[yes.a, yes.b]
    # Answered pairs are not chosen again; the same answers do not train again.
    kept = {(i.a, i.b) for i in review.pairs_to_review(resolved, 1000)}
    assert (no.a, no.b) not in kept and (yes.a, yes.b) not in kept
    again = resolve_store(resolved)
    assert not again.trained and again.answers == 0


def test_an_answer_names_two_records_that_exist(resolved: Store) -> None:
    (source, record_id), _ = next(iter(resolved.customer_assignments().items()))
    with pytest.raises(Refusal) as refused:
        review.answer(
            resolved, (source, record_id), ("pos", "nobody"), True,
            answered_by=None, note=None, now=NOW,
        )  # fmt: skip
    assert refused.value.code == "not_found"
    with pytest.raises(Refusal) as same:
        review.answer(
            resolved, (source, record_id), (source, record_id), True,
            answered_by=None, note=None, now=NOW,
        )  # fmt: skip
    assert same.value.code == "invalid"
    assert resolved.review_answers() == []


def test_review_on_the_command_line(resolved: Store) -> None:
    run = CliRunner()
    first, second, third = review.pairs_to_review(resolved, 3)
    interactive = run.invoke(cli, ["--db", resolved.url, "review", "--by", "ann"], "y\nn\ns\nq\n")
    assert interactive.exit_code == 0, interactive.output
    assert "1 linked, 1 not linked, 1 skipped" in interactive.output
    assert "Pair 1 of" in interactive.output and "Match weight" in interactive.output
    answers = {(r.a, r.b): r for r in resolved.review_answers()}
    assert set(answers) == {(first.a, first.b), (second.a, second.b)}
    assert answers[first.a, first.b].link and not answers[second.a, second.b].link
    assert answers[first.a, first.b].answered_by == "ann"

    listed = run.invoke(cli, ["--db", resolved.url, "review", "--list", "--json"])
    assert listed.exit_code == 0, listed.output
    pairs = orjson.loads(listed.output)
    names = [((p["a"]["source"], p["a"]["record_id"]), (p["b"]["source"], p["b"]["record_id"]))
             for p in pairs]  # fmt: skip
    assert names[0] == (third.a, third.b) and (first.a, first.b) not in names

    name = f"{third.a[0]}:{third.a[1]}", f"{third.b[0]}:{third.b[1]}"
    scripted = run.invoke(cli, ["--db", resolved.url, "review", "--answer", *name, "no-link"])
    assert scripted.exit_code == 0, scripted.output
    assert not {(r.a, r.b): r for r in resolved.review_answers()}[third.a, third.b].link
    unknown = run.invoke(
        cli, ["--db", resolved.url, "review", "--answer", name[0], "pos:x", "link"]
    )
    assert unknown.exit_code == 1 and "no record pos:x" in unknown.output
    wrong = run.invoke(cli, ["--db", resolved.url, "review", "--answer", *name, "maybe"])
    assert wrong.exit_code == 2 and "link or no-link" in wrong.output


def test_the_choice_spreads_over_level_patterns_and_records() -> None:
    # 500 pairs of one level pattern nearest the threshold, 50 of another a little further,
    # 10 of a third that the model is sure of.
    weights = np.r_[np.full(500, 4.0), np.full(50, 6.0), np.full(10, 40.0)]
    levels = np.zeros((len(weights), 3), np.int8)
    levels[500:, 0] = 1
    levels[550:, 1] = 1
    left = np.arange(len(weights), dtype=np.int64)
    right = left + 5000
    chosen = most_uncertain(weights, levels, left, right, 4.0, 40, np.empty(0, np.int64), 10_000)
    assert len(chosen) == 40
    # Each pattern has its share (5% of 40: two) before either has more.
    assert sorted(levels[chosen[:4], 0].tolist()) == [0, 0, 1, 1]
    assert chosen.max() < 550
    # A record in several near pairs: the others come first.
    weights[:500] += np.arange(500) * 1e-4
    right[:20] = 7000
    chosen = most_uncertain(weights, levels, left, right, 4.0, 5, np.empty(0, np.int64), 10_000)
    assert (right[chosen] == 7000).sum() == 1
    # Answered pairs are skipped; infinite weights (never to join) are never chosen.
    skip = left[:500] * 10_000 + right[:500]
    chosen = most_uncertain(weights, levels, left, right, 4.0, 40, skip, 10_000)
    assert chosen.min() >= 500 and len(chosen) == 40
    assert nearest(np.array([-np.inf, 1.0, np.inf, 0.5]), 0.0, 3, 8.0).tolist() == [3, 1]
    assert nearest(np.array([9.0, 1.0, 3.0]), 0.0, 3, 8.0).tolist() == [1, 2]
    assert nearest(np.array([1.0, 1.0, 1.0]), 1.0, 2, 8.0).tolist() == [0, 1]
