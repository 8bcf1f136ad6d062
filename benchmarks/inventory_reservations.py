"""Benchmark: reservations straight through the service layer, CLIENTS threads each with its
own database connection, no HTTP in between: what the store and the service sustain.

Seeds HOT (sku, location) pairs with UNITS available each (and the usual 500 locations),
then every client reserves 1 unit at a random pair with its own idempotency key until
REQUESTS have been made; more requests than units, so many are refused. Ends with the
oversell check of benchmarks/inventory_api.py.

    python benchmarks/inventory_reservations.py --postgres postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inventory_api import fresh_database, oversell_check, quantile, seed
from kenning.commerce.inventory.errors import InventoryError
from kenning.commerce.inventory.stock import ReservationLine
from kenning.services.reservations import reserve
from kenning.store import open_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="PostgreSQL server URL (a fresh schema is used)")
    parser.add_argument("--locations", type=int, default=500)
    parser.add_argument("--hot", type=int, default=200)
    parser.add_argument("--units", type=int, default=10)
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    with fresh_database(args.postgres) as url:
        seed(url, args.locations, 10, args.hot, args.units, random.Random(args.seed))
        stores = [open_store(url, migrate=False) for _ in range(args.clients)]
        numbers = iter(range(args.requests))
        guard = threading.Lock()
        latencies: list[float] = []
        outcomes: list[bool] = []

        def client(index: int) -> None:
            rng = random.Random(index)
            store = stores[index]
            mine: list[tuple[float, bool]] = []
            while True:
                with guard:
                    n = next(numbers, None)
                if n is None:
                    break
                h = rng.randrange(args.hot)
                line = ReservationLine(f"HOT{h:04d}", f"L{h % args.locations:04d}", 1)
                began = time.perf_counter()
                try:
                    reserve(store, [line], key=f"bench-{n}")
                    ok = True
                except InventoryError:
                    ok = False
                mine.append(((time.perf_counter() - began) * 1000, ok))
            with guard:
                latencies.extend(ms for ms, _ in mine)
                outcomes.extend(ok for _, ok in mine)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        for store in stores:
            store.close()
        backend = "PostgreSQL" if args.postgres else "SQLite"
        print(f"\n{backend}, service layer, {args.clients} client threads (own connections)\n")
        print("| requests | p50 ms | p99 ms | requests/s | succeeded | refused |")
        print("|---|---|---|---|---|---|")
        print(
            f"| {len(latencies):,} | {quantile(latencies, 0.5):.1f} | "
            f"{quantile(latencies, 0.99):.1f} | {len(latencies) / wall:,.0f} | "
            f"{outcomes.count(True):,} | {outcomes.count(False):,} |"
        )
        print()
        print(oversell_check(url, args.hot, args.units, outcomes.count(True)))


if __name__ == "__main__":
    main()
