"""Commands for identity: resolve, explain, review, export customers, evaluate against a
truth file."""

from __future__ import annotations

import getpass
import time
from datetime import UTC, datetime
from pathlib import Path

import click
import orjson
from rich.table import Table

from kenning.cli.app import Context, cli, console, out, pass_context
from kenning.domain.refusals import Refusal
from kenning.resolution.explain import Explanation, waterfall_svg
from kenning.resolution.prior import PRIOR_FILE
from kenning.resolution.settings import ResolutionSettings
from kenning.services import review as review_service
from kenning.services.identity import (
    evaluate_store,
    explain_records,
    export_customers,
    model_report,
    read_labelled_pairs,
    resolve_store,
)
from kenning.services.prior import PRIOR_PEOPLE, PRIOR_SEED, train_prior
from kenning.store import Store

RecordKey = tuple[str, str]


@cli.command()
@click.option(
    "--settings",
    "settings_file",
    type=click.Path(path_type=Path, exists=True),
    help="Resolution settings (JSON or YAML); retail defaults otherwise.",
)
@click.option(
    "--retrain",
    is_flag=True,
    help="Train a model now, even if one is stored or the store holds fewer records than "
    "the settings' train_from_records.",
)
@click.option(
    "--labels",
    "labels_file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Reviewed pairs (CSV: source_a, record_id_a, source_b, record_id_b, match) that "
    "correct the model's weights; implies --retrain.",
)
@pass_context
def resolve(
    ctx: Context, settings_file: Path | None, retrain: bool, labels_file: Path | None
) -> None:
    """Link every source record to one customer (trains a model first when none is stored
    and the store holds enough records; resolves with the shipped prior model before)."""
    try:
        settings = ResolutionSettings.load(settings_file) if settings_file else ResolutionSettings()
    except ValueError as exc:
        raise click.ClickException(f"{settings_file}: {exc}") from None
    try:
        labelled = read_labelled_pairs(labels_file) if labels_file else []
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    start = time.perf_counter()
    with ctx.open() as store, console.status("Resolving") as status:

        def progress(step: str) -> None:
            status.update(f"Resolving: {step} ({time.perf_counter() - start:.1f} s)")

        outcome = resolve_store(
            store, settings, retrain=retrain, labelled=labelled, progress=progress
        )
    seconds = time.perf_counter() - start
    table = Table(title="Identity resolution", show_header=False, title_justify="left")
    table.add_row("records", f"{outcome.records:,}")
    table.add_row("customers", f"{outcome.customers:,}")
    table.add_row("candidate pairs scored", f"{outcome.pairs_scored:,}")
    table.add_row("pairs above the threshold", f"{outcome.pairs_above_threshold:,}")
    table.add_row("merges refused (conflicting identities)", f"{outcome.merges_refused:,}")
    table.add_row("model", ("trained now: " if outcome.trained else "") + outcome.model)
    table.add_row("merges / splits since last run", f"{outcome.merges:,} / {outcome.splits:,}")
    if outcome.answers:
        table.add_row("review answers trained on", f"{outcome.answers:,}")
    table.add_row("pairs to review (`kenning review`)", f"{outcome.to_review:,}")
    table.add_row("time", f"{seconds:.1f} s")
    out.print(table)
    for warning in outcome.warnings:
        console.print(f"[yellow]warning[/] {warning}", highlight=False)


@cli.group()
def export() -> None:
    """Export what Kenning knows."""


@export.command("customers")
@click.option("--out", "out_file", type=click.Path(path_type=Path), required=True)
@pass_context
def export_customers_command(ctx: Context, out_file: Path) -> None:
    """CSV of source, record_id, customer_id: one row per record."""
    with ctx.open() as store:
        rows = export_customers(store, out_file)
    out.print(f"{rows:,} records written to {out_file}")


@cli.command()
@click.option(
    "--truth",
    type=click.Path(path_type=Path, exists=True),
    required=True,
    help="CSV with source, record_id, person_id.",
)
@pass_context
def evaluate(ctx: Context, truth: Path) -> None:
    """Score the customers against known truth: pairwise and B-cubed precision and recall."""
    with ctx.open() as store:
        try:
            result = evaluate_store(store, truth)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    table = Table(title="Evaluation", show_header=False, title_justify="left")
    for name, value in result.as_dict().items():
        table.add_row(
            name.replace("_", " "), f"{value:.4f}" if isinstance(value, float) else f"{value:,}"
        )
    out.print(table)


def _record_key(text: str) -> tuple[str, str]:
    source, sep, record_id = text.partition(":")
    if not sep or not source or not record_id:
        raise click.BadParameter(f"{text!r}: write a record as SOURCE:RECORD_ID")
    return source, record_id


def _waterfall(explanation: Explanation, first: str, second: str) -> Table:
    """The two records' values side by side, each comparison's level and weight."""
    table = Table(title=f"{first}  vs  {second}", title_justify="left")
    for column in ("comparison", first, second, "level", "weight"):
        table.add_column(column, justify="right" if column == "weight" else "left")
    table.add_row("prior (base rate)", "", "", "", f"{explanation.prior_weight:+.2f}")
    for step in explanation.steps:
        level = step.level + (
            " (shared: no evidence)" if step.shared and step.level == "null" else ""
        )
        weight = f"{step.weight:+.2f}"
        if step.tf_adjustment:
            weight += f" {step.tf_adjustment:+.2f} tf"
        colour = (
            "green" if step.weight + step.tf_adjustment > 0 else "red" if step.weight < 0 else ""
        )
        table.add_row(
            step.comparison,
            step.left,
            step.right,
            level,
            f"[{colour}]{weight}[/]" if colour else weight,
        )
    return table


def _verdict(explanation: Explanation) -> str:
    verdict = "above" if explanation.total >= explanation.needed else "below"
    return (
        f"Match weight {explanation.total:+.2f} bits, probability {explanation.probability:.4f} "
        f"({verdict} the threshold of {explanation.needed:+.2f})."
    )


def _customers_now(customer_a: str | None, customer_b: str | None) -> str:
    same = customer_a is not None and customer_a == customer_b
    return f"Customers now: {customer_a or 'none'} and {customer_b or 'none'}" + (
        " — the same customer." if same else "."
    )


@cli.command()
@click.argument("first")
@click.argument("second")
@click.option(
    "--chart",
    type=click.Path(path_type=Path),
    help="Write a waterfall chart of the weights (.html or .svg).",
)
@pass_context
def explain(ctx: Context, first: str, second: str, chart: Path | None) -> None:
    """Why two records (SOURCE:ID SOURCE:ID) are or are not one customer."""
    a, b = _record_key(first), _record_key(second)
    if chart is not None and chart.suffix not in (".html", ".svg"):
        raise click.BadParameter("the chart is written as .html or .svg", param_hint="--chart")
    with ctx.open() as store:
        try:
            explanation, customer_a, customer_b = explain_records(store, a, b)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    out.print(_waterfall(explanation, first, second))
    out.print(_verdict(explanation))
    if explanation.names_only_margin:
        out.print(
            "They agree on names and places only, which namesakes do too: the threshold is "
            f"raised by {explanation.names_only_margin:.2f} bits."
        )
    out.print(
        f"Of the evidence, {explanation.household_weight:.2f} bits are what a household shares "
        "(surname, address, postcode, town): only the rest can outweigh a conflicting birth "
        "date, first name, loyalty card or contact details."
    )
    out.print(_customers_now(customer_a, customer_b))
    if chart is not None:
        svg = waterfall_svg(explanation, f"{first} vs {second}")
        chart.write_text(
            svg if chart.suffix == ".svg" else f"<!doctype html><meta charset=utf-8>{svg}\n",
            encoding="utf-8",
        )
        out.print(f"Chart written to {chart}")


_ANSWERS = {"link": True, "no-link": False}


def _who() -> str | None:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment or the password file
        return None


@cli.command()
@click.option("--list", "listing", is_flag=True, help="List the pairs to review and exit.")
@click.option("--json", "as_json", is_flag=True, help="With --list: as JSON, waterfalls included.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=200, show_default=True)
@click.option(
    "--answer",
    "given",
    nargs=3,
    metavar="A B link|no-link",
    help="Answer one pair (SOURCE:ID SOURCE:ID link|no-link) and exit: for scripts.",
)
@click.option("--note", help="Kept with the answers given.")
@click.option("--by", "answered_by", help="Who answers (the user name by default).")
@pass_context
def review(
    ctx: Context,
    listing: bool,
    as_json: bool,
    limit: int,
    given: tuple[str, str, str] | None,
    note: str | None,
    answered_by: str | None,
) -> None:
    """Review the pairs the last `kenning resolve` was least sure of: are they one person?

    Each pair is shown side by side with why it scored what it did; answer y (one person),
    n (two people), s (skip) or q (quit). The next `kenning resolve` trains the model on the
    answers. They teach the model and bind nothing: to force two records together or apart
    whatever the model says, use POST /v1/identity/links or /unlinks.
    """
    answered_by = answered_by or _who()
    if as_json and not listing:
        raise click.BadParameter("--json goes with --list", param_hint="--json")
    with ctx.open() as store:
        if given:
            first, second, word = given
            if word not in _ANSWERS:
                raise click.BadParameter(f"{word!r}: answer link or no-link", param_hint="--answer")
            a, b = _record_key(first), _record_key(second)
            _answer(store, a, b, _ANSWERS[word], answered_by, note)
            out.print(f"{first} and {second}: {word} (kept for the next `kenning resolve`)")
            return
        items = review_service.pairs_to_review(store, limit)
        if listing:
            _list(items, as_json)
            return
        _interactive(store, items, answered_by, note)


def _answer(
    store: Store, a: RecordKey, b: RecordKey, link: bool, by: str | None, note: str | None
) -> None:
    try:
        review_service.answer(store, a, b, link, answered_by=by, note=note, now=datetime.now(UTC))
    except Refusal as exc:
        raise click.ClickException(exc.message) from None


def _list(items: list[review_service.ReviewItem], as_json: bool) -> None:
    if as_json:
        click.echo(orjson.dumps([review_service.item_json(i) for i in items]).decode())
        return
    table = Table(title=f"{len(items)} pairs to review", title_justify="left")
    for column in ("a", "b", "probability", "weight", "needed"):
        table.add_column(column, justify="left" if column in "ab" else "right")
    for item in items:
        e = item.explanation
        table.add_row(
            _name(item.a), _name(item.b), f"{e.probability:.4f}", f"{e.total:+.2f}",
            f"{e.needed:+.2f}",
        )  # fmt: skip
    out.print(table)


def _name(key: RecordKey) -> str:
    return f"{key[0]}:{key[1]}"


def _interactive(
    store: Store, items: list[review_service.ReviewItem], by: str | None, note: str | None
) -> None:
    if not items:
        out.print("Nothing to review: `kenning resolve` chooses the pairs to review.")
        return
    counts = {"y": 0, "n": 0, "s": 0}
    for n, item in enumerate(items, start=1):
        out.rule(f"Pair {n} of {len(items)}")
        out.print(_waterfall(item.explanation, _name(item.a), _name(item.b)))
        out.print(_verdict(item.explanation))
        out.print(_customers_now(*item.customers))
        choice = click.prompt(
            "One person? [y]es, link / [n]o / [s]kip / [q]uit",
            type=click.Choice(["y", "n", "s", "q"], case_sensitive=False),
            show_choices=False,
        ).lower()
        if choice == "q":
            break
        counts[choice] += 1
        if choice != "s":
            _answer(store, item.a, item.b, choice == "y", by, note)
    out.print(
        f"{counts['y']} linked, {counts['n']} not linked, {counts['s']} skipped. "
        "`kenning resolve` trains the model on the answers."
    )


@cli.group()
def model() -> None:
    """The identity model: which one resolves, and the shipped prior."""


@model.command("show")
@pass_context
def model_show(ctx: Context) -> None:
    """Which model resolves this store, where it comes from, and its weights."""
    with ctx.open() as store:
        report = model_report(store)
    summary = Table(title="Identity model", show_header=False, title_justify="left")
    summary.add_row("in use", report.described)
    found = report.model
    if found is not None:
        summary.add_row("source", found.source)
        summary.add_row("trained at", report.trained_at or "when Kenning was built")
        summary.add_row("trained on", f"{found.trained_on_records:,} records, "
                        f"{found.trained_on_pairs:,} candidate pairs")  # fmt: skip
        summary.add_row("prior match probability", f"{found.prior:.3g}")
    summary.add_row("records in the store", f"{report.records:,}")
    summary.add_row("trains from", f"{report.train_from_records:,} records")
    out.print(summary)
    if found is not None:
        weights = Table(title="Comparisons", title_justify="left")
        for column in ("comparison", "m (agree)", "u (agree)", "weight by level (bits)"):
            weights.add_column(column, justify="left" if column[0] in "cw" else "right")
        for comparison in found.comparisons:
            levels = " · ".join(
                f"{level} {weight:+.1f}"
                for level, weight in zip(
                    comparison.levels[1:], comparison.weights()[1:], strict=True
                )
            )
            weights.add_row(
                comparison.name, f"{comparison.m[1]:.3g}", f"{comparison.u[1]:.3g}", levels
            )
        out.print(weights)
    for note in report.notes:
        console.print(f"[yellow]note[/] {note}", highlight=False)


@model.command("prior")
@click.option(
    "--out",
    "out_file",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help=f"Where to write it (Kenning ships {PRIOR_FILE} in src/kenning/resolution/).",
)
@click.option("--people", type=click.IntRange(min=100), default=PRIOR_PEOPLE, show_default=True)
@click.option("--seed", type=int, default=PRIOR_SEED, show_default=True)
def model_prior(out_file: Path, people: int, seed: int) -> None:
    """Train the prior model on a generated retailer (needs the demo extra)."""
    from kenning.cli.records import check_faker  # the demo retailer's commands

    check_faker()
    with console.status("Training the prior on a generated retailer"):
        prior = train_prior(people, seed)
    out_file.write_bytes(
        orjson.dumps(prior.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    )
    out.print(f"Prior trained on {prior.trained_on_records:,} records written to {out_file}")
