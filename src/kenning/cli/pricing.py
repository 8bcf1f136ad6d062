"""Commands for prices: price books, promotions and the price audit."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from rich.table import Table

from kenning.cli.app import Context, cli, console, out, pass_context
from kenning.cli.inventory import _report
from kenning.commerce.pricing.promotions import application_order
from kenning.domain.refusals import Refusal
from kenning.ingest.readers import SourceFileError
from kenning.services import price_audit, pricing

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@cli.group()
def prices() -> None:
    """Price books and the price audit."""


@prices.command("import")
@click.argument("file", type=_FILE)
@pass_context
def prices_import(ctx: Context, file: Path) -> None:
    """Import a price book: a CSV of sku, market, channel (empty: every channel), currency,
    price, kind (base, channel, sale or group), customer_group, starts_at, ends_at."""
    with ctx.open() as store:
        try:
            report = pricing.import_prices(store, file)
        except Refusal as exc:
            raise click.ClickException(f"{exc.message}\nNothing was imported.") from None
        except SourceFileError as exc:
            raise click.ClickException(f"{exc}\nNothing was imported.") from None
    _report(report, "prices")


@prices.command("audit")
@click.argument("files", nargs=-1, required=True, type=_FILE)
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the discrepancies to this CSV.")  # fmt: skip
@click.option("--show", default=50, show_default=True, help="Rows to print.")
@pass_context
def prices_audit(ctx: Context, files: tuple[Path, ...], out_file: Path | None, show: int) -> None:
    """Check what channels showed or charged (CSV of channel, store, sku, observed_at, price
    per unit, quantity) against the price book and promotions; list every discrepancy by
    store and SKU."""
    with ctx.open() as store:
        try:
            seen, read = price_audit.read_observations(list(files))
        except Refusal as exc:
            raise click.ClickException(exc.message) from None
        except SourceFileError as exc:
            raise click.ClickException(str(exc)) from None
        report = price_audit.audit(store, seen)
    for reason in read.rejected[:20]:
        console.print(f"[yellow]rejected[/] {reason}", highlight=False)
    for reason in report.unpriced[:20]:
        console.print(f"[yellow]not priced[/] {reason}", highlight=False)
    table = Table(title="Price discrepancies", title_justify="left")
    for column in ("store", "sku", "channel", "observed at", "qty", "observed", "expected",
                   "difference", "why"):  # fmt: skip
        table.add_column(column)
    for d in report.discrepancies[:show]:
        table.add_row(
            d.store or "-",
            d.sku,
            d.channel,
            d.observed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
            str(d.quantity),
            f"{d.observed} {d.currency}",
            f"{d.expected} {d.currency}",
            f"{d.difference:+}",
            d.explanation,
        )
    out.print(table)
    out.print(
        f"{report.checked:,} observations checked, {len(report.discrepancies):,} discrepancies, "
        f"{len(report.unpriced):,} not priced, {len(read.rejected):,} rows rejected."
    )
    if out_file is not None:
        price_audit.write_discrepancies(out_file, report.discrepancies)
        out.print(f"Discrepancies written to {out_file}.")


@cli.group()
def promotions() -> None:
    """Promotions and coupons."""


@promotions.command("import")
@click.argument("file", type=_FILE)
@pass_context
def promotions_import(ctx: Context, file: Path) -> None:
    """Import promotions from JSON or YAML: a list, or {"promotions": [...]}; an existing id
    is replaced (its coupon keeps its count of uses)."""
    with ctx.open() as store:
        try:
            found = pricing.read_promotions(file)
            written = pricing.save_promotions(store, found, datetime.now(UTC))
        except Refusal as exc:
            raise click.ClickException(f"{exc.message}\nNothing was imported.") from None
    out.print(f"{written:,} promotions written.")


@promotions.command("list")
@pass_context
def promotions_list(ctx: Context) -> None:
    """List promotions in the order they apply."""
    with ctx.open() as store:
        found = pricing.list_promotions(store)
    table = Table(title="Promotions", title_justify="left")
    for column in ("id", "kind", "value", "priority", "stackable", "exclusive", "coupon"):
        table.add_column(column, overflow="fold")
    for p in sorted(found, key=application_order):
        table.add_row(
            p.id,
            p.kind,
            str(p.value),
            str(p.priority),
            "yes" if p.stackable else "no",
            "yes" if p.exclusive else "",
            p.coupon.code if p.coupon else "",
        )
    out.print(table)
