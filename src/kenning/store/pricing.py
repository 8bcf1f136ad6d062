"""The pricing tables: price book entries, promotions, coupons and the uses of each coupon.

A coupon use is one conditional UPDATE that re-checks the total limit, then one upsert that
re-checks the customer's limit, inside a transaction: on PostgreSQL the row lock makes
concurrent redemptions queue and re-evaluate the limit; on SQLite writers take turns. Both
lock the coupon row first, so two redemptions never wait on each other in a cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from kenning.store.hooks import SqlHooks

PRICE_COLUMNS = "sku, market, channel, kind, customer_group, starts_at, ends_at, currency, price"
Row = tuple[Any, ...]
# code, promotion id, total limit, per-customer limit
CouponRow = tuple[str, str, int | None, int | None]


class CouponRefused(Exception):
    """The coupon is unknown (``reason`` "not_found") or has no use left ("total" or
    "customer"); the transaction it was raised in rolls back."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


class PricingTables(SqlHooks):
    def pricing_version(self) -> int:
        rows = self._query("SELECT version FROM pricing_versions WHERE name = 'catalogue'")
        return int(rows[0][0])

    def _bump_pricing(self) -> None:
        self._execute("UPDATE pricing_versions SET version = version + 1 WHERE name = 'catalogue'")

    # ----------------------------------------------------------------- price book
    def upsert_price_entries(self, rows: Sequence[Row]) -> None:
        """Rows in PRICE_COLUMNS order; an entry with the same key is replaced."""
        columns = PRICE_COLUMNS.split(", ")
        with self.transaction():
            self._executemany(
                f"INSERT INTO price_entries ({PRICE_COLUMNS}) "
                f"VALUES ({', '.join('?' for _ in columns)}) "
                "ON CONFLICT (sku, market, channel, kind, customer_group, starts_at) "
                "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in columns[6:]),
                rows,
            )
            self._bump_pricing()

    def price_entry_rows(self) -> list[Row]:
        return self._query(f"SELECT {PRICE_COLUMNS} FROM price_entries")

    # ----------------------------------------------------------------- promotions
    def upsert_promotions(
        self, rows: Sequence[tuple[str, Any, str]], coupons: Sequence[CouponRow]
    ) -> None:
        """(id, definition, updated_at) rows and their coupons; a coupon keeps its count of
        uses when its promotion is loaded again."""
        with self.transaction():
            self._executemany(
                "INSERT INTO promotions (id, definition, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET definition = excluded.definition, "
                "updated_at = excluded.updated_at",
                [(i, orjson.dumps(d).decode(), at) for i, d, at in rows],
            )
            self._executemany(
                "INSERT INTO coupons (code, promotion_id, total_limit, per_customer_limit) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET "
                "promotion_id = excluded.promotion_id, total_limit = excluded.total_limit, "
                "per_customer_limit = excluded.per_customer_limit",
                coupons,
            )
            self._bump_pricing()

    def promotion_rows(self) -> list[tuple[str, Any]]:
        rows = self._query("SELECT id, definition FROM promotions ORDER BY id")
        return [(str(i), _json(d)) for i, d in rows]

    # ----------------------------------------------------------------- coupons
    def coupon_uses(self, codes: Sequence[str], customer_id: str | None) -> list[Row]:
        """(code, used, total_limit, the customer's uses, per_customer_limit) per known code."""
        if not codes:
            return []
        marks = ", ".join("?" for _ in codes)
        return self._query(
            "SELECT c.code, c.used, c.total_limit, COALESCE(u.used, 0), c.per_customer_limit "
            "FROM coupons c LEFT JOIN coupon_customer_uses u "
            f"ON u.code = c.code AND u.customer_id = ? WHERE c.code IN ({marks})",
            (customer_id or "", *codes),
        )

    def redeem_coupon(self, row: Row) -> tuple[int, int | None]:
        """(id, code, customer_id, reference, redeemed_at): one use of the coupon, all or
        nothing; returns (uses so far, the limit). CouponRefused if no use is left."""
        id_, code, customer, reference, when = row
        with self.transaction():
            taken = self._query(
                "UPDATE coupons SET used = used + 1 WHERE code = ? "
                "AND (total_limit IS NULL OR used < total_limit) "
                "RETURNING used, total_limit, per_customer_limit",
                (code,),
            )
            if not taken:
                known = self._query("SELECT 1 FROM coupons WHERE code = ?", (code,))
                raise CouponRefused(code, "total" if known else "not_found")
            used, total_limit, per_customer = taken[0]
            if customer is not None:
                where = "" if per_customer is None else " WHERE coupon_customer_uses.used < ?"
                params: tuple[Any, ...] = (code, customer)
                if per_customer is not None:
                    params += (int(per_customer),)
                mine = self._query(
                    "INSERT INTO coupon_customer_uses (code, customer_id, used) VALUES (?, ?, 1) "
                    "ON CONFLICT (code, customer_id) DO UPDATE SET "
                    f"used = coupon_customer_uses.used + 1{where} RETURNING used",
                    params,
                )
                if not mine:
                    raise CouponRefused(code, "customer")
            self._execute(
                "INSERT INTO coupon_redemptions (id, code, customer_id, reference, redeemed_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (id_, code, customer, reference, when),
            )
        return int(used), None if total_limit is None else int(total_limit)

    def coupon_redemption_count(self, code: str) -> int:
        return int(
            self._query("SELECT COUNT(*) FROM coupon_redemptions WHERE code = ?", (code,))[0][0]
        )
