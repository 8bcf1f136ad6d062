"""Commands for source records: generate, import, summarise, rebuild, demo."""

from __future__ import annotations

import csv
import importlib.util
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click
from rich.table import Table

from kenning.cli.app import Context, cli, console, out, pass_context, progress_bar
from kenning.cli.profiles import demo_mail, print_story_after, profile_settings, run_activity_import
from kenning.domain.normalise import normalise_country
from kenning.domain.records import RecordError, check_source_name
from kenning.ingest.importer import Importer, ImportReport, Rejection
from kenning.ingest.readers import SourceFileError, check_readable, estimate_rows
from kenning.ingest.rebuild import rebuild_records
from kenning.services.follow import catch_up
from kenning.services.identity import evaluate_store, resolve_store
from kenning.services.indexing import index_all
from kenning.services.matching import stored_settings
from kenning.services.profile import customer_profile
from kenning.store import Store

if TYPE_CHECKING:
    from kenning.datagen import DatagenReport

DEMO_EXTRA = "pip install 'kenning[demo]'"


def check_faker() -> None:
    """The synthetic retailer draws names from Faker's lists, which only the ``demo`` extra
    installs; no other command imports it."""
    if importlib.util.find_spec("faker") is None:
        raise click.ClickException(
            f"the demo retailer needs Faker, which Kenning installs only for it: {DEMO_EXTRA}"
        )


def _markets() -> str:
    check_faker()
    from kenning.datagen import MARKETS

    return MARKETS


def _generate(people: int, seed: int, out_dir: Path, *, activity: bool = True) -> DatagenReport:
    check_faker()
    from kenning.datagen import DatagenConfig, generate

    config = DatagenConfig(people=people, seed=seed, activity=activity)
    with progress_bar() as progress:
        task = progress.add_task("Generating the retailer", total=people)
        return generate(config, out_dir, lambda n: progress.advance(task, n))


def _import(
    store: Store,
    files: list[Path],
    source: str | None,
    country: str | None,
    markets: tuple[str, ...],
    encoding: str,
    on_reject: Callable[[Rejection], None] | None = None,
) -> ImportReport:
    importer = Importer(store, default_country=country, markets=markets, on_reject=on_reject)
    for path in files:
        check_readable(path)
    totals = [estimate_rows(f) for f in files]
    total = None if None in totals else sum(t or 0 for t in totals)
    with progress_bar() as progress:
        task = progress.add_task("Importing records", total=total)
        advance: Callable[[int], None] = lambda n: progress.advance(task, n)  # noqa: E731
        return importer.import_files(
            files, source=source, encoding=encoding, progress=advance, expected_rows=total
        )


def _print_import_report(report: ImportReport, seconds: float, show: int = 20) -> None:
    table = Table(title="Import", show_header=False, title_justify="left")
    table.add_row("new records", f"{report.imported:,}")
    table.add_row("updated", f"{report.updated:,}")
    table.add_row("unchanged", f"{report.unchanged:,}")
    if report.stale:
        table.add_row("stale (older than stored)", f"{report.stale:,}")
    table.add_row("rejected", f"{report.rejected:,}")
    rate = report.accepted / seconds if seconds > 0 else 0.0
    table.add_row("time", f"{seconds:.1f} s ({rate:,.0f} records/s)")
    out.print(table)
    out.print(report.accounting(), highlight=False)
    if report.dropped:
        dropped = Table(title="Values dropped as evidence", title_justify="left")
        dropped.add_column("field")
        dropped.add_column("placeholder", justify="right")
        dropped.add_column("invalid", justify="right")
        for name, counts in report.dropped_by_field().items():
            dropped.add_row(
                name, f"{counts.get('placeholder', 0):,}", f"{counts.get('invalid', 0):,}"
            )
        out.print(dropped)
    for rejection in report.rejections[:show]:
        console.print(f"[yellow]rejected[/] {rejection}", highlight=False)
    if report.rejected > show:
        console.print(f"… and {report.rejected - show:,} more rejected rows (see --rejects)")


def _rejection_writer(handle: TextIO) -> Callable[[Rejection], None]:
    """Writes each rejected row as it is found: all of them, however many (TSV)."""
    handle.write("file\tline\treason\n")

    def write(r: Rejection) -> None:
        reason = " ".join(r.reason.split())  # one line, no tabs
        handle.write(f"{r.file}\t{r.line}\t{reason}\n")

    return write


def _print_summary(store: Store) -> None:
    counts = store.record_counts()
    table = Table(title="Source records", title_justify="left")
    table.add_column("source")
    table.add_column("records", justify="right")
    for source, count in counts.items():
        table.add_row(source, f"{count:,}")
    table.add_row("[bold]all[/]", f"[bold]{sum(counts.values()):,}[/]")
    out.print(table)
    out.print(f"Event log: {store.event_count():,} events; database {store.url}")


@cli.command()
@click.option("--people", type=click.IntRange(min=1), default=10_000, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True)
@click.option("--no-activity", is_flag=True, help="Only identity records and truth.")
def datagen(people: int, seed: int, out_dir: Path, no_activity: bool) -> None:
    """Generate a synthetic retailer: five source systems, activity and ground truth."""
    start = time.perf_counter()
    report = _generate(people, seed, out_dir, activity=not no_activity)
    seconds = time.perf_counter() - start
    out.print(
        f"{report.total_records:,} identity records for {report.people:,} people "
        f"in {out_dir} ({seconds:.1f} s)"
    )


@cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--source", help="Source name for records whose file has no source column.")
@click.option("--country", help="Country of records that do not say (e.g. GB, US).")
@click.option("--encoding", default="utf-8-sig", show_default=True, help="Text encoding.")
@click.option(
    "--rejects", type=click.Path(path_type=Path), help="Write every rejected row here (TSV)."
)
@pass_context
def import_(
    ctx: Context,
    files: tuple[Path, ...],
    source: str | None,
    country: str | None,
    encoding: str,
    rejects: Path | None,
) -> None:
    """Import source records from CSV, JSON Lines or Parquet files (optionally .gz)."""
    try:
        if source is not None:
            source = check_source_name(source)
    except RecordError as exc:
        raise click.BadParameter(str(exc), param_hint="--source") from None
    if country is not None:
        cleaned = normalise_country(country)
        if cleaned.value is None:
            raise click.BadParameter(f"unknown country {country!r}", param_hint="--country")
        country = cleaned.value
    with ExitStack() as stack:
        store = stack.enter_context(ctx.open())
        on_reject = None
        if rejects is not None:
            on_reject = _rejection_writer(stack.enter_context(rejects.open("w", encoding="utf-8")))
        start = time.perf_counter()
        try:
            report = _import(
                store, list(files), source, country, ctx.settings.market_codes, encoding, on_reject
            )
        except (SourceFileError, LookupError) as exc:
            raise click.ClickException(f"{exc}\nNothing was imported.") from None
        seconds = time.perf_counter() - start
    _print_import_report(report, seconds)


@cli.command()
@pass_context
def summary(ctx: Context) -> None:
    """What the store holds."""
    with ctx.open() as store:
        _print_summary(store)


@cli.command()
@pass_context
def rebuild(ctx: Context) -> None:
    """Re-derive every source record from the event log (after a normaliser change)."""
    with ctx.open() as store:
        total = store.event_count()
        with progress_bar() as progress:
            task = progress.add_task("Replaying the event log", total=total)
            report = rebuild_records(
                store,
                markets=ctx.settings.market_codes,
                progress=lambda n: progress.advance(task, n),
            )
            # Values may have changed: the keys lookups and the matcher find records by too.
            task = progress.add_task("Indexing every record", total=report.imported)
            index_all(store, stored_settings(store), lambda n: progress.advance(task, n))
    out.print(f"Rebuilt {report.imported:,} records from the event log, and indexed them.")


@cli.command()
@click.option("--people", type=click.IntRange(min=1), default=3_000, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("demo-data"),
    show_default=True,
)
@click.option("--no-serve", is_flag=True, help="Stop after the story (do not serve the API).")
@click.option("--port", default=8000, show_default=True, type=int, help="Where to serve.")
@pass_context
def demo(ctx: Context, people: int, seed: int, out_dir: Path, no_serve: bool, port: int) -> None:
    """The whole story on demo data: generate a retailer, import it, link it into customers,
    tell one shopper's story, then serve the API and a demo shop (unless --no-serve)."""
    if not ctx.settings.markets:
        ctx.settings = ctx.settings.model_copy(update={"markets": _markets()})
    report = _generate(people, seed, out_dir)
    files = sorted((out_dir / "records").glob("*.csv"))
    truth = out_dir / "truth.csv"
    with ctx.open() as store:
        start = time.perf_counter()
        imported = _import(store, files, None, None, ctx.settings.market_codes, "utf-8-sig")
        seconds = time.perf_counter() - start
        _print_import_report(imported, seconds)
        _print_summary(store)
        story = _story_keys(truth)
        _print_story(store, story)
        out.print(
            f"\n{report.people:,} shoppers left {report.total_records:,} records in "
            f"{len(report.records)} systems that never talk to each other."
        )
        with console.status("Linking records into customers"):
            outcome = resolve_store(store)
            result = evaluate_store(store, truth)
        with console.status("Indexing them for lookups and real time"):
            catch_up(store, markets=ctx.settings.market_codes)
        customers = {store.customer_of(*key) for key in story}
        out.print(
            f"Kenning linked them into {outcome.customers:,} customers "
            f"(pairwise precision {result.pairwise_precision:.3f}, "
            f"recall {result.pairwise_recall:.3f} against {truth}). "
            f"Theresa's {len(story)} records are now "
            + ("one customer." if len(customers) == 1 else f"{len(customers)} customers.")
        )
        run_activity_import(store, out_dir)
        customer = next(iter(customers))
        if customer is not None:
            print_story_after(customer_profile(store, customer, profile_settings(ctx.settings)))
    if not no_serve and customer is not None:
        serve_demo(ctx, customer, port)


def serve_demo(ctx: Context, customer: str, port: int) -> None:
    """The API with a demo shop page at /demo; codes are shown here instead of mailed."""
    import uvicorn

    from kenning.api.app import create_app
    from kenning.services.keys import create_key

    with ctx.open() as store:
        _, secret = create_key(store, "demo shop", ["customers:write"])
    app = create_app(ctx.settings, mail_sender=demo_mail, demo_key=secret)
    out.print(
        f"\nServing the API on http://127.0.0.1:{port} (Ctrl-C stops). Open "
        f"http://127.0.0.1:{port}/demo and sign up with theresa.whitfield@gmail.com; the code "
        f"appears here. Her profile: GET /v1/customers/{customer}/profile with "
        f"Authorization: Bearer {secret}"
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def _story_keys(truth: Path, person: str = "P-THERESA") -> list[tuple[str, str]]:
    with truth.open(encoding="utf-8", newline="") as handle:
        return sorted(
            (r["source"], r["record_id"])
            for r in csv.DictReader(handle)
            if r["person_id"] == person
        )


def _print_story(store: Store, keys: list[tuple[str, str]]) -> None:
    """The story customer's records as each system holds them: one person, many strangers."""
    table = Table(title=f"One shopper, {len(keys)} records that never meet", title_justify="left")
    for column in ("source", "name", "e-mail", "phone", "postcode"):
        table.add_column(column, min_width=8 if column == "name" else None)
    for source, record_id in keys:
        record = store.get_record(source, record_id)
        if record is None:
            continue
        raw = record.raw
        name = raw.get("full_name") or " ".join(
            filter(None, (raw.get("first_name"), raw.get("last_name")))
        )
        table.add_row(
            source,
            name,
            raw.get("email", ""),
            raw.get("phone", ""),
            raw.get("postcode", ""),
        )
    out.print(table)
