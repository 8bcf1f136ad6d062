"""PostgreSQL: a hold at one (sku, location), the checkout case, in one statement.

The statement takes the units if they are available and, only then, writes the reservation,
its lines and the idempotent answer; when they are not, it saves the refusal as the key's
answer instead, unless holds past their expiry could free units (then the caller sweeps them
and tries again). One round trip and, outside a transaction, one commit per request. A key
that already has an answer fails the statement as a whole, so nothing is written.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

import orjson
import psycopg
import psycopg.errors
from psycopg.pq import TransactionStatus

from kenning.store.access import AnswerRow, KeyTaken
from kenning.store.inventory import InventoryTables, Line, Row, StockShortage

_HOLD = """WITH take AS (
    UPDATE stock_levels SET reserved = reserved + %(units)s
    WHERE sku = %(sku)s AND location_id = %(location)s
      AND on_hand - reserved - safety_stock >= %(units)s
    RETURNING sku),
header AS (
    INSERT INTO reservations (id, reference, kind, status, created_at, expires_at, updated_at)
    SELECT %(id)s, %(reference)s, %(kind)s, %(status)s, %(created)s, %(expires)s, %(created)s
    FROM take RETURNING id),
lines AS (
    INSERT INTO reservation_lines (reservation_id, line, sku, location_id, quantity, mode)
    SELECT h.id, l.line, l.sku, l.location_id, l.quantity, l.mode FROM header h,
    jsonb_to_recordset(%(lines)s::jsonb)
        AS l(line integer, sku text, location_id text, quantity bigint, mode text)),
due AS (
    SELECT EXISTS (SELECT 1 FROM reservations
                   WHERE status = 'held' AND expires_at <= %(created)s) AS found)
{answer}SELECT (SELECT count(*) FROM take), (SELECT found FROM due)"""
_ANSWER = """, answer AS (
    INSERT INTO idempotency_keys (scope, key, request_hash, ok, response)
    SELECT %(scope)s, %(key)s, %(hash)s, 1, %(response)s::jsonb FROM header
    UNION ALL
    SELECT %(scope)s, %(key)s, %(hash)s, 0, %(refusal)s::jsonb FROM due
    WHERE NOT due.found AND NOT EXISTS (SELECT 1 FROM take)
      AND %(refusal)s::jsonb IS NOT NULL)
"""
_PLAIN, _ANSWERED = _HOLD.format(answer=""), _HOLD.format(answer=_ANSWER)


class OneStatementHolds(InventoryTables):
    @property
    @abstractmethod
    def _conn(self) -> psycopg.Connection[Any]: ...

    def insert_reservation(
        self, header: Row, lines: Sequence[Line], answer: AnswerRow | None = None
    ) -> None:
        if len({line[:2] for line in lines}) != 1:
            # Several rows to lock: the shared path locks them in (sku, location) order.
            super().insert_reservation(header, lines, answer)
            return
        id_, reference, kind, status, created, expires = header
        sku, location = lines[0][:2]
        numbered = [
            {"line": n, "sku": s, "location_id": loc, "quantity": q, "mode": m}
            for n, (s, loc, q, m) in enumerate(lines, start=1)
        ]
        params: dict[str, Any] = {
            "units": sum(line[2] for line in lines),
            "sku": sku,
            "location": location,
            "id": id_,
            "reference": reference,
            "kind": kind,
            "status": status,
            "created": created,
            "expires": expires,
            "lines": orjson.dumps(numbered).decode(),
        }
        sql = _PLAIN
        if answer is not None:
            sql = _ANSWERED
            scope, key, digest, _, response = answer.params()
            refusal = None if answer.refusal is None else orjson.dumps(answer.refusal).decode()
            params |= {"scope": scope, "key": key, "hash": digest}
            params |= {"response": response, "refusal": refusal}
        try:
            if self._conn.info.transaction_status == TransactionStatus.IDLE:
                taken, due = self._conn.execute(sql, params).fetchall()[0]
            else:
                with self.transaction():  # a savepoint: a taken key fails only this
                    taken, due = self._conn.execute(sql, params).fetchall()[0]
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.table_name == "idempotency_keys":
                raise KeyTaken from None
            raise
        if not taken:
            refused = answer is not None and answer.refusal is not None and not due
            raise StockShortage(sku, location, answered=refused)
