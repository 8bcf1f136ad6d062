"""Commands for stock: locations, stock files, the expiry job, API keys and the server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from kenning.cli.app import Context, cli, console, out, pass_context, progress_bar
from kenning.domain.refusals import Refusal
from kenning.ingest.readers import SourceFileError
from kenning.services import inventory, keys, reservations
from kenning.settings import Settings


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
@click.option(
    "--log-level",
    help="Lowest level logged: warning for text, info (a line per request) for json.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    help="Lines for people, or one JSON object a line with a request id (else "
    "KENNING_LOG_FORMAT, text).",
)
@click.option("--db", "database_url", help="Database URL (else the global --db).")
@pass_context
def serve(
    ctx: Context,
    host: str,
    port: int,
    workers: int,
    followers: int,
    log_level: str | None,
    log_format: str | None,
    database_url: str | None,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs), and follow the event
    log in processes of their own, resolving identities as events arrive."""
    import logging
    import logging.config
    import multiprocessing
    import os
    import shutil
    import signal
    import tempfile

    # Every process counts into files of this folder, added up at each scrape (see
    # api/ops.py): set before prometheus-client is first imported, here and in the
    # processes started below, which inherit it.
    own_metrics = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    if own_metrics:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="kenning-metrics-")

    import uvicorn

    from kenning.api.logs import ANNOUNCER, LogFormat, log_config
    from kenning.services.identity import MODEL_NAME
    from kenning.services.matching import ModelCache, describe_model

    chosen_format: LogFormat = (
        "json" if (log_format or ctx.settings.log_format) == "json" else "text"
    )
    level = log_level or ("info" if chosen_format == "json" else "warning")
    logging_config = log_config(chosen_format, level)
    logging.config.dictConfig(logging_config)
    announce = logging.getLogger(ANNOUNCER)
    if database_url is not None:
        ctx = Context(ctx.settings.model_copy(update={"database_url": database_url}))
    # Migrate once, and fail here with a clear message if unreachable.
    with ctx.open() as store:
        in_use = ModelCache().get(store, MODEL_NAME)
    if in_use is None:
        announce.warning(
            "no identity model fits the comparisons: run `kenning resolve`; "
            "new records will wait unresolved"
        )
    else:
        announce.info("identity model in use: %s", describe_model(in_use))
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
                target=_follower,
                args=(logging_config, ctx.settings, os.getpid(), path, n == 0),
                name=f"kenning-follower-{n}",
                daemon=True,
            )
            process.start()
            processes.append(process)
        os.environ["KENNING_FOLLOW_EVENTS"] = "false"
        os.environ["KENNING_CHECKPOINTS_BY_FOLLOWER"] = "true"
    shown = f"[{host}]" if ":" in host else host
    announce.info("Kenning listening on http://%s:%d (docs at /docs)", shown, port)
    # uvicorn stops on SIGTERM, then sends it to itself again: exit then, as SIGTERM
    # would, but through the clean-up below (left undone, temporary folders pile up).
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        uvicorn.run(
            "kenning.api.serve:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=level,
            log_config=logging_config,
            # It would log each raw path and query string (looked-up e-mails); the
            # app's request log names the route instead (api/observability.py).
            access_log=False,
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(10)
        if nudges is not None:
            shutil.rmtree(nudges, ignore_errors=True)
        if own_metrics:
            shutil.rmtree(os.environ.pop("PROMETHEUS_MULTIPROC_DIR"), ignore_errors=True)


def _exit_on_signal(signum: int, _: object) -> None:
    raise SystemExit(128 + signum)


def _follower(
    logging_config: dict[str, Any],
    settings: Settings,
    parent: int,
    nudges: str,
    checkpoints: bool,
) -> None:
    """A follower process of `kenning serve`, logging as the server does."""
    import logging.config

    from kenning.services.follow import follow_forever

    logging.config.dictConfig(logging_config)
    follow_forever(settings, 0.05, parent, nudges, checkpoints)
