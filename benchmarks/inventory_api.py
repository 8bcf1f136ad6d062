"""Benchmark: the inventory API under load, as a real server and a real client.

Seeds a fresh store with LOCATIONS locations (stores and warehouses over Great Britain and
the US East Coast) and SKUS SKUs stocked at every location, starts `kenning serve` (uvicorn)
in a subprocess, and loads it over loopback with keep-alive HTTP/1.1 connections spread over
several processes (benchmarks/http_load.py), each phase bounded by a request count and a
time limit:

  * availability: GET /v1/availability for a random SKU, every location nearest first to a
    random point (and the nearest 20 only);
  * sourcing: POST /v1/sourcing/plans for a 5-line order to a random address;
  * reservations: POST /v1/reservations of 1 unit at a random one of HOT (sku, location)
    pairs that each hold UNITS available, from CLIENTS concurrent clients, more requests
    than there are units; then the oversell check: successes equal the units there were,
    and every pair's reserved count equals the sum of its holds, never above what it had.

    python benchmarks/inventory_api.py                       # SQLite in a temp folder
    python benchmarks/inventory_api.py --postgres postgresql://postgres@127.0.0.1:5432/test
    python benchmarks/inventory_api.py --phases reservations --workers 2 --processes 4

Prints p50/p99 latency, throughput, and the CPU the server process(es) and the load
processes spent per request, per phase, as Markdown (PostgreSQL's own CPU is not counted).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson

from http_load import Call, Make, load
from kenning.commerce.inventory.locations import Location
from kenning.services.inventory import save_locations
from kenning.services.keys import create_key
from kenning.store import open_store

# (latitude, longitude) boxes where the synthetic locations lie.
REGIONS = {"GB": (50.5, 55.8, -4.5, 0.5), "US": (38.5, 42.8, -77.5, -70.5)}


@contextmanager
def fresh_database(postgres: str | None) -> Iterator[str]:
    if postgres is None:
        folder = Path(tempfile.mkdtemp(prefix="kenning-inv-bench-"))
        try:
            yield f"sqlite:///{folder / 'bench.db'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    from kenning.store.postgres import scratch_schema

    with scratch_schema(postgres, "kenning_bench") as url:
        yield url


def seed(url: str, locations: int, skus: int, hot: int, units: int, rng: random.Random) -> str:
    """Fill the store; returns an admin secret key."""
    with open_store(url) as store:
        made = []
        for n in range(locations):
            market = "GB" if n % 2 == 0 else "US"
            lat0, lat1, lon0, lon1 = REGIONS[market]
            warehouse = n % 50 == 0
            made.append(
                Location(
                    f"L{n:04d}",
                    f"Location {n}",
                    "warehouse" if warehouse else "store",
                    market,
                    rng.uniform(lat0, lat1),
                    rng.uniform(lon0, lon1),
                    pickup=not warehouse,
                    ship_capacity=None if warehouse else 1_000_000,
                )
            )
        save_locations(store, made)
        rows: list[tuple[str, str, int, int | None]] = [
            (f"SKU{s:05d}", loc.id, rng.randint(0, 20), rng.randint(0, 2))
            for s in range(skus)
            for loc in made
        ]
        # The reservation phase's pairs: exactly UNITS available each.
        rows += [(f"HOT{h:04d}", made[h % len(made)].id, units, 0) for h in range(hot)]
        store.set_stock(rows)
        _, secret = create_key(store, "benchmark", ["admin"])
    return secret


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User+system CPU of a process and its descendants so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(int(child)) for child in children)


@contextmanager
def server(
    url: str, port: int, workers: int, pool: int, *options: str
) -> Iterator[tuple[str, int]]:
    env = dict(os.environ, KENNING_POOL_SIZE=str(pool))
    cmd = [sys.executable, "-m", "kenning", "--db", url, "serve", "--port", str(port)]
    proc = subprocess.Popen([*cmd, "--workers", str(workers), *options], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1]


def row(name: str, clients: int, latencies: list[float], statuses: list[int], wall: float) -> str:
    codes = ", ".join(f"{c}: {statuses.count(c)}" for c in sorted(set(statuses)))
    return (
        f"| {name} | {clients} | {len(latencies):,} | {quantile(latencies, 0.5):.1f} | "
        f"{quantile(latencies, 0.99):.1f} | {len(latencies) / wall:,.0f} | {codes} |"
    )


def point(rng: random.Random) -> tuple[float, float]:
    lat0, lat1, lon0, lon1 = REGIONS[rng.choice(("GB", "US"))]
    return rng.uniform(lat0, lat1), rng.uniform(lon0, lon1)


# The phases' requests: (random source, request number, benchmark parameters) -> request.
def availability(rng: random.Random, _: int, p: dict[str, Any]) -> Call:
    lat, lon = point(rng)
    sku = f"SKU{rng.randrange(p['skus']):05d}"
    return "GET", f"/v1/availability?{urlencode({'sku': sku, 'lat': lat, 'lon': lon})}", None, None


def nearest_twenty(rng: random.Random, n: int, p: dict[str, Any]) -> Call:
    method, target, _, _ = availability(rng, n, p)
    return method, target + "&limit=20", None, None


def sourcing(rng: random.Random, _: int, p: dict[str, Any]) -> Call:
    lat, lon = point(rng)
    skus = rng.sample(range(p["skus"]), 5)
    lines = [{"sku": f"SKU{s:05d}", "quantity": 1, "unit_price": 20} for s in skus]
    order = {"lines": lines, "destination": {"latitude": lat, "longitude": lon}}
    return "POST", "/v1/sourcing/plans", orjson.dumps(order), None


def reservation(rng: random.Random, n: int, p: dict[str, Any]) -> Call:
    h = rng.randrange(p["hot"])
    line = {"sku": f"HOT{h:04d}", "location_id": f"L{h % p['locations']:04d}", "quantity": 1}
    return "POST", "/v1/reservations", orjson.dumps({"lines": [line]}), f"bench-{n}"


def oversell_check(url: str, hot: int, units: int, successes: int) -> str:
    with open_store(url, migrate=False) as store:
        levels = store.stock_rows([f"HOT{h:04d}" for h in range(hot)])
        holds = store._query(  # the benchmark audits the tables directly
            "SELECT l.sku, l.location_id, SUM(l.quantity) FROM reservation_lines l "
            "JOIN reservations r ON r.id = l.reservation_id WHERE r.status = 'held' "
            "AND l.sku LIKE ? GROUP BY l.sku, l.location_id",
            ("HOT%",),
        )
    held = {(sku, loc): int(total) for sku, loc, total in holds}
    wrong = [
        (sku, loc)
        for sku, loc, on_hand, reserved, safety, *_ in levels
        if int(reserved) != held.get((sku, loc), 0) or int(reserved) > int(on_hand) - int(safety)
    ]
    ok = not wrong and successes == sum(held.values()) and successes <= hot * units
    verdict = "balances equal, never oversold" if ok else f"MISMATCH at {wrong[:5]}"
    return (
        f"{successes:,} reservations succeeded for {hot * units:,} units "
        f"({hot} pairs × {units}); {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="PostgreSQL server URL (a fresh schema is used)")
    parser.add_argument("--locations", type=int, default=500)
    parser.add_argument("--skus", type=int, default=200)
    parser.add_argument("--hot", type=int, default=200, help="(sku, location) pairs reserved")
    parser.add_argument("--units", type=int, default=10, help="units available per hot pair")
    parser.add_argument("--requests", type=int, default=3000, help="per phase")
    parser.add_argument("--seconds", type=float, default=60, help="time limit per phase")
    parser.add_argument("--clients", type=int, default=16, help="for the reservations phase")
    parser.add_argument(
        "--processes", type=int, default=4, help="load processes, at most one per connection"
    )
    parser.add_argument(
        "--phases",
        default="availability,nearest,sourcing,reservations",
        help="which phases, comma-separated",
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--pool", type=int, default=16, help="database connections per worker")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    params = {"skus": args.skus, "hot": args.hot, "locations": args.locations}
    wanted = set(args.phases.split(","))
    phases: list[tuple[str, str, Make, int]] = [
        ("availability", "availability (1 SKU, all locations, nearest first)", availability, 1),
        ("availability", "availability (1 SKU, all locations, nearest first)", availability, 4),
        ("nearest", "availability (1 SKU, nearest 20)", nearest_twenty, 1),
        ("sourcing", "sourcing (5-line order)", sourcing, 1),
        ("sourcing", "sourcing (5-line order)", sourcing, 4),
        ("reservations", "reservations (1 unit)", reservation, args.clients),
    ]
    with fresh_database(args.postgres) as url:
        began = time.perf_counter()
        secret = seed(url, args.locations, args.skus, args.hot, args.units, rng)
        print(f"seeded in {time.perf_counter() - began:.1f} s", file=sys.stderr)
        backend = "PostgreSQL" if args.postgres else "SQLite"
        print(
            f"\n{backend}, {args.locations} locations, {args.skus} SKUs everywhere, "
            f"{args.workers} uvicorn worker(s), pool {args.pool}, "
            f"up to {args.processes} load processes\n"
        )
        print(
            "| phase | clients | requests | p50 ms | p99 ms | requests/s | statuses "
            "| server CPU ms/request | client CPU ms/request |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        reserved = None
        with server(url, free_port(), args.workers, args.pool) as (base, pid):
            for key, name, make, clients in phases:
                if key not in wanted:
                    continue
                requests = args.requests
                if make is reservation:
                    requests = max(requests, args.hot * args.units * 3 // 2)
                served = cpu_seconds(pid)
                out = load(
                    base,
                    secret,
                    make,
                    params,
                    requests,
                    clients,
                    args.processes,
                    args.seconds,
                    args.seed,
                )
                served = cpu_seconds(pid) - served
                done = len(out.latencies)
                cpu = f" {served * 1000 / done:.2f} | {out.client_cpu * 1000 / done:.2f} |"
                print(row(name, clients, out.latencies, out.statuses, out.wall) + cpu)
                if make is reservation:
                    reserved = out.statuses.count(201)
        if reserved is not None:
            print()
            print(oversell_check(url, args.hot, args.units, reserved))


if __name__ == "__main__":
    main()
