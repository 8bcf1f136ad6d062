"""Commands for the value ledger: the expiry job, balances, verification, gift cards."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from rich.table import Table

from kenning.cli.app import Context, cli, console, out, pass_context
from kenning.domain.refusals import Refusal
from kenning.services import ledger, loyalty


@cli.group("ledger")
def ledger_group() -> None:
    """Gift cards, store credit and loyalty points on one double-entry ledger."""


@ledger_group.command("expire")
@pass_context
def expire(ctx: Context) -> None:
    """Move what is left in every lot past its expiry to the expiry account (run it daily
    from cron; expired value is never spent meanwhile)."""
    with ctx.open() as store:
        expired = ledger.expire_due(store)
    out.print(f"Expired {expired:,} lots.")


@ledger_group.command("balances")
@click.argument("customer_id")
@pass_context
def balances(ctx: Context, customer_id: str) -> None:
    """A customer's store credit, points and gift cards, and their loyalty tier."""
    with ctx.open() as store:
        found = loyalty.customer_balances(store, customer_id)
    table = Table(title=f"Balances of {customer_id}", title_justify="left")
    for column in ("account", "kind", "unit", "balance", "available", "next expiry"):
        table.add_column(column)
    for a in found.accounts:
        expiry = f"{a.expiring:,} on {a.next_expiry[:10]}" if a.next_expiry else ""
        name = f"…{a.last4}" if a.last4 else a.account_id
        table.add_row(name, a.kind, a.unit, f"{a.balance:,}", f"{a.available:,}", expiry)
    out.print(table)
    out.print(f"Tier: {found.tier or 'none'} (rolling spend {found.rolling_spend:,})")


@ledger_group.command("verify")
@pass_context
def verify(ctx: Context) -> None:
    """Check the books: every holder's balance equals the sum of its postings and of its
    lots and is never negative, every transaction sums to zero. Exit 1 if not."""
    with ctx.open() as store:
        problems = ledger.verify(store)
        accounts, transactions, postings = store.ledger_counts()
    broken = {rule: rows for rule, rows in problems.items() if rows}
    for rule, rows in broken.items():
        console.print(f"[red]{rule}[/]: {len(rows):,}", highlight=False)
        for row in rows[:10]:
            console.print(f"  {row}", highlight=False)
    summary = f"{accounts:,} accounts, {transactions:,} transactions, {postings:,} postings"
    if broken:
        raise click.ClickException(f"the books do not balance ({summary})")
    out.print(f"The books balance: {summary}.")


@cli.group("gift-cards")
def gift_cards() -> None:
    """Gift cards."""


@gift_cards.command("issue")
@click.option("--amount", required=True, type=click.IntRange(min=1), help="In minor units.")
@click.option("--currency", default="GBP", show_default=True)
@click.option("--customer", "customer_id", help="The customer it is for, if known.")
@click.option("--expires", type=click.DateTime(), help="UTC date (and time) it expires.")
@click.option("--count", default=1, show_default=True, type=click.IntRange(1, 10_000))
@pass_context
def issue(
    ctx: Context,
    amount: int,
    currency: str,
    customer_id: str | None,
    expires: datetime | None,
    count: int,
) -> None:
    """Issue gift cards; each code is printed once (only its hash is kept)."""
    expires_at = None if expires is None else expires.replace(tzinfo=UTC)
    with ctx.open() as store:
        for _ in range(count):
            try:
                card = ledger.issue_gift_card(
                    store, amount, currency, customer_id=customer_id, expires_at=expires_at
                )
            except Refusal as exc:
                raise click.ClickException(exc.message) from None
            click.echo(f"{card.code}\t{card.account_id}\t{amount} {currency}")
