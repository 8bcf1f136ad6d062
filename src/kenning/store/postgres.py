"""PostgreSQL backend (psycopg 3): the production store."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import orjson
import psycopg
import psycopg.errors
from psycopg.pq import TransactionStatus

from kenning.store.access import AnswerRow, KeyTaken
from kenning.store.base import Store
from kenning.store.inventory import Line, Row, StockShortage

_MARK = re.compile(r"\?")
# Any constant works; it names the lock migrations take so two processes never race.
_MIGRATION_LOCK = 0x6B656E6E


def _paramstyle(sql: str) -> str:
    # The shared SQL never holds a literal '?' or '%', so the rewrite is exact.
    return _MARK.sub("%s", sql)


# A one-pair hold in one statement: take the units if available, then (only if taken) the
# reservation, its lines and the idempotent answer. One round trip and, outside a
# transaction, one commit. A key already answered fails the statement as a whole.
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
        AS l(line integer, sku text, location_id text, quantity bigint, mode text))
{answer}SELECT count(*) FROM take"""
_ANSWER = """, answer AS (
    INSERT INTO idempotency_keys (scope, key, request_hash, ok, response)
    SELECT %(scope)s, %(key)s, %(hash)s, %(ok)s, %(response)s::jsonb FROM header)
"""
_HOLD_PLAIN, _HOLD_ANSWERED = _HOLD.format(answer=""), _HOLD.format(answer=_ANSWER)


class PostgresStore(Store):
    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn = psycopg.connect(url, autocommit=True)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # psycopg nests transaction blocks as savepoints.
        with self._conn.transaction():
            yield

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(_paramstyle(sql), params)

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._conn.cursor() as cur:
            cur.executemany(_paramstyle(sql), rows)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(_paramstyle(sql), params).fetchall()

    def insert_reservation(
        self, header: Row, lines: Sequence[Line], answer: AnswerRow | None = None
    ) -> None:
        """As the shared SQL does it, but a hold at one (sku, location), the checkout case,
        is one statement: with its answer, one round trip per reservation."""
        if len({line[:2] for line in lines}) != 1:
            # Several rows to lock: the shared path locks them in (sku, location) order.
            super().insert_reservation(header, lines, answer)
            return
        id_, reference, kind, status, created, expires = header
        sku, location = lines[0][:2]
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
            "lines": orjson.dumps(
                [
                    {"line": n, "sku": s, "location_id": loc, "quantity": q, "mode": m}
                    for n, (s, loc, q, m) in enumerate(lines, start=1)
                ]
            ).decode(),
        }
        sql = _HOLD_PLAIN
        if answer is not None:
            sql = _HOLD_ANSWERED
            scope, key, digest, ok, response = answer.params()
            params |= {"scope": scope, "key": key, "hash": digest, "ok": ok}
            params["response"] = response
        try:
            if self._conn.info.transaction_status == TransactionStatus.IDLE:
                taken = self._conn.execute(sql, params).fetchall()
            else:
                with self.transaction():  # a savepoint: a taken key fails only this
                    taken = self._conn.execute(sql, params).fetchall()
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.table_name == "idempotency_keys":
                raise KeyTaken from None
            raise
        if not taken[0][0]:
            raise StockShortage(sku, location)

    def _is_conflict(self, exc: Exception) -> bool:
        return isinstance(exc, psycopg.errors.UniqueViolation)

    def is_transient(self, exc: BaseException) -> bool:
        return isinstance(
            exc, psycopg.errors.DeadlockDetected | psycopg.errors.SerializationFailure
        )

    def _dialect_slots(self) -> dict[str, str]:
        return {
            "pk": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
            "json": "JSONB",
            "ts": "TIMESTAMPTZ",
            "now": "now()",
        }

    def _lock_for_migration(self) -> None:
        self._execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))

    def close(self) -> None:
        self._conn.close()


@contextmanager
def scratch_schema(server_url: str, prefix: str = "kenning_scratch") -> Iterator[str]:
    """A URL for a fresh, empty schema on ``server_url``, dropped on exit: tests and
    benchmarks each get a database of their own on one server."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in server_url else "?"
    try:
        yield f"{server_url}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
