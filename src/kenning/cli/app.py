"""The command group, its context and the pieces every command shares."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from kenning.settings import Settings
from kenning.store import Store, open_store

console = Console(stderr=True)
out = Console()


class Context:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def open(self) -> Store:
        try:
            return open_store(self.settings.database_url)
        except (ValueError, OSError) as exc:
            raise click.ClickException(f"cannot open the database: {exc}") from None
        except Exception as exc:  # driver errors (psycopg.OperationalError, sqlite3.Error)
            raise click.ClickException(f"cannot open the database: {exc}") from None


pass_context = click.make_pass_decorator(Context)

# The module of kenning.cli that defines each command. A command's module, and what it
# imports (Faker, the pricing engine, the server…), loads only when the command runs:
# every command starts in a fraction of the time importing them all took.
COMMAND_MODULES = {
    "datagen": "records",
    "demo": "records",
    "evaluate": "identity",
    "events": "realtime",
    "explain": "identity",
    "export": "identity",
    "follow": "realtime",
    "gift-cards": "ledger",
    "import": "records",
    "import-activity": "profiles",
    "import-stock": "inventory",
    "inventory": "inventory",
    "keys": "inventory",
    "ledger": "ledger",
    "locations": "inventory",
    "model": "identity",
    "prices": "pricing",
    "profile": "profiles",
    "promotions": "pricing",
    "rebuild": "records",
    "resolve": "identity",
    "review": "identity",
    "serve": "inventory",
    "sources": "realtime",
    "summary": "records",
}


class _LazyGroup(click.Group):
    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            importlib.import_module(f"kenning.cli.{COMMAND_MODULES[cmd_name]}")
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        load_all_commands()
        return super().list_commands(ctx)


def load_all_commands() -> None:
    for module in sorted(set(COMMAND_MODULES.values())):
        importlib.import_module(f"kenning.cli.{module}")


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "database_url",
    envvar="KENNING_DATABASE_URL",
    default=None,
    help="Database URL: sqlite:///FILE (default sqlite:///kenning.db) or postgresql://…",
)
@click.version_option(package_name="kenning")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None) -> None:
    """Kenning: one customer across every store, the web shop, repairs, e-mail and loyalty."""
    settings = Settings() if database_url is None else Settings(database_url=database_url)
    ctx.obj = Context(settings)


@contextmanager
def progress_bar() -> Iterator[Progress]:
    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as progress:
        yield progress


def main() -> None:
    try:
        cli.main(prog_name="kenning")
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)
