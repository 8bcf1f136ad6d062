"""The inventory tables: locations, stock levels, transfers and reservations.

Every change that could oversell is one conditional UPDATE whose WHERE clause re-checks
availability, inside a transaction: on PostgreSQL the row lock makes concurrent writers
queue and re-evaluate the condition; on SQLite BEGIN IMMEDIATE makes writers take turns.
A transaction locks stock rows in (sku, location) order, and at most one reservation row
before them, so two writers never wait on each other in a cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kenning.store.access import SAVE_ANSWER, AnswerRow, KeyTaken
from kenning.store.hooks import SqlHooks, chunks, marks

LOCATION_COLUMNS = "id, name, kind, market, latitude, longitude, pickup, ship_capacity"
# sku, location, on_hand, reserved, safety_stock, in_transit, earliest expected arrival
_STOCK_SELECT = (
    "SELECT s.sku, s.location_id, s.on_hand, s.reserved, s.safety_stock, s.in_transit, "
    "CASE WHEN s.in_transit > 0 THEN (SELECT MIN(t.expected_arrival) FROM transfers t "
    "WHERE t.sku = s.sku AND t.to_location = s.location_id AND t.status = 'in_transit') END "
    "FROM stock_levels s"
)
_STOCK_RETURNING = "RETURNING sku, location_id, on_hand, reserved, safety_stock, in_transit"
_TAKE = (
    "UPDATE stock_levels SET reserved = reserved + ? WHERE sku = ? AND location_id = ? "
    "AND on_hand - reserved - safety_stock >= ? RETURNING reserved"
)
Row = tuple[Any, ...]
Line = tuple[str, str, int, str | None]  # sku, location, quantity, mode


class StockShortage(Exception):
    """A line could not be taken; the transaction it was raised in rolls back.
    ``answered``: the write saved its refusal answer (AnswerRow.refusal) in its place."""

    def __init__(self, sku: str, location_id: str, *, answered: bool = False) -> None:
        super().__init__(f"{sku} at {location_id}")
        self.sku = sku
        self.location_id = location_id
        self.answered = answered


class InventoryTables(SqlHooks):
    # ----------------------------------------------------------------- locations
    def upsert_locations(self, rows: Sequence[Row]) -> None:
        """Rows in LOCATION_COLUMNS order; an existing id is updated."""
        columns = LOCATION_COLUMNS.split(", ")
        self._executemany(
            f"INSERT INTO locations ({LOCATION_COLUMNS}) VALUES ({marks(len(columns))}) "
            "ON CONFLICT (id) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in columns[1:]),
            rows,
        )
        self._execute(
            "UPDATE inventory_versions SET version = version + 1 WHERE name = 'locations'"
        )

    def locations_version(self) -> int:
        rows = self._query("SELECT version FROM inventory_versions WHERE name = 'locations'")
        return int(rows[0][0])

    def read_state(self, now: str) -> tuple[int, bool]:
        """The locations' version, and whether any hold is past its expiry at ``now``: what
        every read of stock checks first, in one query."""
        rows = self._query(
            "SELECT version, EXISTS (SELECT 1 FROM reservations WHERE status = 'held' "
            "AND expires_at <= ?) FROM inventory_versions WHERE name = 'locations'",
            (now,),
        )
        return int(rows[0][0]), bool(rows[0][1])

    def location_rows(self, market: str | None = None) -> list[Row]:
        if market is None:
            return self._query(f"SELECT {LOCATION_COLUMNS} FROM locations ORDER BY id")
        return self._query(
            f"SELECT {LOCATION_COLUMNS} FROM locations WHERE market = ? ORDER BY id", (market,)
        )

    def location_exists(self, location_id: str) -> bool:
        return bool(self._query("SELECT 1 FROM locations WHERE id = ?", (location_id,)))

    # ----------------------------------------------------------------- stock
    def stock_rows(self, skus: Sequence[str], location_id: str | None = None) -> list[Row]:
        """Stock of ``skus`` (at one location, or everywhere), in STOCK_SELECT order."""
        found: list[Row] = []
        for part in chunks(skus):
            chunk = list(part)
            where = f" WHERE s.sku IN ({marks(len(chunk))})"
            params: list[Any] = chunk
            if location_id is not None:
                where += " AND s.location_id = ?"
                params = [*chunk, location_id]
            found += self._query(_STOCK_SELECT + where, params)
        return found

    def available_rows(self, skus: Sequence[str]) -> list[tuple[str, str, int]]:
        """(sku, location, available) wherever one of ``skus`` has units to promise."""
        found: list[tuple[str, str, int]] = []
        for part in chunks(skus):
            chunk = list(part)
            found += self._query(
                "SELECT sku, location_id, on_hand - reserved - safety_stock FROM stock_levels "
                f"WHERE sku IN ({marks(len(chunk))}) AND on_hand - reserved - safety_stock > 0",
                chunk,
            )
        return found

    def set_stock(self, rows: Sequence[tuple[str, str, int, int | None]]) -> None:
        """Counted stock: (sku, location, on_hand, safety_stock or None to keep it)."""
        with self.transaction():
            self._executemany(
                "INSERT INTO stock_levels (sku, location_id, on_hand, safety_stock) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (sku, location_id) DO UPDATE SET "
                "on_hand = excluded.on_hand, safety_stock = excluded.safety_stock",
                [r for r in rows if r[3] is not None],
            )
            self._executemany(
                "INSERT INTO stock_levels (sku, location_id, on_hand) VALUES (?, ?, ?) "
                "ON CONFLICT (sku, location_id) DO UPDATE SET on_hand = excluded.on_hand",
                [r[:3] for r in rows if r[3] is None],
            )

    def change_on_hand(self, sku: str, location_id: str, delta: int) -> Row | None:
        """Add ``delta`` to on hand; None (nothing changed) if it would go below zero."""
        if delta >= 0:
            rows = self._query(
                "INSERT INTO stock_levels (sku, location_id, on_hand) VALUES (?, ?, ?) "
                "ON CONFLICT (sku, location_id) DO UPDATE SET "
                f"on_hand = stock_levels.on_hand + excluded.on_hand {_STOCK_RETURNING}",
                (sku, location_id, delta),
            )
        else:
            rows = self._query(
                "UPDATE stock_levels SET on_hand = on_hand + ? WHERE sku = ? "
                f"AND location_id = ? AND on_hand + ? >= 0 {_STOCK_RETURNING}",
                (delta, sku, location_id, delta),
            )
        return rows[0] if rows else None

    # ----------------------------------------------------------------- transfers
    def start_transfer(self, row: Row) -> None:
        """(id, sku, from, to, quantity, expected_arrival, created_at): the units leave the
        source's available stock and show as in transit at the destination."""
        id_, sku, source, target, quantity, expected, created = row
        with self.transaction():
            taken = self._query(
                "UPDATE stock_levels SET on_hand = on_hand - ? WHERE sku = ? AND location_id = ? "
                "AND on_hand - reserved - safety_stock >= ? RETURNING on_hand",
                (quantity, sku, source, quantity),
            )
            if not taken:
                raise StockShortage(sku, source)
            self._execute(
                "INSERT INTO stock_levels (sku, location_id, in_transit) VALUES (?, ?, ?) "
                "ON CONFLICT (sku, location_id) DO UPDATE SET "
                "in_transit = stock_levels.in_transit + excluded.in_transit",
                (sku, target, quantity),
            )
            self._execute(
                "INSERT INTO transfers (id, sku, from_location, to_location, quantity, status, "
                "expected_arrival, created_at) VALUES (?, ?, ?, ?, ?, 'in_transit', ?, ?)",
                (id_, sku, source, target, quantity, expected, created),
            )

    def receive_transfer(self, transfer_id: str, when: str) -> bool:
        """Move the units from in transit to on hand; False if not in transit (any more)."""
        with self.transaction():
            rows = self._query(
                "UPDATE transfers SET status = 'received', received_at = ? "
                "WHERE id = ? AND status = 'in_transit' RETURNING sku, to_location, quantity",
                (when, transfer_id),
            )
            if not rows:
                return False
            sku, target, quantity = rows[0]
            self._execute(
                "UPDATE stock_levels SET in_transit = in_transit - ?, on_hand = on_hand + ? "
                "WHERE sku = ? AND location_id = ?",
                (quantity, quantity, sku, target),
            )
        return True

    def transfer_row(self, transfer_id: str) -> Row | None:
        rows = self._query(
            "SELECT id, sku, from_location, to_location, quantity, status, expected_arrival, "
            "created_at, received_at FROM transfers WHERE id = ?",
            (transfer_id,),
        )
        return rows[0] if rows else None

    # ----------------------------------------------------------------- reservations
    def insert_reservation(
        self, header: Row, lines: Sequence[Line], answer: AnswerRow | None = None
    ) -> None:
        """(id, reference, kind, status, created_at, expires_at) and its lines, all or
        nothing: StockShortage names the first line that is not available. ``answer`` is
        saved with them; KeyTaken (nothing written) if its key already has one."""
        id_, reference, kind, status, created, expires = header
        with self.transaction():
            for sku, location, quantity, _ in sorted(lines, key=lambda line: line[:2]):
                if not self._query(_TAKE, (quantity, sku, location, quantity)):
                    raise StockShortage(sku, location)
            self._execute(
                "INSERT INTO reservations (id, reference, kind, status, created_at, expires_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (id_, reference, kind, status, created, expires, created),
            )
            # One statement for all lines: a round trip saved per reservation.
            self._execute(
                "INSERT INTO reservation_lines (reservation_id, line, sku, location_id, "
                "quantity, mode) VALUES " + ", ".join("(?, ?, ?, ?, ?, ?)" for _ in lines),
                [v for n, line in enumerate(lines, start=1) for v in (id_, n, *line)],
            )
            if answer is not None and not self._query(SAVE_ANSWER, answer.params()):
                raise KeyTaken

    def reservation_rows(self, reservation_id: str) -> tuple[Row, list[Line]] | None:
        rows = self._query(
            "SELECT id, reference, kind, status, created_at, expires_at FROM reservations "
            "WHERE id = ?",
            (reservation_id,),
        )
        if not rows:
            return None
        lines = self._query(
            "SELECT sku, location_id, quantity, mode FROM reservation_lines "
            "WHERE reservation_id = ? ORDER BY line",
            (reservation_id,),
        )
        return rows[0], [(s, loc, int(q), m) for s, loc, q, m in lines]

    def move_reservation(
        self,
        reservation_id: str,
        from_statuses: Sequence[str],
        to_status: str,
        now: str,
        *,
        effect: str,
        expired: bool = False,
    ) -> bool:
        """Change status if it is one of ``from_statuses``, with its effect on stock:
        ``keep`` (confirm), ``release`` (reserved units back to available) or ``consume``
        (units leave on hand). A held reservation moves only while unexpired, except when
        ``expired`` asks for exactly the expired ones. False if the status did not allow it.
        """
        when = "expires_at <= ?" if expired else "(expires_at IS NULL OR expires_at > ?)"
        # An allocation is kept until released or fulfilled: it no longer expires.
        clear = ", expires_at = NULL" if to_status == "allocated" else ""
        with self.transaction():
            moved = self._query(
                f"UPDATE reservations SET status = ?, updated_at = ?{clear} WHERE id = ? "
                f"AND status IN ({marks(len(from_statuses))}) AND (status <> 'held' OR {when}) "
                "RETURNING id",
                (to_status, now, reservation_id, *from_statuses, now),
            )
            if not moved or effect == "keep":
                return bool(moved)
            lines = self._query(
                "SELECT sku, location_id, quantity FROM reservation_lines "
                "WHERE reservation_id = ? ORDER BY sku, location_id",
                (reservation_id,),
            )
            for sku, location, quantity in lines:
                if effect == "consume":
                    done = self._query(
                        "UPDATE stock_levels SET on_hand = on_hand - ?, reserved = reserved - ? "
                        "WHERE sku = ? AND location_id = ? AND on_hand >= ? RETURNING on_hand",
                        (quantity, quantity, sku, location, quantity),
                    )
                    if not done:
                        raise StockShortage(sku, location)
                else:
                    self._execute(
                        "UPDATE stock_levels SET reserved = reserved - ? "
                        "WHERE sku = ? AND location_id = ?",
                        (quantity, sku, location),
                    )
        return True

    def due_reservations(self, now: str, limit: int = 1000) -> list[str]:
        rows = self._query(
            "SELECT id FROM reservations WHERE status = 'held' AND expires_at <= ? "
            "ORDER BY expires_at, id LIMIT ?",
            (now, limit),
        )
        return [str(r[0]) for r in rows]

    def ship_counts_since(self, since: str) -> dict[str, int]:
        """Reservations shipping from each location created at or after ``since``."""
        rows = self._query(
            "SELECT l.location_id, COUNT(DISTINCT l.reservation_id) FROM reservation_lines l "
            "JOIN reservations r ON r.id = l.reservation_id WHERE l.mode = 'ship' "
            "AND r.created_at >= ? AND r.status IN ('held', 'allocated', 'fulfilled') "
            "GROUP BY l.location_id",
            (since,),
        )
        return {str(loc): int(n) for loc, n in rows}
