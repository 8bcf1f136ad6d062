"""The value ledger: post balanced transactions, issue and redeem gift cards and store
credit, transfer, expire what is due, read balances, verify the books.

Every write runs in one database transaction with its idempotency key's answer (a retry with
the same key gets the first answer and posts nothing; the same key for another request is
refused). Holder rows are locked in account id order by their conditional balance update
before their lots are read, so concurrent debits never overspend and never deadlock.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Annotated, Any, TypedDict, TypeVar, Unpack

from pydantic import Field

from kenning.commerce.inventory.stock import stamp
from kenning.commerce.ledger.cards import code_hash, last4, new_code
from kenning.commerce.ledger.errors import LedgerError
from kenning.commerce.ledger.lots import Lot, allocate, next_expiry, spendable
from kenning.commerce.ledger.postings import (
    HOLDER_KINDS,
    SYSTEM_PURPOSES,
    Account,
    AccountKind,
    Posting,
    Transaction,
    TransactionKind,
    check_amount,
    check_postings,
    check_unit,
    customer_account_id,
    system_account_id,
)
from kenning.services.aliases import customer_ids
from kenning.services.idempotency import Answering, once, once_saved_by_write
from kenning.services.inventory import utcnow
from kenning.store import Store
from kenning.store.ledger import LedgerChange, LotConflict, LotMove, NewLot

SCOPE = "ledger"
T = TypeVar("T")


# --------------------------------------------------------------------- posting
def _is_system(account_id: str) -> bool:
    return account_id.startswith("system:")


# (database URL, system account id) known to exist: they are never deleted.
_SYSTEM_ACCOUNTS: set[tuple[str, str]] = set()


def ensure_system_accounts(store: Store, ids: Iterable[str], when: str) -> None:
    """Create the system accounts ``ids`` names (``system:PURPOSE:UNIT``) if missing.
    Called before a write's transaction, so the accounts outlive a write that rolls back."""
    missing = sorted({i for i in ids if (store.url, i) not in _SYSTEM_ACCOUNTS})
    rows = []
    for account_id in missing:
        _, purpose, unit = [*account_id.split(":"), "", ""][:3]
        if system_account_id(purpose, check_unit(unit, "system")) != account_id:
            raise LedgerError("invalid", f"not a system account: {account_id!r}")
        rows.append((account_id, "system", unit, None, None, None, when))
    if rows:
        store.ensure_accounts(rows)
        _SYSTEM_ACCOUNTS.update((store.url, account_id) for account_id in missing)


def _why_not(store: Store, posting: Posting, amount: int) -> LedgerError:
    rows = store.account_rows([posting.account_id])
    if not rows:
        return LedgerError("not_found", f"no account {posting.account_id!r}")
    _, _, unit, _, balance, _ = rows[0]
    if unit != posting.unit:
        return LedgerError(
            "invalid", f"account {posting.account_id} holds {unit}, not {posting.unit}"
        )
    return LedgerError(
        "insufficient_funds", f"account {posting.account_id} holds {balance} {unit}, not {amount}"
    )


def _debit(store: Store, posting: Posting, when: str) -> list[LotMove]:
    """Lock and debit the holder's balance; the lots to take the amount from."""
    amount = -posting.amount
    if not store.take_balance(posting.account_id, posting.unit, amount):
        raise _why_not(store, posting, amount)
    if posting.lot_id is not None:
        return [(posting.account_id, posting.lot_id, amount)]
    lots = [Lot(i, int(r), e, c) for i, r, e, c in store.open_lots(posting.account_id)]
    return [(posting.account_id, lot, n) for lot, n in allocate(lots, amount, when)]


def _credit(
    store: Store, posting: Posting, when: str, restores: list[LotMove], new_lots: list[NewLot]
) -> Posting:
    """Lock and credit the holder's balance, giving back to a lot or opening one."""
    if not store.add_balance(posting.account_id, posting.unit, posting.amount):
        raise _why_not(store, posting, posting.amount)
    lot = posting.lot_id
    if lot is None:
        lot = "lot_" + uuid.uuid4().hex
        new_lots.append((lot, posting.account_id, posting.amount, posting.expires_at, when))
    else:
        restores.append((posting.account_id, lot, posting.amount))
    return Posting(posting.account_id, posting.unit, posting.amount, lot)


def post(
    store: Store,
    kind: TransactionKind,
    postings: Sequence[Posting],
    *,
    when: str,
    order_id: str | None = None,
    customer_id: str | None = None,
    spend: int | None = None,
    currency: str | None = None,
    memo: str = "",
    answering: Answering | None = None,
) -> Transaction:
    """Write one balanced transaction; the caller holds the database transaction. Debits
    of holders take soonest-expiring unexpired lots first and are refused (rolling back
    everything) when the account holds less. ``answering``: save the transaction as the
    idempotency key's answer with it."""
    checked = check_postings(postings)
    credited = {p.account_id for p in checked if p.amount > 0 and not _is_system(p.account_id)}
    if any(p.amount < 0 and p.account_id in credited for p in checked):
        raise LedgerError("invalid", "a transaction either debits or credits an account")
    final: list[Posting] = []
    takes: list[LotMove] = []
    restores: list[LotMove] = []
    new_lots: list[NewLot] = []
    for posting in sorted(checked, key=lambda p: (p.account_id, p.amount)):
        if _is_system(posting.account_id):
            if not posting.account_id.endswith(f":{posting.unit}"):
                raise LedgerError("invalid", f"{posting.account_id} is not in {posting.unit}")
            final.append(Posting(posting.account_id, posting.unit, posting.amount))
        elif posting.amount < 0:
            moved = _debit(store, posting, when)
            takes += moved
            final += [Posting(account, posting.unit, -n, lot) for account, lot, n in moved]
        else:
            final.append(_credit(store, posting, when, restores, new_lots))
    made = Transaction(
        "txn_" + uuid.uuid4().hex,
        kind,
        when,
        tuple(final),
        order_id,
        customer_id,
        spend,
        currency,
        memo,
    )
    change = LedgerChange(
        (made.id, kind, when, order_id, customer_id, spend, currency, memo),
        [(p.account_id, p.unit, p.amount, p.lot_id) for p in final],
        takes,
        restores,
        new_lots,
    )
    try:
        store.record_transaction(change, None if answering is None else answering.row(made))
    except LotConflict as lot:
        raise LedgerError(
            "conflict", f"lot {lot.lot_id} of {lot.account_id} cannot take that"
        ) from None
    return made


def run_once(
    store: Store,
    key: str | None,
    request: Mapping[str, Any],
    action: Callable[[], T],
    kind: type[T],
    system_accounts: Iterable[str] = (),
    when: str = "",
) -> T:
    """``action`` in one database transaction with the key's answer (see ``once``)."""
    ensure_system_accounts(store, system_accounts, when or stamp(utcnow()))
    if key is None:
        with store.transaction():
            return action()
    return once(store, SCOPE, key, request, action, kind)


def run_posting(
    store: Store,
    key: str | None,
    request: Mapping[str, Any],
    action: Callable[[Answering | None], Transaction],
    system_accounts: Iterable[str],
    when: str,
) -> Transaction:
    """``run_once`` for a write whose answer is the transaction it posts: the answer is
    saved by the statement that writes the transaction (the hot path: redemptions)."""
    ensure_system_accounts(store, system_accounts, when)

    def act(answering: Answering | None) -> Transaction:
        with store.transaction():
            return action(answering)

    return once_saved_by_write(store, SCOPE, key, request, act, Transaction)


def _audit(
    store: Store,
    when: str,
    actor: str,
    action: str,
    made: Transaction,
    reason: str,
    account_id: str | None = None,
) -> None:
    details = {
        "kind": made.kind,
        "postings": [[p.account_id, p.unit, p.amount] for p in made.postings],
    }
    store.add_audit((when, actor, action, made.customer_id, account_id, made.id, reason), details)


# --------------------------------------------------------------------- accounts
def _account(row: Sequence[Any]) -> Account:
    id_, kind, unit, customer, balance, four = row
    return Account(id_, kind, unit, customer, int(balance), four)


def get_account(store: Store, account_id: str) -> Account:
    rows = store.account_rows([account_id])
    if not rows:
        raise LedgerError("not_found", f"no account {account_id!r}")
    account = _account(rows[0])
    if not account.holder:  # a system account's balance is the sum of its postings
        account = Account(account.id, "system", account.unit, None, store.posted_sum(account_id))
    return account


def ensure_customer_account(store: Store, kind: AccountKind, customer_id: str, unit: str) -> str:
    account_id = customer_account_id(kind, customer_id, check_unit(unit, kind))
    store.ensure_accounts([(account_id, kind, unit, customer_id, None, None, stamp(utcnow()))])
    return account_id


@dataclass(frozen=True, slots=True)
class IssuedCard:
    """A new gift card. ``code`` is shown once: it is not stored (only its hash), nor kept
    in the idempotent answer, so a retry of the issue answers without it."""

    account_id: str
    last4: str
    unit: str
    amount: int
    expires_at: str | None
    transaction: Transaction
    code: Annotated[str | None, Field(exclude=True)] = None


class Giving(TypedDict, total=False):
    """How value is given: expiring when, under which idempotency key, at what time, from
    which system account (``issuance``, ``goodwill``), by whom and why (``actor`` set: the
    gift goes into the audit trail)."""

    expires_at: datetime | None
    key: str | None
    now: datetime | None
    source: str
    actor: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class _Gift:
    when: str
    expiry: str | None
    source: str
    actor: str | None
    reason: str
    key: str | None

    @classmethod
    def of(cls, giving: Giving) -> _Gift:
        expires_at = giving.get("expires_at")
        return cls(
            stamp(giving.get("now") or utcnow()),
            None if expires_at is None else stamp(expires_at),
            giving.get("source", "issuance"),
            giving.get("actor"),
            giving.get("reason", ""),
            giving.get("key"),
        )

    def origin(self, unit: str) -> str:
        return system_account_id(self.source, unit)

    def request(self, **fields: Any) -> dict[str, Any]:
        mine = {"expires_at": self.expiry, "source": self.source, "actor": self.actor}
        return {**fields, **mine, "reason": self.reason}

    def give(
        self, store: Store, what: str, account_id: str, amount: int, unit: str, customer: str | None
    ) -> Transaction:
        """Post ``amount`` from the origin to ``account_id`` (a new lot), audited if an
        actor gives it; inside the caller's database transaction."""
        check_amount(amount)
        if self.expiry is not None and self.expiry <= self.when:
            raise LedgerError("invalid", "value cannot expire before it is given")
        kind: TransactionKind = "goodwill" if self.source == "goodwill" else "issue"
        postings = [
            Posting(self.origin(unit), unit, -amount),
            Posting(account_id, unit, amount, None, self.expiry),
        ]
        made = post(store, kind, postings, when=self.when, customer_id=customer, memo=self.reason)
        if self.actor is not None:
            _audit(store, self.when, self.actor, f"{what}.{kind}", made, self.reason, account_id)
        return made


def issue_gift_card(
    store: Store,
    amount: int,
    currency: str,
    *,
    customer_id: str | None = None,
    **giving: Unpack[Giving],
) -> IssuedCard:
    """A new card holding ``amount`` (sold, or given as goodwill)."""
    gift = _Gift.of(giving)
    check_unit(currency, "gift_card")

    def act() -> IssuedCard:
        code = new_code()
        account_id = "gc_" + uuid.uuid4().hex
        row = (account_id, "gift_card", currency, customer_id, code_hash(code), last4(code))
        store.ensure_accounts([(*row, gift.when)])
        made = gift.give(store, "gift_card", account_id, amount, currency, customer_id)
        return IssuedCard(account_id, last4(code), currency, amount, gift.expiry, made, code)

    request = gift.request(op="issue_gift_card", amount=amount, unit=currency, customer=customer_id)
    origin = [gift.origin(currency)]
    return run_once(store, gift.key, request, act, IssuedCard, origin, gift.when)


def card_account(store: Store, code: str) -> Account:
    row = store.account_by_code(code_hash(code))
    if row is None:
        raise LedgerError("not_found", "no gift card with that code")
    return _account(row)


def redeem(
    store: Store,
    account: Account,
    amount: int,
    *,
    order_id: str | None = None,
    key: str | None = None,
    now: datetime | None = None,
    pooled: Sequence[str] = (),
) -> Transaction:
    """Spend ``amount`` of a holder account on an order: soonest-expiring value first.
    ``pooled``: more accounts of its unit spent with it, soonest-expiring first across all
    of them (a customer's and those of the ids merged into it)."""
    when = stamp(now or utcnow())
    target = system_account_id("redemption", account.unit)
    pool = sorted({account.id, *pooled})

    def act(answering: Answering | None) -> Transaction:
        check_amount(amount)
        if len(pool) == 1:
            debits = [Posting(account.id, account.unit, -amount)]
        else:
            debits = _spread(store, pool, account.unit, amount, when)
        return post(
            store,
            "redeem",
            [*debits, Posting(target, account.unit, amount)],
            when=when,
            order_id=order_id,
            customer_id=account.customer_id,
            answering=answering,
        )

    request = {"op": "redeem", "account": account.id, "amount": amount, "order": order_id}
    return run_posting(store, key, request, act, [target], when)


def _spread(store: Store, pool: Sequence[str], unit: str, amount: int, when: str) -> list[Posting]:
    """Debits taking ``amount`` from the lots of the accounts in ``pool``, soonest-expiring
    first across them; the accounts are locked (in id order) before their lots are read."""
    store.lock_holders(pool)
    owner: dict[str, str] = {}
    lots: list[Lot] = []
    for account_id in pool:
        for i, r, e, c in store.open_lots(account_id):
            owner[i] = account_id
            lots.append(Lot(i, int(r), e, c))
    return [Posting(owner[lot], unit, -n, lot) for lot, n in allocate(lots, amount, when)]


def redeem_customer(
    store: Store, customer_id: str, kind: AccountKind, unit: str, amount: int, **options: Any
) -> Transaction:
    """Spend the customer's store credit or points in ``unit``: theirs and what the ids
    merged into them hold (see aliases.py), soonest-expiring first across all."""
    wanted = [
        customer_account_id(kind, c, check_unit(unit, kind))
        for c in customer_ids(store, customer_id)
    ]
    found = {row[0]: _account(row) for row in store.account_rows(wanted)}
    if not found:
        raise LedgerError("not_found", f"no account {wanted[0]!r}")
    own = found.get(wanted[0]) or Account(wanted[0], kind, unit, customer_id, 0)
    return redeem(store, own, amount, pooled=sorted(found), **options)


def redeem_gift_card(store: Store, code: str, amount: int, **options: Any) -> Transaction:
    return redeem(store, card_account(store, code), amount, **options)


def issue_to_customer(
    store: Store,
    customer_id: str,
    kind: AccountKind,
    amount: int,
    unit: str,
    **giving: Unpack[Giving],
) -> Transaction:
    """Store credit (or points) into the customer's own account."""
    gift = _Gift.of(giving)
    account_id = ensure_customer_account(store, kind, customer_id, unit)

    def act() -> Transaction:
        return gift.give(store, kind, account_id, amount, unit, customer_id)

    request = gift.request(op="issue", amount=amount, unit=unit, customer=customer_id, kind=kind)
    origin = [gift.origin(unit)]
    return run_once(store, gift.key, request, act, Transaction, origin, gift.when)


def customer_account(store: Store, customer_id: str, kind: AccountKind, unit: str) -> Account:
    return get_account(store, customer_account_id(kind, customer_id, check_unit(unit, kind)))


def transfer(
    store: Store,
    source: str,
    target: str,
    amount: int,
    unit: str,
    *,
    key: str | None = None,
    now: datetime | None = None,
    actor: str | None = None,
    reason: str = "",
) -> Transaction:
    """Move value between two holder accounts of one unit (a gift card onto store credit)."""
    return post_transaction(
        store,
        "transfer",
        [Posting(source, unit, -check_amount(amount)), Posting(target, unit, amount)],
        key=key,
        now=now,
        actor=actor,
        reason=reason,
    )


def post_transaction(
    store: Store,
    kind: TransactionKind,
    postings: Sequence[Posting],
    *,
    key: str | None = None,
    now: datetime | None = None,
    order_id: str | None = None,
    actor: str | None = None,
    reason: str = "",
) -> Transaction:
    """A transaction of any postings that balance (a correction, a transfer …); audited
    when ``actor`` says who asked."""
    when = stamp(now or utcnow())
    if kind in ("expire", "earn", "refund"):
        raise LedgerError("invalid", f"{kind} transactions are made by their own operation")
    systems = [p.account_id for p in postings if _is_system(p.account_id)]

    def act(answering: Answering | None) -> Transaction:
        made = post(
            store, kind, postings, when=when, order_id=order_id, memo=reason, answering=answering
        )
        if actor is not None:
            _audit(store, when, actor, f"transaction.{kind}", made, reason)
        return made

    request = {
        "op": "post",
        "kind": kind,
        "postings": [[p.account_id, p.unit, p.amount, p.lot_id, p.expires_at] for p in postings],
        "order": order_id,
        "actor": actor,
        "reason": reason,
    }
    return run_posting(store, key, request, act, systems, when)


def get_transaction(store: Store, transaction_id: str) -> Transaction:
    found = store.transaction_rows(transaction_id)
    if found is None:
        raise LedgerError("not_found", f"no transaction {transaction_id!r}")
    (id_, kind, created, order, customer, spend, currency, memo), rows = found
    postings = tuple(Posting(*row) for row in rows)
    spent = None if spend is None else int(spend)
    return Transaction(id_, kind, created, postings, order, customer, spent, currency, memo)


# --------------------------------------------------------------------- expiry
def expire_due(store: Store, now: datetime | None = None, batch: int = 500) -> int:
    """Move what is left in every lot past its expiry to the expiry account (breakage),
    one transaction per account; returns the lots expired."""
    when = stamp(now or utcnow())
    expired = 0
    while True:
        due = store.due_lots(when, batch)
        done = 0
        for account_id, lots in groupby(due, key=lambda lot: lot[1]):
            group = list(lots)
            unit = group[0][2]
            target = system_account_id("expiry", unit)
            total = sum(remaining for *_, remaining in group)
            postings = [Posting(account_id, unit, -n, lot) for lot, _, _, n in group]
            postings.append(Posting(target, unit, total))
            try:
                _expire(store, postings, target, when)
            except LedgerError:
                continue  # changed meanwhile (another expiry run): the next pass sees it
            done += len(group)
        expired += done
        if len(due) < batch or not done:
            return expired


def _expire(store: Store, postings: list[Posting], target: str, when: str) -> None:
    def act() -> Transaction:
        return post(store, "expire", postings, when=when, memo="expired")

    run_once(store, None, {}, act, Transaction, [target], when)


# --------------------------------------------------------------------- reading
@dataclass(frozen=True, slots=True)
class AccountBalance:
    account_id: str
    kind: AccountKind
    unit: str
    balance: int  # every lot's remaining value, expired or not (until the job runs)
    available: int  # what can be spent now: the unexpired lots
    last4: str | None
    next_expiry: str | None
    expiring: int  # how much expires then


def account_balance(store: Store, account: Account, now: datetime | None = None) -> AccountBalance:
    when = stamp(now or utcnow())
    lots = [Lot(i, int(r), e, c) for i, r, e, c in store.open_lots(account.id)]
    soon = next_expiry(lots, when)
    return AccountBalance(
        account.id,
        account.kind,
        account.unit,
        account.balance,
        spendable(lots, when),
        account.last4,
        soon[0] if soon else None,
        soon[1] if soon else 0,
    )


def customer_accounts(store: Store, customer_id: str) -> list[Account]:
    return [_account(row) for row in store.customer_account_rows(customer_id)]


_AUDIT_FIELDS = ("at", "actor", "action", "customer_id", "account_id", "transaction_id")


def audit_trail(
    store: Store, customer_id: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Who did what by hand and why, newest first."""
    names = (*_AUDIT_FIELDS, "reason", "details")
    return [dict(zip(names, row, strict=True)) for row in store.audit_rows(customer_id, limit)]


def verify(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every rule the books break, with the offending rows; all empty when they balance:
    each holder's balance is the sum of its postings and of its lots and never negative,
    each transaction sums to zero in every unit."""
    return store.ledger_problems()


__all__ = [
    "HOLDER_KINDS",
    "SYSTEM_PURPOSES",
    "AccountBalance",
    "Giving",
    "IssuedCard",
    "account_balance",
    "audit_trail",
    "card_account",
    "customer_account",
    "customer_accounts",
    "expire_due",
    "get_account",
    "get_transaction",
    "issue_gift_card",
    "issue_to_customer",
    "post",
    "post_transaction",
    "redeem",
    "redeem_customer",
    "redeem_gift_card",
    "transfer",
    "verify",
]
