"""Benchmark: pricing a 20-line basket with 50 active promotions, in-process and over HTTP.

Seeds a fresh store with a GB price book (SKUS SKUs with a base price, a tenth of them on
sale, a twentieth with a staff price) and PROMOTIONS promotions of every kind, all active:
item promotions (percentage, amount off, fixed price, buy X get Y) over product sets of 60
SKUs, basket thresholds, free shipping, two coupon promotions and two exclusive ones. Each
basket is LINES random SKUs of the first HOT SKUs (where every product set lies, so many
promotions apply), 1-3 units each, a random channel (web, pos, shelf), sometimes a coupon.

  * engine: ``price_basket`` on the catalogue in memory (the pure function);
  * service: ``services.pricing.price`` on an open store: the version check (one query), the
    coupon-use query when the basket has a coupon, the engine;
  * HTTP: ``POST /v1/price`` to `kenning serve` (uvicorn) in a subprocess, from keep-alive
    connections (benchmarks/http_load.py): 1 client (latency), then 4 (under load).

    python benchmarks/pricing.py                       # SQLite in a temp folder
    python benchmarks/pricing.py --postgres postgresql://postgres@127.0.0.1:5432/test

Prints p50/p99 per phase as Markdown, with the 1-minute load average before and after.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from http_load import Call, load
from inventory_api import cpu_seconds, free_port, fresh_database, quantile, server
from kenning.commerce.pricing.engine import Basket, BasketLine, price_basket
from kenning.commerce.pricing.pricebook import CHANNELS, PriceEntry
from kenning.commerce.pricing.promotions import Coupon, Promotion, Target
from kenning.services.keys import create_key
from kenning.services.pricing import catalogue, price, save_prices, save_promotions
from kenning.store import Store, open_store

NOW = datetime.now(UTC)


def sku(n: int) -> str:
    return f"SKU{n:05d}"


def make_promotions(count: int, hot: int, rng: random.Random) -> list[Promotion]:
    kinds = ["percent_off", "amount_off", "fixed_price", "buy_x_get_y"]
    made: list[Promotion] = []
    for n in range(count):
        skus = frozenset(sku(s) for s in rng.sample(range(hot), 60))
        common: dict[str, Any] = {"priority": rng.randrange(5), "currency": "GBP"}
        if n < count - 8:
            kind = kinds[n % 4]
            value = {
                "percent_off": Decimal(rng.choice([5, 10, 15, 20])),
                "amount_off": Decimal(rng.choice([1, 2, 5])),
                "fixed_price": Decimal(rng.choice([9, 19, 29])),
                "buy_x_get_y": Decimal(100),
            }[kind]
            made.append(
                Promotion(
                    f"P{n:03d}",
                    kind,
                    value,
                    buy=2,
                    get=1,
                    max_applications=3,  # type: ignore[arg-type]
                    stackable=n % 3 != 0,
                    target=Target(skus=skus),
                    **common,
                )
            )
        elif n < count - 4:
            made.append(
                Promotion(
                    f"P{n:03d}",
                    "basket_percent_off" if n % 2 else "basket_amount_off",
                    Decimal(5),
                    min_subtotal=Decimal(100 * (n % 4 + 1)),
                    **common,
                )
            )
        elif n == count - 4:
            made.append(Promotion(f"P{n:03d}", "free_shipping", min_subtotal=Decimal(50), **common))
        elif n == count - 3:
            coupon = Coupon("WELCOME", total_limit=1_000_000, per_customer_limit=1_000)
            made.append(Promotion(f"P{n:03d}", "percent_off", Decimal(10), coupon=coupon, **common))
        else:
            made.append(
                Promotion(
                    f"P{n:03d}",
                    "percent_off",
                    Decimal(20 + n % 3),
                    exclusive=True,
                    target=Target(skus=skus),
                    **common,
                )
            )
    return made


def seed(url: str, p: dict[str, Any], rng: random.Random) -> str:
    entries = [
        PriceEntry(sku(s), "GB", "GBP", Decimal(rng.randint(199, 19999)) / 100)
        for s in range(p["skus"])
    ]
    entries += [
        PriceEntry(sku(s), "GB", "GBP", Decimal(rng.randint(99, 9999)) / 100, "sale")
        for s in range(0, p["skus"], 10)
    ]
    entries += [
        PriceEntry(sku(s), "GB", "GBP", Decimal(rng.randint(99, 9999)) / 100, "group",
                   customer_group="staff")
        for s in range(0, p["skus"], 20)
    ]  # fmt: skip
    with open_store(url) as store:
        save_prices(store, entries)
        save_promotions(store, make_promotions(p["promotions"], p["hot"], rng), NOW)
        _, secret = create_key(store, "benchmark", ["pricing:read"])
    return secret


def basket_body(rng: random.Random, p: dict[str, Any]) -> dict[str, Any]:
    lines = [
        {"sku": sku(s), "quantity": rng.randint(1, 3)}
        for s in rng.sample(range(p["hot"]), p["lines"])
    ]
    body: dict[str, Any] = {
        "lines": lines,
        "channel": rng.choice(CHANNELS),
        "market": "GB",
        "store": "S001",
        "customer_id": f"C{rng.randrange(10_000)}",
        "customer_segments": ["staff"] if rng.random() < 0.1 else [],
        "shipping": "4.95",
    }
    if rng.random() < 0.2:
        body["coupons"] = ["WELCOME"]
    return body


def to_basket(body: dict[str, Any]) -> Basket:
    return Basket(
        tuple(BasketLine(line["sku"], line["quantity"]) for line in body["lines"]),
        body["channel"], body["market"], store=body["store"], customer_id=body["customer_id"],
        segments=frozenset(body["customer_segments"]), coupons=tuple(body.get("coupons", ())),
        shipping=Decimal(body["shipping"]),
    )  # fmt: skip


def priced_call(rng: random.Random, _: int, p: dict[str, Any]) -> Call:
    return "POST", "/v1/price", orjson.dumps(basket_body(rng, p)), None


def timed(store: Store, baskets: list[Basket], engine_only: bool) -> tuple[list[float], str]:
    """Wall-clock latencies (ms), and the p50/p99 of the CPU time this thread spent on each
    basket: what the code costs, apart from waiting for a core on a busy machine."""
    found = catalogue(store)
    latencies, cpu = [], []
    for basket in baskets:
        began, spent = time.perf_counter(), time.thread_time()
        if engine_only:
            price_basket(basket, found.book, found.promotions, NOW)
        else:
            price(store, basket, NOW)
        latencies.append((time.perf_counter() - began) * 1000)
        cpu.append((time.thread_time() - spent) * 1000)
    return latencies, f"CPU p50 {quantile(cpu, 0.5):.2f} ms, p99 {quantile(cpu, 0.99):.2f} ms"


def row(name: str, clients: int, latencies: list[float], extra: str = "") -> str:
    return (
        f"| {name} | {clients} | {len(latencies):,} | {quantile(latencies, 0.5):.2f} | "
        f"{quantile(latencies, 0.99):.2f} | {extra} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="PostgreSQL server URL (a fresh schema is used)")
    parser.add_argument("--skus", type=int, default=5000)
    parser.add_argument("--hot", type=int, default=400, help="SKUs baskets are drawn from")
    parser.add_argument("--promotions", type=int, default=50)
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--requests", type=int, default=3000, help="per phase")
    parser.add_argument("--seconds", type=float, default=30, help="time limit per HTTP phase")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    params = {k: getattr(args, k) for k in ("skus", "hot", "promotions", "lines")}
    rng = random.Random(args.seed)
    before = os.getloadavg()[0]
    with fresh_database(args.postgres) as url:
        secret = seed(url, params, rng)
        bodies = [basket_body(rng, params) for _ in range(args.requests)]
        baskets = [to_basket(b) for b in bodies]
        backend = "PostgreSQL" if args.postgres else "SQLite"
        print(
            f"\n{backend}; {args.skus} SKUs, {args.promotions} active promotions, "
            f"{args.lines}-line baskets; load average (1 min) before: {before:.2f}\n"
        )
        print("| phase | clients | baskets | p50 ms | p99 ms | notes |")
        print("|---|---|---|---|---|---|")
        with open_store(url, migrate=False) as store:
            applied = [len(price(store, b, NOW).adjustments) for b in baskets[:200]]
            same = all(
                len({price(store, Basket(b.lines, ch, "GB"), NOW).total for ch in CHANNELS}) == 1
                for b in baskets[:50]
            )
            note = f"{sum(applied) / len(applied):.1f} adjustments per basket on average"
            timed(store, baskets[:200], engine_only=True)  # warm up
            latencies, cpu = timed(store, baskets, True)
            print(row("engine (price_basket, in memory)", 1, latencies, f"{cpu}; {note}"))
            latencies, cpu = timed(store, baskets, False)
            print(row("service (pricing.price, store open)", 1, latencies, cpu))
        with server(url, free_port(), 1, 4) as (base, pid):
            load(base, secret, priced_call, params, 200, 1, 1, args.seconds, args.seed)  # warm
            for clients in (1, 4):
                served = cpu_seconds(pid)
                out = load(
                    base,
                    secret,
                    priced_call,
                    params,
                    args.requests,
                    clients,
                    min(clients, 2),
                    args.seconds,
                    args.seed,
                )
                served = cpu_seconds(pid) - served
                codes = ", ".join(
                    f"{c}: {out.statuses.count(c)}" for c in sorted(set(out.statuses))
                )
                extra = (
                    f"{len(out.latencies) / out.wall:,.0f} requests/s; statuses {codes}; "
                    f"server CPU {served * 1000 / len(out.latencies):.2f} ms/request"
                )
                print(row("HTTP POST /v1/price (1 uvicorn worker)", clients, out.latencies, extra))
    after = os.getloadavg()[0]
    print(f"\nSame total in web, pos and shelf for 50 baskets without channel rules: {same}")
    print(f"load average (1 min) after: {after:.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
