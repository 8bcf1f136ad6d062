"""Benchmark: the customer profile API on a store of a million records, as a real server and
a real client.

Takes a consistent copy (SQLite's online backup) of a resolved store — by default the
1M-record store of benchmarks/realtime_api.py at /tmp/rt1m/kenning.db, which holds no
activity — and gives CUSTOMERS of its customers a five-year history: an order a month with
one to three lines, returns, eight registered products, three repairs with their status
trails, some 450 e-mail events and 400 browsing events, spread over the customer's records.
Then it starts `kenning serve` (uvicorn, following the log) and measures:

  * profile: GET /v1/customers/{id}/profile for a random one of those customers, from
    CLIENTS keep-alive connections (benchmarks/http_load.py);
  * freshness: one `Order Completed` at a time sent to POST /v1/track, then GET profile
    polled until the order is its most recent one; the time from sending the event to the
    answer that shows it (which includes that GET).

    python benchmarks/profile_api.py                       # copies /tmp/rt1m/kenning.db
    python benchmarks/profile_api.py --source other.db --customers 50 --requests 5000

Prints p50/p99 latency, throughput and the server's CPU per request as Markdown.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

from http_load import Call, load
from inventory_api import cpu_seconds, free_port, quantile, row, server
from kenning.services.keys import create_key
from kenning.services.sources import add_source
from kenning.store import Store, open_store

CATEGORIES = ("suitcase", "laptop bag", "purse", "accessory")
END = datetime(2026, 11, 1, tzinfo=UTC)


def copy_store(source: Path, target: Path) -> None:
    """A consistent copy, even of a store another process is writing (one read snapshot)."""
    began = time.perf_counter()
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    src.backup(dst)
    dst.close()
    src.close()
    print(f"copied {source} in {time.perf_counter() - began:.0f} s", file=sys.stderr)


def _at(rng: random.Random, days_back: int) -> str:
    moment = END - timedelta(days=days_back, seconds=rng.randrange(86_400))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _reference(store: Store) -> list[str]:
    stores = [
        ("S101", "London Regent Street", "London", "GB", "W1B 5AH", 51.51, -0.14, "store"),
        ("S102", "London Westfield Stratford", "London", "GB", "E20 1EJ", 51.54, -0.01, "store"),
        ("S201", "Philadelphia Walnut Street", "Philadelphia", "US", "19103", 39.95, -75.17,
         "store"),
        ("W001", "Warehouse", "Northampton", "GB", "NN4 7YJ", 52.2, -0.9, "warehouse"),
    ]  # fmt: skip
    store.add_activity("activity_stores", stores)
    products = [
        (f"SKU-{n:03d}", "GBP", f"Product {n}", CATEGORIES[n % 4], 2_000 + 1_000 * (n % 40))
        for n in range(200)
    ]
    store.add_activity("activity_products", products)
    return [p[0] for p in products]


def five_years(store: Store, customer: str, keys: list[tuple[str, str]], rng: random.Random,
               skus: list[str]) -> None:  # fmt: skip
    """A five-year history for one customer, spread over her records."""
    rows: dict[str, list[tuple[Any, ...]]] = {}

    def add(table: str, *values: Any) -> None:
        rows.setdefault(table, []).append(values)

    def key() -> tuple[str, str]:
        return keys[rng.randrange(len(keys))]

    tag = customer[-8:]
    for month in range(60):
        oid = f"B{tag}-{month:03d}"
        total = 0
        pos = rng.random() < 0.7
        for line in range(1, rng.randint(1, 3) + 1):
            sku = rng.choice(skus)
            price = 2_000 + 1_000 * int(sku[-3:]) % 40_000
            total += price
            serial = f"SN{tag}{month:03d}{line}" if rng.random() < 0.3 else ""
            add("activity_order_lines", oid, line, sku, 1, price, serial)
            if rng.random() < 0.05:
                add("activity_returns", oid, sku, _at(rng, 1800 - 30 * month - 5), price)
        add("activity_orders", oid, *key(), "pos" if pos else "web",
            rng.choice(("S101", "S102", "S201")) if pos else "", "E1" if pos else "",
            _at(rng, 1800 - 30 * month), "GBP", total)  # fmt: skip
    for n in range(8):
        add("activity_registrations", *key(), f"RS{tag}{n}", rng.choice(skus), "S101", "",
            _at(rng, 1700 - 200 * n))  # fmt: skip
    for n in range(3):
        rid = f"RP{tag}{n}"
        s = key()
        add("activity_repairs", rid, f"RS{tag}{n}", *s, "S101", _at(rng, 1500 - 500 * n))
        for step, status in enumerate(("received", "in_repair", "ready_for_pickup", "collected")):
            add("activity_repair_events", rid, status, _at(rng, 1500 - 500 * n - 5 * step), "S101")
    for n in range(260):
        s = key()
        campaign = f"CMP-{n:03d}"
        add("activity_email", *s, campaign, "send", _at(rng, 1800 - 7 * n), "")
        if rng.random() < 0.6:
            add("activity_email", *s, campaign, "open", _at(rng, 1800 - 7 * n - 1), "")
            if rng.random() < 0.25:
                add("activity_email", *s, campaign, "click", _at(rng, 1800 - 7 * n - 1), "u")
    for n in range(400):
        s = key()
        event = rng.choice(("page", "product_viewed", "product_viewed", "product_added"))
        add("activity_browsing", f"v-{tag}", f"s{n // 4}", *s, event,
            "" if event == "page" else rng.choice(skus), _at(rng, 1800 - 4 * n))  # fmt: skip
    for table, batch in rows.items():
        store.add_activity(table, batch)


def seed(url: str, customers: int, rng: random.Random) -> tuple[str, dict[str, str], list[Any]]:
    """Histories for ``customers`` customers; returns an admin secret, write keys by source,
    and (customer, record) pairs to send orders for."""
    with open_store(url) as store:
        picked = store._query(
            "SELECT customer_id FROM customer_records WHERE source = 'pos' "
            "GROUP BY customer_id HAVING COUNT(*) >= 2 LIMIT ?",
            (customers,),
        )
        targets = []
        with store.transaction():
            skus = _reference(store)
            for (customer,) in picked:
                keys = store.customer_records(customer)
                five_years(store, customer, keys, rng, skus)
                targets.append((customer, next(k for k in keys if k[0] == "pos")))
        writes = {}
        for source in {t[1][0] for t in targets}:
            found = [s for s in store.sources() if s.name == source]
            if found:
                raise SystemExit(f"source {source} already has a key; use a fresh copy")
            # The tills' server: trusted, so its orders are hers (a public key's would not be).
            writes[source] = add_source(store, source, trusted=True, same_system=True)[1]
        _, secret = create_key(store, "benchmark", ["admin"])
    return secret, writes, targets


def profile_call(rng: random.Random, _: int, p: dict[str, Any]) -> Call:
    return ("GET", f"/v1/customers/{rng.choice(p['customers'])}/profile", None, None)


def freshness(base: str, secret: str, writes: dict[str, str], targets: list[Any], events: int,
              rng: random.Random) -> list[float]:  # fmt: skip
    """Milliseconds from sending each Order Completed to the profile answer that shows it."""
    seen: list[float] = []
    with httpx.Client(base_url=base, timeout=10) as client:
        for n in range(events):
            customer, (source, record_id) = rng.choice(targets)
            order_id = f"F{n:06d}-{rng.getrandbits(32):08x}"
            body = {"type": "track", "userId": record_id, "event": "Order Completed",
                    "properties": {"order_id": order_id, "currency": "GBP", "total": 99.0,
                                   "products": [{"sku": "SKU-001", "price": 99.0}]}}  # fmt: skip
            began = time.perf_counter()
            sent = client.post("/v1/track", json=body, auth=(writes[source], ""))
            assert sent.status_code == 200, sent.text
            while True:
                answer = client.get(
                    f"/v1/customers/{customer}/profile",
                    headers={"Authorization": f"Bearer {secret}"},
                )
                recent = orjson.loads(answer.content)["recent_orders"]
                if recent and recent[0]["order_id"] == order_id:
                    break
                if time.perf_counter() - began > 10:
                    raise SystemExit(f"order {order_id} not in the profile after 10 s")
            seen.append((time.perf_counter() - began) * 1000)
            time.sleep(0.02)
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("/tmp/rt1m/kenning.db"))
    parser.add_argument("--work", type=Path, help="folder for the copy (default: a temp one)")
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--events", type=int, default=300, help="Order Completed events sent")
    parser.add_argument("--pool", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    folder = args.work or Path(tempfile.mkdtemp(prefix="kenning-profile-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "bench.db"
    try:
        copy_store(args.source, target)
        url = f"sqlite:///{target}"
        began = time.perf_counter()
        secret, writes, targets = seed(url, args.customers, rng)
        with open_store(url) as store:
            records = sum(store.record_counts().values())
        print(f"seeded in {time.perf_counter() - began:.1f} s", file=sys.stderr)
        print(f"\nSQLite, {records:,} records, {len(targets)} customers with five years of "
              f"history, {args.workers} uvicorn worker(s), pool {args.pool}\n")  # fmt: skip
        print("| phase | clients | requests | p50 ms | p99 ms | requests/s | statuses "
              "| server CPU ms/request |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|")
        params = {"customers": [t[0] for t in targets]}
        with server(url, free_port(), args.workers, args.pool) as (base, pid):
            for clients in (1, args.clients):
                served = cpu_seconds(pid)
                out = load(base, secret, profile_call, params, args.requests, clients,
                           args.processes, args.seconds, args.seed)  # fmt: skip
                served = cpu_seconds(pid) - served
                cpu = f" {served * 1000 / len(out.latencies):.2f} |"
                print(row("GET profile", clients, out.latencies, out.statuses, out.wall) + cpu)
            seen = freshness(base, secret, writes, targets, args.events, rng)
        print(
            f"\nOrder Completed → in the profile: {len(seen)} events, "
            f"p50 {statistics.median(seen):.1f} ms, p99 {quantile(seen, 0.99):.1f} ms, "
            f"max {max(seen):.1f} ms"
        )
    finally:
        if args.work is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
