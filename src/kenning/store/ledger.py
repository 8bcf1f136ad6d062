"""The value ledger's tables: accounts, transactions, append-only postings, lots, the audit
trail and the loyalty programme.

A holder's balance changes only through a conditional UPDATE inside the transaction that
writes the postings (``balance >= amount`` for a debit), so it never goes below zero: on
PostgreSQL the row lock makes concurrent writers queue and re-check the condition; on SQLite
BEGIN IMMEDIATE makes writers take turns. An account's lots are read and changed only after
its row is locked, and a transaction locks holder rows in id order, so two writers never wait
on each other in a cycle. System accounts are never updated (their balance is the sum of
their postings), so they are no hot row every writer queues on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from kenning.store.access import SAVE_ANSWER, AnswerRow, KeyTaken, _json
from kenning.store.hooks import SqlHooks, marks

ACCOUNT_COLUMNS = "id, kind, unit, customer_id, balance, last4"
LOT_COLUMNS = "id, remaining, expires_at, created_at"
TRANSACTION_COLUMNS = "id, kind, created_at, order_id, customer_id, spend, currency, memo"
Row = tuple[Any, ...]
# (id, kind, unit, customer_id, code_hash, last4, created_at)
AccountRow = tuple[str, str, str, str | None, str | None, str | None, str]
# (account, unit, amount, lot)
PostingRow = tuple[str, str, int, str | None]


# (account, lot, amount)
LotMove = tuple[str, str, int]
# (lot, account, amount, expires_at, created_at)
NewLot = tuple[str, str, int, str | None, str]


@dataclass(frozen=True, slots=True)
class LedgerChange:
    """What a transaction writes besides the balances: header in TRANSACTION_COLUMNS
    order, postings, and the lots it takes from, gives back to and opens."""

    header: Row
    postings: Sequence[PostingRow]
    takes: Sequence[LotMove] = ()
    restores: Sequence[LotMove] = ()
    new_lots: Sequence[NewLot] = ()


class LotConflict(Exception):
    """A lot held less than was taken, or is not the account's; nothing was written."""

    def __init__(self, account_id: str, lot_id: str) -> None:
        super().__init__(f"lot {lot_id} of {account_id}")
        self.account_id = account_id
        self.lot_id = lot_id


class LedgerTables(SqlHooks):
    # ----------------------------------------------------------------- accounts
    def ensure_accounts(self, rows: Sequence[AccountRow]) -> None:
        """Create the accounts that do not exist yet (an existing id is left as it is)."""
        self._executemany(
            "INSERT INTO ledger_accounts (id, kind, unit, customer_id, code_hash, last4, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            rows,
        )

    def account_rows(self, ids: Sequence[str]) -> list[Row]:
        """Accounts in ACCOUNT_COLUMNS order (a system account's stored balance is 0)."""
        if not ids:
            return []
        return self._query(
            f"SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id IN ({marks(len(ids))})", ids
        )

    def account_by_code(self, code_hash: str) -> Row | None:
        rows = self._query(
            f"SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE code_hash = ?", (code_hash,)
        )
        return rows[0] if rows else None

    def customer_account_rows(self, customer_id: str) -> list[Row]:
        return self._query(
            f"SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE customer_id = ? "
            "ORDER BY kind, unit, id",
            (customer_id,),
        )

    def posted_sum(self, account_id: str) -> int:
        rows = self._query(
            "SELECT COALESCE(SUM(amount), 0) FROM ledger_postings WHERE account_id = ?",
            (account_id,),
        )
        return int(rows[0][0])

    def take_balance(self, account_id: str, unit: str, amount: int) -> bool:
        """Debit a holder if it holds ``amount`` in ``unit``; False (nothing changed) if not.
        On PostgreSQL this locks the row until the transaction ends."""
        rows = self._query(
            "UPDATE ledger_accounts SET balance = balance - ? WHERE id = ? AND unit = ? "
            "AND kind <> 'system' AND balance >= ? RETURNING balance",
            (amount, account_id, unit, amount),
        )
        return bool(rows)

    def lock_holders(self, ids: Sequence[str]) -> None:
        """Lock holder rows, in id order, until the transaction ends (on SQLite the writer
        lock already does): what is read of their lots after this stays true."""
        for account_id in sorted(ids):
            self._execute(
                "UPDATE ledger_accounts SET balance = balance WHERE id = ?", (account_id,)
            )

    def add_balance(self, account_id: str, unit: str, amount: int) -> bool:
        """Credit a holder; False if there is no such holder in ``unit``."""
        rows = self._query(
            "UPDATE ledger_accounts SET balance = balance + ? WHERE id = ? AND unit = ? "
            "AND kind <> 'system' RETURNING balance",
            (amount, account_id, unit),
        )
        return bool(rows)

    # ----------------------------------------------------------------- lots
    def open_lots(self, account_id: str) -> list[Row]:
        """The account's lots with something left, in LOT_COLUMNS order."""
        return self._query(
            f"SELECT {LOT_COLUMNS} FROM ledger_lots WHERE account_id = ? AND remaining > 0",
            (account_id,),
        )

    def due_lots(self, now: str, limit: int = 1000) -> list[tuple[str, str, str, int]]:
        """(lot, account, unit, remaining) of lots past their expiry with value left."""
        rows = self._query(
            "SELECT l.id, l.account_id, a.unit, l.remaining FROM ledger_lots l "
            "JOIN ledger_accounts a ON a.id = l.account_id WHERE l.remaining > 0 "
            "AND l.expires_at IS NOT NULL AND l.expires_at <= ? "
            "ORDER BY l.account_id, l.expires_at, l.id LIMIT ?",
            (now, limit),
        )
        return [(str(i), str(a), str(u), int(r)) for i, a, u, r in rows]

    # ----------------------------------------------------------------- transactions
    def record_transaction(self, change: LedgerChange, answer: AnswerRow | None = None) -> None:
        """Write a transaction whose holder balances the caller has already changed (and so
        locked): its lots taken from, given back to and opened, the transaction and its
        postings, and ``answer``, all in the caller's database transaction. LotConflict if
        a lot holds less than is taken or does not belong to its account; KeyTaken if the
        answer's key already has one (the caller rolls back either way)."""
        for account_id, lot_id, amount in change.takes:
            if not self._query(
                "UPDATE ledger_lots SET remaining = remaining - ? WHERE id = ? "
                "AND account_id = ? AND remaining >= ? RETURNING id",
                (amount, lot_id, account_id, amount),
            ):
                raise LotConflict(account_id, lot_id)
        for account_id, lot_id, amount in change.restores:
            if not self._query(
                "UPDATE ledger_lots SET remaining = remaining + ? WHERE id = ? "
                "AND account_id = ? RETURNING id",
                (amount, lot_id, account_id),
            ):
                raise LotConflict(account_id, lot_id)
        if change.new_lots:
            self._executemany(
                "INSERT INTO ledger_lots (id, account_id, amount, remaining, expires_at, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                [(i, a, n, n, e, c) for i, a, n, e, c in change.new_lots],
            )
        header = change.header
        self._execute(
            f"INSERT INTO ledger_transactions ({TRANSACTION_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            header,
        )
        self._execute(
            "INSERT INTO ledger_postings (transaction_id, account_id, unit, amount, lot_id) "
            "VALUES " + ", ".join("(?, ?, ?, ?, ?)" for _ in change.postings),
            [v for posting in change.postings for v in (header[0], *posting)],
        )
        if answer is not None and not self._query(SAVE_ANSWER, answer.params()):
            raise KeyTaken

    def transaction_rows(self, transaction_id: str) -> tuple[Row, list[PostingRow]] | None:
        rows = self._query(
            f"SELECT {TRANSACTION_COLUMNS} FROM ledger_transactions WHERE id = ?",
            (transaction_id,),
        )
        if not rows:
            return None
        postings = self._query(
            "SELECT account_id, unit, amount, lot_id FROM ledger_postings "
            "WHERE transaction_id = ? ORDER BY id",
            (transaction_id,),
        )
        return rows[0], [(a, u, int(n), lot) for a, u, n, lot in postings]

    def lock_order(self, order_id: str) -> None:
        """Hold the order until the caller's transaction ends (on SQLite the writer lock
        already does); what is read after this sees every earlier earn and refund of it."""
        self._execute(
            "INSERT INTO ledger_orders (order_id) VALUES (?) "
            "ON CONFLICT (order_id) DO UPDATE SET order_id = excluded.order_id",
            (order_id,),
        )

    def order_transactions(self, order_id: str) -> list[Row]:
        """The order's transactions in TRANSACTION_COLUMNS order, oldest first."""
        return self._query(
            f"SELECT {TRANSACTION_COLUMNS} FROM ledger_transactions WHERE order_id = ? "
            "ORDER BY created_at, id",
            (order_id,),
        )

    def order_holdings(self, order_id: str) -> list[PostingRow]:
        """What the order's earn, redeem and refund postings still hold, per account and
        lot: (account, unit, net amount, lot)."""
        rows = self._query(
            "SELECT p.account_id, p.unit, SUM(p.amount), p.lot_id FROM ledger_postings p "
            "JOIN ledger_transactions t ON t.id = p.transaction_id WHERE t.order_id = ? "
            "AND t.kind IN ('earn', 'redeem', 'refund') "
            "GROUP BY p.account_id, p.unit, p.lot_id ORDER BY p.account_id, p.lot_id",
            (order_id,),
        )
        return [(a, u, int(n), lot) for a, u, n, lot in rows]

    def rolling_spend(self, customer_id: str, since: str) -> dict[str, int]:
        """Spend per currency since ``since`` (refunds counted off)."""
        rows = self._query(
            "SELECT currency, SUM(spend) FROM ledger_transactions WHERE customer_id = ? "
            "AND spend IS NOT NULL AND created_at >= ? GROUP BY currency",
            (customer_id, since),
        )
        return {str(c): int(s) for c, s in rows}

    # ----------------------------------------------------------------- audit, programme
    def add_audit(self, row: Row, details: Any) -> None:
        """(at, actor, action, customer, account, transaction, reason) and details."""
        self._execute(
            "INSERT INTO ledger_audit (at, actor, action, customer_id, account_id, "
            "transaction_id, reason, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (*row, orjson.dumps(details).decode()),
        )

    def audit_rows(self, customer_id: str | None = None, limit: int = 100) -> list[Row]:
        where, params = (
            ("WHERE customer_id = ? ", (customer_id, limit)) if customer_id else ("", (limit,))
        )
        rows = self._query(
            "SELECT at, actor, action, customer_id, account_id, transaction_id, reason, details "
            f"FROM ledger_audit {where}ORDER BY id DESC LIMIT ?",
            params,
        )
        return [(*r[:-1], _json(r[-1])) for r in rows]

    def programme_data(self, name: str) -> Any:
        rows = self._query("SELECT data FROM loyalty_programmes WHERE name = ?", (name,))
        return _json(rows[0][0]) if rows else None

    def save_programme(self, name: str, data: Any, when: str) -> None:
        self._execute(
            "INSERT INTO loyalty_programmes (name, data, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET data = excluded.data, "
            "updated_at = excluded.updated_at",
            (name, orjson.dumps(data).decode(), when),
        )

    # ----------------------------------------------------------------- verification
    def ledger_problems(self) -> dict[str, list[Row]]:
        """What breaks the ledger's rules, by rule (every list empty: all is well)."""
        return {
            # A holder's balance is the sum of its postings ...
            "balance_not_sum_of_postings": self._query(
                "SELECT a.id, a.balance, COALESCE(SUM(p.amount), 0) FROM ledger_accounts a "
                "LEFT JOIN ledger_postings p ON p.account_id = a.id WHERE a.kind <> 'system' "
                "GROUP BY a.id, a.balance HAVING a.balance <> COALESCE(SUM(p.amount), 0)"
            ),
            # ... and of what its lots have left, and is never negative;
            "balance_not_sum_of_lots": self._query(
                "SELECT a.id, a.balance, COALESCE(SUM(l.remaining), 0) FROM ledger_accounts a "
                "LEFT JOIN ledger_lots l ON l.account_id = a.id WHERE a.kind <> 'system' "
                "GROUP BY a.id, a.balance HAVING a.balance <> COALESCE(SUM(l.remaining), 0)"
            ),
            "negative_balance": self._query(
                "SELECT id, balance FROM ledger_accounts WHERE kind <> 'system' AND balance < 0"
            ),
            # every transaction sums to zero in each unit;
            "transaction_not_zero": self._query(
                "SELECT transaction_id, unit, SUM(amount) FROM ledger_postings "
                "GROUP BY transaction_id, unit HAVING SUM(amount) <> 0"
            ),
            # a posting's unit is its account's.
            "unit_mismatch": self._query(
                "SELECT p.id, p.account_id, p.unit, a.unit FROM ledger_postings p "
                "JOIN ledger_accounts a ON a.id = p.account_id WHERE p.unit <> a.unit"
            ),
        }

    def ledger_counts(self) -> tuple[int, int, int]:
        """(accounts, transactions, postings)."""
        rows = self._query(
            "SELECT (SELECT COUNT(*) FROM ledger_accounts), "
            "(SELECT COUNT(*) FROM ledger_transactions), (SELECT COUNT(*) FROM ledger_postings)"
        )
        return int(rows[0][0]), int(rows[0][1]), int(rows[0][2])
