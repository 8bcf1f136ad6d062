"""The tables of what customers do — orders and lines, returns, registrations, repairs and
their status trail, e-mail engagement, browsing — keyed by the source record that did it,
with the retailer's stores and products; and sign-up verifications and the mail outbox.

Every write is an insert that ignores a row already there, so importing or receiving the
same activity twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kenning.store.hooks import SqlHooks, by_source, chunks, marks

RecordKey = tuple[str, str]
# A customer id, or some records.
Who = str | Sequence[RecordKey]

_TABLES: dict[str, tuple[str, ...]] = {
    "activity_stores": ("store_id", "name", "city", "country", "postcode", "lat", "lon", "kind"),
    "activity_products": ("sku", "currency", "name", "category", "price_minor"),
    "activity_orders": ("order_id", "source", "record_id", "channel", "store_id",
                        "associate_id", "ordered_at", "currency", "total_minor"),
    "activity_order_lines": ("order_id", "line_no", "sku", "quantity", "unit_price_minor",
                             "serial_number"),
    "activity_returns": ("order_id", "sku", "returned_at", "amount_minor"),
    "activity_registrations": ("source", "record_id", "serial_number", "sku", "store_id",
                               "purchased_on", "registered_at"),
    "activity_repairs": ("repair_id", "serial_number", "source", "record_id", "store_id",
                         "received_at"),
    "activity_repair_events": ("repair_id", "status", "at", "store_id"),
    "activity_email": ("source", "record_id", "campaign_id", "event", "at", "url"),
    "activity_browsing": ("anonymous_id", "session_id", "source", "record_id", "event", "sku",
                          "at"),
}  # fmt: skip
ACTIVITY_TABLES = tuple(_TABLES)


@dataclass(frozen=True, slots=True)
class Verification:
    id: str
    customer_id: str
    email: str
    code_hash: str
    expires_at: str
    attempts: int
    verified_at: str | None
    # The normalised address and the (hashed) client the code was issued to: what the
    # limits count.
    mailbox: str = ""
    client: str = ""


@dataclass(frozen=True, slots=True)
class Mail:
    id: int
    key: str
    recipient: str
    subject: str
    body: str


class ActivityTables(SqlHooks):
    # ----------------------------------------------------------------- writes
    def add_activity(self, table: str, rows: Iterable[Sequence[Any]]) -> int:
        """Insert rows into one activity table, ignoring those already there; returns how
        many of ``rows`` were given (the count of new ones is ``activity_count`` after)."""
        columns = _TABLES[table]
        batch = list(rows)
        if batch:
            self._executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks(len(columns))}) "
                "ON CONFLICT DO NOTHING",
                batch,
            )
        return len(batch)

    def activity_count(self, table: str) -> int:
        if table not in _TABLES:
            raise ValueError(f"no activity table {table}")
        return int(self._query(f"SELECT COUNT(*) FROM {table}")[0][0])

    def has_activity(self, table: str, where: dict[str, Any]) -> bool:
        if table not in _TABLES or not set(where) <= set(_TABLES[table]):
            raise ValueError(f"cannot look up {table} by {sorted(where)}")
        clause = " AND ".join(f"{c} = ?" for c in where)
        return bool(
            self._query(f"SELECT 1 FROM {table} WHERE {clause} LIMIT 1", list(where.values()))
        )

    # ----------------------------------------------------------------- a customer's activity
    def _by_records(
        self, table: str, columns: str, who: Who, tail: str = "", where: str = ""
    ) -> list[tuple[Any, ...]]:
        """Rows of ``who``: a customer id (her records, in one query through the customer's
        index) or a list of record keys."""
        if isinstance(who, str):
            return self._query(
                f"SELECT {columns} FROM {table} WHERE (source, record_id) IN "
                f"(SELECT source, record_id FROM customer_records WHERE customer_id = ?)"
                f"{where}{tail}",
                (who,),
            )
        out: list[tuple[Any, ...]] = []
        for source, ids in by_source(who):
            out += self._query(
                f"SELECT {columns} FROM {table} "
                f"WHERE source = ? AND record_id IN ({marks(len(ids))}){where}{tail}",
                (source, *ids),
            )
        return out

    def orders_of(self, records: Who) -> list[tuple[Any, ...]]:
        """(order_id, source, record_id, channel, store_id, associate_id, ordered_at,
        currency, total_minor) of the records' orders."""
        return self._by_records("activity_orders", ", ".join(_TABLES["activity_orders"]), records)

    def _by_ids(self, select: str, column: str, ids: Sequence[str]) -> list[tuple[Any, ...]]:
        out: list[tuple[Any, ...]] = []
        for part in chunks(ids):
            out += self._query(f"{select} WHERE {column} IN ({marks(len(part))})", part)
        return out

    def lines_of(self, order_ids: Sequence[str]) -> list[tuple[Any, ...]]:
        """(order_id, line_no, sku, quantity, unit_price_minor, serial_number, category)."""
        return self._by_ids(
            "SELECT l.order_id, l.line_no, l.sku, l.quantity, l.unit_price_minor, "
            "l.serial_number, (SELECT MIN(p.category) FROM activity_products p "
            "WHERE p.sku = l.sku) FROM activity_order_lines l",
            "l.order_id",
            order_ids,
        )

    def returns_of(self, order_ids: Sequence[str]) -> list[tuple[Any, ...]]:
        return self._by_ids(
            "SELECT order_id, sku, returned_at, amount_minor FROM activity_returns",
            "order_id",
            order_ids,
        )

    def registrations_of(self, records: Who) -> list[tuple[Any, ...]]:
        """(serial_number, sku, store_id, purchased_on, registered_at, source, record_id,
        product name, category)."""
        return self._by_records(
            "activity_registrations r",
            "serial_number, sku, store_id, purchased_on, registered_at, source, record_id, "
            "(SELECT MIN(p.name) FROM activity_products p WHERE p.sku = r.sku), "
            "(SELECT MIN(p.category) FROM activity_products p WHERE p.sku = r.sku)",
            records,
        )

    def repairs_of(self, records: Who) -> list[tuple[Any, ...]]:
        """(repair_id, serial_number, store_id, received_at) of the records' repairs."""
        return self._by_records(
            "activity_repairs", "repair_id, serial_number, store_id, received_at", records
        )

    def repair(self, repair_id: str) -> tuple[Any, ...] | None:
        rows = self._query(
            f"SELECT {', '.join(_TABLES['activity_repairs'])} FROM activity_repairs "
            "WHERE repair_id = ?",
            (repair_id,),
        )
        return rows[0] if rows else None

    def repair_events_of(self, repair_ids: Sequence[str]) -> list[tuple[Any, ...]]:
        """(repair_id, status, at, store_id), oldest first."""
        rows = self._by_ids(
            "SELECT repair_id, status, at, store_id FROM activity_repair_events",
            "repair_id",
            repair_ids,
        )
        return sorted(rows, key=lambda r: (r[2], r[0]))

    def email_counts_of(self, records: Who) -> list[tuple[Any, ...]]:
        """(event, count, last at) of the records' e-mail events."""
        rows = self._by_records(
            "activity_email", "event, COUNT(*), MAX(at)", records, " GROUP BY event"
        )
        merged: dict[str, tuple[int, str]] = {}
        for event, count, last in rows:
            n, at = merged.get(event, (0, ""))
            merged[event] = (n + int(count), max(at, str(last)))
        return [(e, n, at) for e, (n, at) in sorted(merged.items())]

    def browsing_of(
        self, records: Who, anonymous_ids: Sequence[str], limit: int
    ) -> list[tuple[Any, ...]]:
        """(event, sku, at, anonymous_id) of the records' and visitors' browsing, newest first."""
        cols = "event, sku, at, anonymous_id"
        rows = self._by_records(
            "activity_browsing",
            cols,
            records,
            f" ORDER BY at DESC LIMIT {int(limit)}",
            " AND record_id <> ''",
        )
        for part in chunks(anonymous_ids):
            rows += self._query(
                f"SELECT {cols} FROM activity_browsing "
                f"WHERE anonymous_id IN ({marks(len(part))}) ORDER BY at DESC LIMIT {int(limit)}",
                part,
            )
        return sorted(set(rows), key=lambda r: r[2], reverse=True)[:limit]

    def activity_stores(self) -> list[tuple[Any, ...]]:
        return self._query(
            f"SELECT {', '.join(_TABLES['activity_stores'])} FROM activity_stores ORDER BY store_id"
        )

    def product_names(self, skus: Sequence[str]) -> dict[str, tuple[str, str]]:
        """sku → (name, category)."""
        found: dict[str, tuple[str, str]] = {}
        for part in chunks(skus):
            for sku, name, category in self._query(
                "SELECT sku, MIN(name), MIN(category) FROM activity_products "
                f"WHERE sku IN ({marks(len(part))}) GROUP BY sku",
                part,
            ):
                found[sku] = (name, category)
        return found

    # ----------------------------------------------------------------- sign-up verification
    def add_verification(self, v: Verification) -> None:
        self._execute(
            "INSERT INTO account_verifications (id, customer_id, email, code_hash, expires_at, "
            "attempts, verified_at, mailbox, client) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (v.id, v.customer_id, v.email, v.code_hash, v.expires_at, v.attempts, v.verified_at,
             v.mailbox, v.client),
        )  # fmt: skip

    def drop_verification(self, verification_id: str) -> None:
        """Forget a code that never left (its sending failed): it counts against no limit."""
        self._execute("DELETE FROM account_verifications WHERE id = ?", (verification_id,))

    def verification(self, verification_id: str) -> Verification | None:
        rows = self._query(
            "SELECT id, customer_id, email, code_hash, expires_at, attempts, verified_at, "
            "mailbox, client FROM account_verifications WHERE id = ?",
            (verification_id,),
        )
        return Verification(*rows[0]) if rows else None

    def codes_to_mailbox_since(self, mailbox: str, expires_after: str) -> int:
        """Codes issued to ``mailbox`` that expire after ``expires_after`` (recent ones)."""
        rows = self._query(
            "SELECT COUNT(*) FROM account_verifications WHERE mailbox = ? AND expires_at > ?",
            (mailbox, expires_after),
        )
        return int(rows[0][0])

    def codes_to_client_since(self, client: str, expires_after: str) -> int:
        """Codes issued at the request of ``client`` that expire after ``expires_after``."""
        rows = self._query(
            "SELECT COUNT(*) FROM account_verifications WHERE client = ? AND expires_at > ?",
            (client, expires_after),
        )
        return int(rows[0][0])

    def take_verification_attempt(self, verification_id: str, max_attempts: int) -> int | None:
        """Count one attempt at an unused code, in one statement so that concurrent guesses
        are counted one by one; the attempts so far, or None when it has had
        ``max_attempts`` already or has been used."""
        rows = self._query(
            "UPDATE account_verifications SET attempts = attempts + 1 "
            "WHERE id = ? AND attempts < ? AND verified_at IS NULL RETURNING attempts",
            (verification_id, max_attempts),
        )
        return int(rows[0][0]) if rows else None

    def mark_verified(self, verification_id: str, at: str) -> bool:
        """Mark the code used; False when it was already (by a concurrent request)."""
        rows = self._query(
            "UPDATE account_verifications SET verified_at = ? "
            "WHERE id = ? AND verified_at IS NULL RETURNING id",
            (at, verification_id),
        )
        return bool(rows)

    # ----------------------------------------------------------------- the outbox
    def queue_mail(self, key: str, recipient: str, subject: str, body: str, at: str) -> None:
        """Queue a message once per key (a second queueing of the key changes nothing)."""
        self._execute(
            "INSERT INTO outbox (key, recipient, subject, body, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (key, recipient, subject, body, at),
        )

    def pending_mail(self, limit: int = 100) -> list[Mail]:
        rows = self._query(
            "SELECT id, key, recipient, subject, body FROM outbox WHERE sent_at IS NULL "
            "ORDER BY id LIMIT ?",
            (limit,),
        )
        return [Mail(int(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    def claim_mail(self, claimer: str, at: str, stale_before: str) -> Mail | None:
        """The oldest unsent message no one else holds, now held by ``claimer``: unclaimed,
        or claimed before ``stale_before`` by a sender that must have died. Others
        claiming at the same time pass over it (PostgreSQL) or wait their turn (SQLite's
        write lock), so each message has one sender."""
        rows = self._query(
            "UPDATE outbox SET claimed_by = ?, claimed_at = ? WHERE id = ("
            "SELECT id FROM outbox WHERE sent_at IS NULL "
            "AND (claimed_at IS NULL OR claimed_at < ?) "
            f"ORDER BY id LIMIT 1{self._skip_locked}"
            ") RETURNING id, key, recipient, subject, body",
            (claimer, at, stale_before),
        )
        return Mail(int(rows[0][0]), *rows[0][1:]) if rows else None

    def release_mail(self, mail_id: int, claimer: str) -> None:
        """Give up ``claimer``'s hold on a message it could not send (the next run tries)."""
        self._execute(
            "UPDATE outbox SET claimed_by = NULL, claimed_at = NULL "
            "WHERE id = ? AND claimed_by = ? AND sent_at IS NULL",
            (mail_id, claimer),
        )

    def mark_mail_sent(self, mail_id: int, at: str) -> None:
        self._execute("UPDATE outbox SET sent_at = ? WHERE id = ?", (at, mail_id))
