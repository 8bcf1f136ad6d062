"""Benchmark: real time over HTTP on a store of resolved records — ingest, online
resolution, and lookups — with a real server and load from other processes.

Takes a resolved store (`kenning import` + `kenning resolve`; a million generated records for
the issue's figures), works on a copy of it, starts `kenning serve` (uvicorn, which follows
the event log in a thread) and loads it over loopback with keep-alive HTTP/1.1 connections
(benchmarks/http_load.py), phase after phase:

  * ingest: POST /v1/batch of 100 track events (shoppers browsing); an answer means the
    events are committed;
  * identify: POST /v1/batch of 50 identify calls — half of them shoppers already in the
    store signing up on the web (their e-mail, name and postcode; each once), half new
    people — as fast as they are taken, timed until the follower has resolved them all;
  * visible: identify calls arriving at a steady --rate, and a probe that sends single
    identifies and asks the customer API for each new user id until it answers: the time
    from sending to visible;
  * lookup: GET /v1/customers/lookup?email= for e-mails of resolved customers.

    python benchmarks/realtime_api.py /tmp/rt1m/kenning.db
    python benchmarks/realtime_api.py /tmp/rt1m/kenning.db --phases lookup --clients 32

Prints p50/p99 latency, throughput and CPU per request as Markdown.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
from faker import Faker

from http_load import Call, load
from inventory_api import cpu_seconds, free_port, quantile, row, server
from kenning.services.follow import CURSOR
from kenning.services.keys import create_key
from kenning.services.sources import add_source
from kenning.store import open_store

# New people with the variety of real names and postcodes: a handful of names would make a
# few blocks of thousands, which no shop sees.
FAKE = Faker("en_GB")


def prepare(url: str, nonce: str, shoppers: int) -> dict[str, Any]:
    """A source, a secret key and a sample of known shoppers (one customer per e-mail)."""
    with open_store(url) as store:
        # A server-side source: what it sends is evidence, so identifies are matched in full.
        _, write_key = add_source(store, f"bench-{nonce}", trusted=True)
        _, secret = create_key(store, "benchmark", ["customers:read"])
        rows = store._query(
            "SELECT r.email, MIN(r.first_name), MIN(r.last_name), MIN(r.postcode), "
            "MIN(r.country) FROM source_records r JOIN customer_records c "
            "ON c.source = r.source AND c.record_id = r.record_id "
            "WHERE r.email IS NOT NULL GROUP BY r.email HAVING COUNT(DISTINCT c.customer_id) = 1 "
            "ORDER BY MIN(r.record_id) LIMIT ?",
            (shoppers,),
        )
    known = [
        {"email": e, "firstName": f, "lastName": la, "address": {"postalCode": p, "country": c}}
        for e, f, la, p, c in rows
    ]
    return {"write_key": write_key, "secret": secret, "known": known, "nonce": nonce}


def working_store(store: Path, scratch: Path, keep: bool) -> str:
    """The URL of the store to load: a copy in ``scratch``, or the store itself (``keep``)."""
    path = store
    if not keep:
        path = scratch / "kenning.db"
        shutil.copyfile(store, path)
    return f"sqlite:///{path}"


def _new_person(rng: random.Random, tag: str) -> dict[str, Any]:
    FAKE.seed_instance(rng.getrandbits(32))
    first, last = FAKE.first_name(), FAKE.last_name()
    return {
        "email": f"{first}.{last}.{tag}@fastmail.co.uk".lower(),
        "firstName": first,
        "lastName": last,
        "address": {"postalCode": FAKE.postcode(), "country": "GB"},
    }


def track_batch(rng: random.Random, n: int, p: dict[str, Any]) -> Call:
    batch = [
        {
            "type": "track",
            "anonymousId": f"visitor-{rng.randrange(100_000)}",
            "event": "Product Viewed",
            "properties": {"sku": f"SKU-{rng.randrange(2000)}", "price": 129.0},
            "messageId": f"{p['nonce']}-t-{n}-{i}",
            "timestamp": "2026-11-27T12:00:00Z",
        }
        for i in range(100)
    ]
    return ("POST", "/v1/batch", orjson.dumps({"batch": batch}), None)


def identify_batch(rng: random.Random, n: int, p: dict[str, Any]) -> Call:
    """Half new people, half shoppers the store knows signing up on the web: each known
    shopper once (a web account of her own), as a shop's sign-ups come."""
    batch = []
    for i in range(50):
        tag = f"{p['nonce']}-{n}-{i}"
        if i % 2:
            shopper = (n * 25 + i // 2) % len(p["known"])
            traits, user = p["known"][shopper], f"web-{p['nonce']}-{shopper}"
        else:
            traits, user = _new_person(rng, tag), f"id-{tag}"
        batch.append(
            {"type": "identify", "userId": user, "traits": traits, "messageId": f"i-{tag}"}
        )
    return ("POST", "/v1/batch", orjson.dumps({"batch": batch}), None)


def lookup_email(rng: random.Random, _: int, p: dict[str, Any]) -> Call:
    email = rng.choice(p["known"])["email"]
    return ("GET", "/v1/customers/lookup?" + urlencode({"email": email}), None, None)


def probe(base: str, p: dict[str, Any], stop: threading.Event, out: list[float]) -> None:
    """Single identifies, each followed by lookups of its user id until it answers."""
    rng = random.Random(5)
    collect = httpx.Client(base_url=base, auth=(p["write_key"], ""))
    ask = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {p['secret']}"})
    source = f"bench-{p['nonce']}"
    n = 0
    while not stop.is_set():
        n += 1
        user = f"probe-{p['nonce']}-{n}"
        began = time.perf_counter()
        body = {"userId": user, "traits": _new_person(rng, f"p{n}"), "messageId": user}
        collect.post("/v1/identify", json=body).raise_for_status()
        while (
            ask.get("/v1/customers/lookup", params={"user_id": user, "source": source}).status_code
            != 200
        ):
            if time.perf_counter() - began > 30:
                raise SystemExit(f"{user} not visible after 30 s")
            time.sleep(0.002)  # asking without a pause would be load of its own
        out.append((time.perf_counter() - began) * 1000)
        stop.wait(0.05)  # a sample, not load


def paced_identifies(
    base: str, p: dict[str, Any], rate: float, stop: threading.Event, sent: list[int]
) -> None:
    """Batches of 10 identify calls at ``rate`` calls a second until stopped."""
    rng = random.Random(9)
    client = httpx.Client(base_url=base, auth=(p["write_key"], ""))
    started, n = time.perf_counter(), 0
    while not stop.is_set():
        _, path, body, _ = identify_batch(rng, 10**6 + 1000 + n, p)  # other shoppers
        batch = orjson.loads(body or b"{}")["batch"][:10]
        client.post(path, content=orjson.dumps({"batch": batch})).raise_for_status()
        n += 1
        sent.append(len(batch))
        delay = started + n * 10 / rate - time.perf_counter()
        if delay > 0:
            stop.wait(delay)


def visibility(base: str, url: str, p: dict[str, Any], rate: float, seconds: float) -> str:
    """Probes of identify-to-visible time while other identify calls arrive at ``rate``."""
    stop, visible, sent = threading.Event(), [], []
    threads = [
        threading.Thread(target=paced_identifies, args=(base, p, rate, stop, sent)),
        threading.Thread(target=probe, args=(base, p, stop, visible)),
    ]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    caught_up(url)
    return (
        f"visible: with {sum(sent) / seconds:,.0f} identify calls/s arriving, a new identify is "
        f"visible through the customer API after p50 {quantile(visible, 0.5):.1f} ms, "
        f"p99 {quantile(visible, 0.99):.1f} ms ({len(visible)} probes)"
    )


def caught_up(url: str, seconds: float = 300) -> float:
    """Wait until the follower has applied every collected event; returns when."""
    with open_store(url) as store:
        last = store._query("SELECT COALESCE(MAX(seq), 0) FROM events WHERE kind LIKE 'segment.%'")
        target = int(last[0][0])
        deadline = time.monotonic() + seconds
        while store.cursor(CURSOR) < target:
            if time.monotonic() > deadline:
                raise SystemExit("the follower did not catch up")
            time.sleep(0.005)
    return time.perf_counter()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path, help="a resolved SQLite store (copied first)")
    parser.add_argument("--seconds", type=float, default=20, help="per phase")
    parser.add_argument("--clients", type=int, default=32, help="for the lookup phase")
    parser.add_argument("--identify-clients", type=int, default=4, help="for the identify phase")
    parser.add_argument("--processes", type=int, default=2, help="load processes")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--pool", type=int, default=16, help="database connections per worker")
    parser.add_argument("--followers", type=int, default=2, help="follower processes")
    parser.add_argument("--phases", default="ingest,identify,visible,lookup")
    parser.add_argument(
        "--rate", type=float, default=250, help="identify calls/s behind the visibility probes"
    )
    parser.add_argument("--keep", action="store_true", help="work on the store, not a copy")
    args = parser.parse_args()
    wanted = set(args.phases.split(","))

    with tempfile.TemporaryDirectory(dir=args.store.parent) as scratch:
        url = working_store(args.store, Path(scratch), args.keep)
        params = prepare(url, uuid.uuid4().hex[:8], 50_000)
        with open_store(url) as store:
            records = sum(store.record_counts().values())
        print(
            f"\nSQLite, {records:,} source records, {args.workers} uvicorn worker(s), "
            f"{args.followers} follower(s), {args.processes} load processes\n"
        )
        print("| phase | clients | requests | p50 ms | p99 ms | requests/s | statuses "
              "| server CPU ms/request | client CPU ms/request |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|---|")
        notes = []
        followers = ("--followers", str(args.followers))
        with server(url, free_port(), args.workers, args.pool, *followers) as (base, pid):
            for name, make, clients, secret in (
                ("ingest", track_batch, 8, params["write_key"]),
                ("identify", identify_batch, args.identify_clients, params["write_key"]),
                ("lookup", lookup_email, args.clients, params["secret"]),
            ):
                if name not in wanted:
                    continue
                served = cpu_seconds(pid)
                began = time.perf_counter()
                out = load(base, secret, make, params, 10**6, clients, args.processes,
                           args.seconds)  # fmt: skip
                done = len(out.latencies)
                if name == "identify":
                    finished = caught_up(url)
                    ok = out.statuses.count(200) * 50
                    notes.append(
                        f"identify: {ok:,} identify calls resolved in {finished - began:.1f} s "
                        f"= {ok / (finished - began):,.0f}/s"
                    )
                if name == "ingest":
                    ok = out.statuses.count(200) * 100
                    notes.append(f"ingest: {ok / out.wall:,.0f} events/s acknowledged (durable)")
                served = cpu_seconds(pid) - served
                cpu = f" {served * 1000 / done:.2f} | {out.client_cpu * 1000 / done:.2f} |"
                print(row(name, clients, out.latencies, out.statuses, out.wall) + cpu)
            if "visible" in wanted:
                notes.append(visibility(base, url, params, args.rate, args.seconds))
        print()
        for note in notes:
            print(f"- {note}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
