"""PostgreSQL: everything a ledger transaction writes after its balance updates, in one
statement.

The lots taken from, given back to and opened, the transaction, its postings and the
idempotent answer go in one data-modifying CTE: one round trip where the shared path makes
one per lot, one for the header, one for the postings and one for the answer. A lot that
holds less than is taken (or is not its account's) leaves the counts short, and the caller's
transaction rolls back; a key that already has an answer fails the statement as a whole.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import orjson
import psycopg
import psycopg.errors

from kenning.store.access import AnswerRow, KeyTaken
from kenning.store.ledger import LedgerChange, LedgerTables, LotConflict

_RECORD = """WITH took AS (
    UPDATE ledger_lots l SET remaining = l.remaining - m.amount
    FROM jsonb_to_recordset(%(takes)s::jsonb) AS m(account_id text, id text, amount bigint)
    WHERE l.id = m.id AND l.account_id = m.account_id AND l.remaining >= m.amount
    RETURNING l.id),
restored AS (
    UPDATE ledger_lots l SET remaining = l.remaining + m.amount
    FROM jsonb_to_recordset(%(restores)s::jsonb) AS m(account_id text, id text, amount bigint)
    WHERE l.id = m.id AND l.account_id = m.account_id
    RETURNING l.id),
opened AS (
    INSERT INTO ledger_lots (id, account_id, amount, remaining, expires_at, created_at)
    SELECT n.id, n.account_id, n.amount, n.amount, n.expires_at, n.created_at
    FROM jsonb_to_recordset(%(lots)s::jsonb)
        AS n(id text, account_id text, amount bigint, expires_at text, created_at text)),
header AS (
    INSERT INTO ledger_transactions
        (id, kind, created_at, order_id, customer_id, spend, currency, memo)
    VALUES (%(id)s, %(kind)s, %(created)s, %(order)s, %(customer)s, %(spend)s, %(currency)s,
            %(memo)s)
    RETURNING id),
posted AS (
    INSERT INTO ledger_postings (transaction_id, account_id, unit, amount, lot_id)
    SELECT h.id, p.account_id, p.unit, p.amount, p.lot_id FROM header h,
    ROWS FROM (jsonb_to_recordset(%(postings)s::jsonb)
        AS (account_id text, unit text, amount bigint, lot_id text))
        WITH ORDINALITY AS p(account_id, unit, amount, lot_id, n)
    ORDER BY p.n)
{answer}SELECT (SELECT count(*) FROM took), (SELECT count(*) FROM restored)"""
_ANSWER = """, answer AS (
    INSERT INTO idempotency_keys (scope, key, request_hash, ok, response)
    SELECT %(scope)s, %(key)s, %(hash)s, 1, %(response)s::jsonb FROM header)
"""
_PLAIN, _ANSWERED = _RECORD.format(answer=""), _RECORD.format(answer=_ANSWER)
_MOVE = ("account_id", "id", "amount")


def _records(names: tuple[str, ...], rows: Any) -> str:
    return orjson.dumps([dict(zip(names, row, strict=True)) for row in rows]).decode()


class OneStatementLedger(LedgerTables):
    @property
    @abstractmethod
    def _conn(self) -> psycopg.Connection[Any]: ...

    def record_transaction(self, change: LedgerChange, answer: AnswerRow | None = None) -> None:
        id_, kind, created, order, customer, spend, currency, memo = change.header
        params: dict[str, Any] = {
            "takes": _records(_MOVE, change.takes),
            "restores": _records(_MOVE, change.restores),
            "lots": _records(
                ("id", "account_id", "amount", "expires_at", "created_at"), change.new_lots
            ),
            "id": id_,
            "kind": kind,
            "created": created,
            "order": order,
            "customer": customer,
            "spend": spend,
            "currency": currency,
            "memo": memo,
            "postings": _records(("account_id", "unit", "amount", "lot_id"), change.postings),
        }
        sql = _PLAIN
        if answer is not None:
            sql = _ANSWERED
            scope, key, digest, _, response = answer.params()
            params |= {"scope": scope, "key": key, "hash": digest, "response": response}
        try:
            took, restored = self._conn.execute(sql, params).fetchall()[0]
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.table_name == "idempotency_keys":
                raise KeyTaken from None
            raise
        for moves, done in ((change.takes, took), (change.restores, restored)):
            if done != len(moves):
                account_id, lot_id, _ = moves[0]
                raise LotConflict(account_id, lot_id)
