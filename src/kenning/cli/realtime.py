"""Commands for real time: the sources that send events, and following the event log."""

from __future__ import annotations

import click
from rich.table import Table

from kenning.cli.app import Context, cli, console, out, pass_context, progress_bar
from kenning.domain.refusals import Refusal
from kenning.services.collect import KIND_PREFIX
from kenning.services.dead_letters import retry_dead_letters
from kenning.services.follow import CURSOR, catch_up
from kenning.services.sources import (
    MAX_GRACE_SECONDS,
    add_source,
    revoke_source,
    rotate_source,
)
from kenning.store.dead_letters import DeadLetter


@cli.group("sources")
def sources_group() -> None:
    """Systems that send events (Segment-compatible), each with its write key."""


@sources_group.command("add")
@click.argument("name")
@click.option(
    "--trusted",
    is_flag=True,
    help="A server-side system (tills, back office) whose key never reaches a browser: "
    "its e-mail addresses are vouched for when a shopper signs up.",
)
@click.option(
    "--same-system",
    is_flag=True,
    help="Records were imported from files under this name, and this source is the very "
    "system they came from: let its events update them (refused otherwise).",
)
@pass_context
def sources_add(ctx: Context, name: str, trusted: bool, same_system: bool) -> None:
    """Create a source and print its write key (shown once, stored as a hash)."""
    with ctx.open() as store:
        try:
            source, key = add_source(store, name, trusted=trusted, same_system=same_system)
        except Refusal as exc:
            raise click.ClickException(exc.message) from None
    console.print(f"Source {source}. Its write key (the Basic-auth user name of its library):")
    out.print(key)


@sources_group.command("rotate")
@click.argument("name")
@click.option(
    "--grace",
    "grace_seconds",
    type=click.IntRange(min=0, max=MAX_GRACE_SECONDS),
    default=0,
    show_default=True,
    help="Seconds during which the old key is still taken, to move its senders over.",
)
@pass_context
def sources_rotate(ctx: Context, name: str, grace_seconds: int) -> None:
    """Give a source a new write key (shown once); the old key is refused from now on, or
    once the grace is over."""
    with ctx.open() as store:
        try:
            source, key = rotate_source(store, name, grace_seconds=grace_seconds)
        except Refusal as exc:
            raise click.ClickException(exc.message) from None
    when = f"in {grace_seconds:,} seconds" if grace_seconds else "from now on"
    console.print(f"Source {source}: its old write key is refused {when}. Its new write key:")
    out.print(key)


@sources_group.command("revoke")
@click.argument("name")
@pass_context
def sources_revoke(ctx: Context, name: str) -> None:
    """Refuse a source's write key from now on; the events it sent stay. `kenning sources
    rotate` gives it a new key."""
    with ctx.open() as store:
        try:
            done = revoke_source(store, name)
        except Refusal as exc:
            raise click.ClickException(exc.message) from None
    if done:
        out.print(f"Source {name} revoked: its write key is refused from now on.")
    else:
        out.print(f"Source {name} was revoked already.")


@sources_group.command("list")
@pass_context
def sources_list(ctx: Context) -> None:
    """List sources (never their keys)."""
    with ctx.open() as store:
        found = store.sources()
    table = Table(title="Sources", title_justify="left")
    for column in ("name", "write key starts with", "trusted", "revoked"):
        table.add_column(column)
    for row in found:
        trusted = "yes" if row.trusted else ""
        table.add_row(row.name, row.prefix + "…", trusted, "yes" if row.revoked else "")
    out.print(table)


@cli.command("follow")
@pass_context
def follow_command(ctx: Context) -> None:
    """Apply the log entries not yet applied: resolve collected events, index imported
    records for the real-time matcher (the server does this as they arrive)."""
    with ctx.open() as store, progress_bar() as progress:
        task = progress.add_task(
            "Following the event log", total=store.last_event_seq() - store.cursor(CURSOR)
        )
        # Shown only when many imported records are indexed at once (see catch_up).
        bulk = progress.add_task(
            "Indexing every record", total=sum(store.record_counts().values()), visible=False
        )
        outcome = catch_up(
            store,
            progress=lambda n: progress.advance(task, n),
            indexing=lambda n: progress.update(bulk, advance=n, visible=True),
            markets=ctx.settings.market_codes,
        )
    for reason in outcome.rejected:
        console.print(f"[yellow]rejected[/] {reason}", highlight=False)
    if outcome.set_aside:
        console.print(
            f"[yellow]{len(outcome.set_aside):,} events could not be applied[/] and are set "
            "aside: see kenning events failed",
            highlight=False,
        )
    out.print(
        f"{outcome.events:,} log entries passed, {outcome.records:,} records written, "
        f"{outcome.resolved:,} resolved."
    )


@cli.group("events")
def events_group() -> None:
    """Collected events the follower could not apply (dead letters)."""


def _letters_table(title: str, letters: list[DeadLetter]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("seq", "kind", "source", "failed", "attempts", "error"):
        table.add_column(column, overflow="fold")
    for letter in letters:
        kind = " ".join(filter(None, (letter.kind.removeprefix(KIND_PREFIX), letter.name)))
        table.add_row(
            str(letter.seq),
            kind,
            letter.source,
            letter.last_failed_at,
            str(letter.attempts),
            letter.error,
        )
    return table


@events_group.command("failed")
@pass_context
def events_failed(ctx: Context) -> None:
    """List the events set aside because they could not be applied, with their error."""
    with ctx.open() as store:
        letters = store.dead_letters()
    if not letters:
        out.print("No events are set aside.")
        return
    out.print(_letters_table(f"{len(letters):,} events set aside", letters))


@events_group.command("retry")
@click.argument("seqs", nargs=-1, type=int)
@pass_context
def events_retry(ctx: Context, seqs: tuple[int, ...]) -> None:
    """Apply set-aside events again (those of SEQS, else all), after a fix: those that
    apply are done, those that still fail stay listed with their new error."""
    with ctx.open() as store:
        outcome = retry_dead_letters(
            store, seqs=list(seqs) if seqs else None, markets=ctx.settings.market_codes
        )
    for seq in outcome.unknown:
        console.print(f"[yellow]no event {seq} is set aside[/]", highlight=False)
    if outcome.failed:
        out.print(_letters_table("Still failing", outcome.failed))
    out.print(f"{len(outcome.applied):,} applied, {len(outcome.failed):,} still failing.")
    if outcome.failed or outcome.unknown:
        raise SystemExit(1)
