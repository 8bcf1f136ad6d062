"""Commands for identity: resolve, explain, export customers, evaluate against a truth file."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.table import Table

from kenning.cli.app import Context, cli, console, out, pass_context
from kenning.resolution.explain import waterfall_svg
from kenning.resolution.settings import ResolutionSettings
from kenning.services.identity import (
    evaluate_store,
    explain_records,
    export_customers,
    read_labelled_pairs,
    resolve_store,
)


@cli.command()
@click.option(
    "--settings",
    "settings_file",
    type=click.Path(path_type=Path, exists=True),
    help="Resolution settings (JSON or YAML); retail defaults otherwise.",
)
@click.option("--retrain", is_flag=True, help="Train the model again even if one is stored.")
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
    """Link every source record to one customer (trains a model first when none is stored)."""
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
    table.add_row("model", "trained now" if outcome.trained else "stored")
    table.add_row("merges / splits since last run", f"{outcome.merges:,} / {outcome.splits:,}")
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
    out.print(table)
    verdict = "above" if explanation.total >= explanation.needed else "below"
    out.print(
        f"Match weight {explanation.total:+.2f} bits, probability {explanation.probability:.4f} "
        f"({verdict} the threshold of {explanation.needed:+.2f})."
    )
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
    same = customer_a is not None and customer_a == customer_b
    out.print(
        f"Customers now: {customer_a or 'none'} and {customer_b or 'none'}"
        + (" — the same customer." if same else ".")
    )
    if chart is not None:
        svg = waterfall_svg(explanation, f"{first} vs {second}")
        chart.write_text(
            svg if chart.suffix == ".svg" else f"<!doctype html><meta charset=utf-8>{svg}\n",
            encoding="utf-8",
        )
        out.print(f"Chart written to {chart}")
