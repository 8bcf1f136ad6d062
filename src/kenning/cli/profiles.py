"""Commands for the customer, whole: import activity, show a profile, and the demo's story."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
import orjson
from rich.table import Table

from kenning.cli.app import Context, cli, console, out, pass_context, progress_bar
from kenning.domain.refusals import Refusal
from kenning.ingest.readers import SourceFileError
from kenning.profiles.golden import Survivorship, SurvivorshipError
from kenning.profiles.greeting import greeting
from kenning.services.activity import ActivityReport, count_rows, import_activity
from kenning.services.profile import ProfileSettings, customer_profile
from kenning.settings import Settings
from kenning.store import Store


def profile_settings(settings: Settings) -> ProfileSettings:
    try:
        survivorship = Survivorship.parse(settings.source_trust, settings.survivorship)
    except SurvivorshipError as exc:
        raise click.ClickException(str(exc)) from None
    return ProfileSettings(survivorship, settings.lapsed_days)


def run_activity_import(store: Store, directory: Path) -> ActivityReport:
    with progress_bar() as progress:
        task = progress.add_task("Importing activity", total=count_rows(directory))
        return import_activity(store, directory, lambda n: progress.advance(task, n))


@cli.command("import-activity")
@click.argument("directory", type=click.Path(path_type=Path, exists=True, file_okay=False))
@pass_context
def import_activity_command(ctx: Context, directory: Path) -> None:
    """Import what customers did (orders, lines, returns, registrations, repairs, e-mail,
    browsing) from a generated retailer's folder; importing again changes nothing."""
    with ctx.open() as store:
        start = time.perf_counter()
        try:
            report = run_activity_import(store, directory)
        except FileNotFoundError as exc:
            raise click.ClickException(str(exc)) from None
        except SourceFileError as exc:
            raise click.ClickException(f"{exc}\nNothing was imported.") from None
        seconds = time.perf_counter() - start
    table = Table(title="Activity", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("new", justify="right")
    for name, given in report.given.items():
        table.add_row(name.removeprefix("activity_"), f"{given:,}", f"{report.new[name]:,}")
    out.print(table)
    out.print(f"{report.accounting()} ({seconds:.1f} s)", highlight=False)
    for rejection in report.rejections[:20]:
        console.print(f"[yellow]rejected[/] {rejection}", highlight=False)
    if sum(report.rejected.values()) > 20:
        console.print(f"… and {sum(report.rejected.values()) - 20:,} more rejected rows")


@cli.command()
@click.argument("customer_id")
@pass_context
def profile(ctx: Context, customer_id: str) -> None:
    """A customer's whole profile as JSON: golden record, traits, products, repairs, orders."""
    with ctx.open() as store:
        try:
            view = customer_profile(store, customer_id, profile_settings(ctx.settings))
        except Refusal as exc:
            raise click.ClickException(exc.message) from None
    click.echo(orjson.dumps(view, option=orjson.OPT_INDENT_2, default=str).decode())


def _money(amounts: dict[str, str]) -> str:
    return ", ".join(f"{cur} {value}" for cur, value in amounts.items()) or "-"


def print_story_after(p: dict[str, Any]) -> None:
    """The story customer after: one customer, her golden record, bags, repairs, greeting."""
    golden = Table(title="One customer: her golden record, and where each value came from",
                   title_justify="left")  # fmt: skip
    for column in ("attribute", "value", "from record", "as of", "chosen by"):
        golden.add_column(column)
    for name, g in p["golden"].items():
        value = g["value"]
        if isinstance(value, dict):
            value = ", ".join(v for v in value.values() if v)
        golden.add_row(name, str(value), f"{g['source']}:{g['record_id']}", str(g["at"] or "")[:10],
                       f"{g['rule']} ({g['seen']} of {g['of']})")  # fmt: skip
    out.print(golden)
    owned = Table(title="What she owns (registered by serial number)", title_justify="left")
    for column in ("product", "category", "serial", "registered"):
        owned.add_column(column)
    for o in p["owned"]:
        owned.add_row(o["name"], o["category"], o["serial_number"], o["registered_at"][:10])
    out.print(owned)
    repairs = Table(title="Her repairs", title_justify="left")
    for column in ("repair", "serial", "status history"):
        repairs.add_column(column)
    for r in p["repairs"]:
        trail = " → ".join(f"{h['status'].replace('_', ' ')} {h['at'][:10]}" for h in r["history"])
        repairs.add_row(r["repair_id"], r["serial_number"], trail)
    out.print(repairs)
    t = p["traits"]
    e = t["email_engagement"]
    channels = ", ".join(f"{ch} {v['orders']}" for ch, v in t["by_channel"].items())
    out.print(
        f"Spent {_money(t['lifetime_spend'])} over {t['orders']} orders ({channels}); "
        f"first {str(t['first_purchase'])[:10]}, last {str(t['last_purchase'])[:10]}; "
        f"favourite stores {', '.join(t['favourite_stores'])}; RFM "
        f"{t['rfm']['recency']}{t['rfm']['frequency']}{t['rfm']['monetary']}; "
        f"opens {e['opens']} of {e['sends']} e-mails, clicks {e['clicks']}; "
        f"{t['open_repairs']} repair open."
    )
    first = p["golden"].get("first_name", {}).get("value")
    registered = {o["category"] for o in p["owned"]}
    words = greeting(first, t["owned_by_category"], registered=registered)
    out.print(f'\nThe web shop, once she verifies her e-mail: "{words}"', soft_wrap=True)


def demo_mail(recipient: str, subject: str, body: str) -> None:
    """The demo's mail: shown in the terminal instead of sent."""
    console.print(f"[bold]mail to {recipient}[/]: {subject}", highlight=False)
