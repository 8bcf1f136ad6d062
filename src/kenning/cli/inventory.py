"""Commands for stock: locations, stock files, the expiry job, API keys and the server."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from kenning.cli.app import Context, cli, console, out, pass_context, progress_bar
from kenning.domain.refusals import Refusal
from kenning.ingest.readers import SourceFileError
from kenning.services import inventory, keys, reservations


def _report(report: inventory.FileReport, what: str, show: int = 20) -> None:
    out.print(report.accounting(what), highlight=False)
    for reason in report.rejected[:show]:
        console.print(f"[yellow]rejected[/] {reason}", highlight=False)
    if len(report.rejected) > show:
        console.print(f"… and {len(report.rejected) - show:,} more rejected rows")


def _lines_in(path: Path) -> int:
    with path.open("rb") as handle:
        return max(0, sum(1 for _ in handle) - 1)


@cli.command("import-stock")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_context
def import_stock(ctx: Context, file: Path) -> None:
    """Import counted stock: a CSV of sku, location, on_hand and optionally safety_stock."""
    with ctx.open() as store, progress_bar() as progress:
        task = progress.add_task("Importing stock", total=_lines_in(file))
        try:
            report = inventory.import_stock(
                store, file, progress=lambda n: progress.advance(task, n)
            )
        except Refusal as exc:
            raise click.ClickException(f"{exc.message}\nNothing was imported.") from None
        except SourceFileError as exc:
            raise click.ClickException(f"{exc}\nNothing was imported.") from None
    _report(report, "stock levels")


@cli.group()
def locations() -> None:
    """Stores and warehouses."""


@locations.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_context
def locations_import(ctx: Context, file: Path) -> None:
    """Import locations: a CSV of id, name, kind (store or warehouse), market, latitude,
    longitude, and optionally pickup (yes/no) and ship_capacity (shipments a day)."""
    with ctx.open() as store:
        try:
            report = inventory.import_locations(store, file)
        except Refusal as exc:
            raise click.ClickException(exc.message) from None
        except SourceFileError as exc:
            raise click.ClickException(f"{exc}\nNothing was imported.") from None
    _report(report, "locations")


@locations.command("list")
@click.option("--market", help="Only this market's locations.")
@pass_context
def locations_list(ctx: Context, market: str | None) -> None:
    """List locations."""
    with ctx.open() as store:
        found = inventory.list_locations(store, market)
    table = Table(title="Locations", title_justify="left")
    for column in ("id", "name", "kind", "market", "pickup", "ships a day"):
        table.add_column(column)
    for loc in found:
        capacity = "no limit" if loc.ship_capacity is None else str(loc.ship_capacity)
        table.add_row(
            loc.id, loc.name, loc.kind, loc.market, "yes" if loc.pickup else "no", capacity
        )
    out.print(table)


@cli.group("inventory")
def inventory_group() -> None:
    """Stock jobs."""


@inventory_group.command("expire")
@pass_context
def expire(ctx: Context) -> None:
    """Release every reservation hold past its expiry (run it from cron, or never: expired
    holds are also released whenever stock is read or reserved)."""
    with ctx.open() as store:
        released = reservations.expire_due(store)
    out.print(f"Released {released:,} expired holds.")


@cli.group("keys")
def keys_group() -> None:
    """Secret keys for the API."""


@keys_group.command("add")
@click.option("--name", required=True, help="Who or what the key is for.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(keys.SCOPES),
    help="Repeat for several scopes; admin allows everything.",
)
@pass_context
def keys_add(ctx: Context, name: str, scopes: tuple[str, ...]) -> None:
    """Create a secret key; it is printed once and stored only as a hash."""
    with ctx.open() as store:
        key, secret = keys.create_key(store, name, list(scopes))
    console.print(f"Key {key.id} ({key.name}): {', '.join(key.scopes)}. Keep the secret now:")
    out.print(secret)


@keys_group.command("list")
@pass_context
def keys_list(ctx: Context) -> None:
    """List keys (never their secrets)."""
    with ctx.open() as store:
        found = keys.list_keys(store)
    table = Table(title="API keys", title_justify="left")
    for column in ("id", "name", "starts with", "scopes", "revoked"):
        table.add_column(column)
    for key, revoked in found:
        table.add_row(
            str(key.id), key.name, key.prefix + "…", " ".join(key.scopes), "yes" if revoked else ""
        )
    out.print(table)


@keys_group.command("revoke")
@click.argument("key_id", type=int)
@pass_context
def keys_revoke(ctx: Context, key_id: int) -> None:
    """Revoke a key: its secret stops working at once."""
    with ctx.open() as store:
        done = keys.revoke_key(store, key_id)
    if not done:
        raise click.ClickException(f"no live key {key_id}")
    out.print(f"Key {key_id} revoked.")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--followers",
    default=2,
    show_default=True,
    type=click.IntRange(min=1),
    help="Processes following the event log (they resolve identities at once).",
)
@click.option("--log-level", default="warning", show_default=True)
@click.option("--db", "database_url", help="Database URL (else the global --db).")
@pass_context
def serve(
    ctx: Context,
    host: str,
    port: int,
    workers: int,
    followers: int,
    log_level: str,
    database_url: str | None,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs), and follow the event
    log in processes of their own, resolving identities as events arrive."""
    import multiprocessing
    import os
    import shutil
    import tempfile

    import uvicorn

    from kenning.services.follow import follow_forever

    if database_url is not None:
        ctx = Context(ctx.settings.model_copy(update={"database_url": database_url}))
    with ctx.open():  # migrate once, and fail here with a clear message if unreachable
        pass
    # Each worker builds its app from the environment, so hand the chosen database on.
    os.environ["KENNING_DATABASE_URL"] = ctx.settings.database_url
    processes, nudges = [], None
    if ctx.settings.follow_events:
        # The followers serve every worker, each in a process of its own (see
        # follow_forever): while one resolves a run, another indexes the next. Workers
        # nudge them through sockets of this server's own; they poll too, for events
        # other processes log.
        nudges = Path(tempfile.mkdtemp(prefix="kenning-serve-"))
        sockets = [str(nudges / f"follower-{n}.sock") for n in range(followers)]
        os.environ["KENNING_FOLLOWER_SOCKET"] = os.pathsep.join(sockets)
        spawn = multiprocessing.get_context("spawn")
        for n, path in enumerate(sockets):
            process = spawn.Process(
                target=follow_forever,
                args=(ctx.settings, 0.05, os.getpid(), path, n == 0),
                name=f"kenning-follower-{n}",
                daemon=True,
            )
            process.start()
            processes.append(process)
        os.environ["KENNING_FOLLOW_EVENTS"] = "false"
        os.environ["KENNING_CHECKPOINTS_BY_FOLLOWER"] = "true"
    try:
        uvicorn.run(
            "kenning.api.serve:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(10)
        if nudges is not None:
            shutil.rmtree(nudges, ignore_errors=True)
