"""Benchmark: ledger postings through the service layer, CLIENTS concurrent clients each
with its own database connection, for SECONDS.

Seeds CARDS gift cards (each with enough value never to run dry) and, per client, nothing
else; then every client, until the time is up, either redeems a random amount from a random
card (90 %) or transfers a random amount from one card to another (10 %: two holder rows
locked in one transaction), each with its own idempotency key. Every transaction is two
postings. At the end the books are verified from the database: each card's balance equals
the sum of its postings and of its lots, every transaction sums to zero, the postings
counted by the clients are the postings stored, and all postings of a unit sum to zero.

    python benchmarks/ledger.py --postgres postgresql://postgres@127.0.0.1:5432/test
    python benchmarks/ledger.py --postgres … --processes 2   # clients split over 2 processes
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inventory_api import fresh_database, quantile
from kenning.commerce.ledger.errors import LedgerError
from kenning.services import ledger
from kenning.store import open_store

CARD_VALUE = 10**12  # minor units: no card runs dry in a run


def backend_cpu(pids: list[int]) -> float:
    """CPU seconds used so far by these PostgreSQL backends (Linux /proc; 0 for SQLite)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            values = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += (int(values[11]) + int(values[12])) / ticks  # utime, stime
    return total


def client_cpu() -> float:
    """CPU seconds used by this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def seed(url: str, cards: int) -> list[str]:
    """Issue the cards; returns their account ids."""
    now = datetime.now(UTC)
    with open_store(url) as store:
        return [
            ledger.issue_gift_card(store, CARD_VALUE, "GBP", now=now).account_id
            for _ in range(cards)
        ]


def clients(
    url: str, ids: list[str], count: int, first: int, seconds: float, start: float
) -> dict[str, Any]:
    """``count`` client threads from index ``first``; their latencies and postings."""
    stores = [open_store(url, migrate=False) for _ in range(count)]
    postgres = url.startswith("postgresql")
    pids = [int(s._query("SELECT pg_backend_pid()")[0][0]) for s in stores] if postgres else []
    cpu_before = backend_cpu(pids)
    guard = threading.Lock()
    latencies: list[float] = []
    totals = {"postings": 0, "transactions": 0, "refused": 0, "finished": 0.0, "db_cpu": 0.0}

    def client(index: int) -> None:
        rng = random.Random(index)
        store = stores[index - first]
        mine: list[float] = []
        postings = transactions = refused = n = 0
        accounts = {i: ledger.get_account(store, i) for i in ids}
        while time.time() < start:
            time.sleep(0.001)
        end = start + seconds
        while time.time() < end:
            n += 1
            key = f"bench-{index}-{n}"
            began = time.perf_counter()
            try:
                if rng.random() < 0.9:
                    made = ledger.redeem(
                        store, accounts[rng.choice(ids)], rng.randint(1, 5000), key=key
                    )
                else:
                    source, target = rng.sample(ids, 2)
                    made = ledger.transfer(
                        store, source, target, rng.randint(1, 5000), "GBP", key=key
                    )
                postings += len(made.postings)
                transactions += 1
            except LedgerError:
                refused += 1
            mine.append((time.perf_counter() - began) * 1000)
        with guard:
            latencies.extend(mine)
            totals["finished"] = max(totals["finished"], time.time())
            totals["postings"] += postings
            totals["transactions"] += transactions
            totals["refused"] += refused

    threads = [threading.Thread(target=client, args=(first + i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    totals["db_cpu"] = backend_cpu(pids) - cpu_before
    for store in stores:
        store.close()
    return {"latencies": latencies, **totals}


def _process(args: tuple[str, list[str], int, int, float, float, Any]) -> None:
    url, ids, count, first, seconds, start, queue = args
    queue.put(clients(url, ids, count, first, seconds, start))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="PostgreSQL server URL (a fresh schema is used)")
    parser.add_argument("--cards", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()

    with fresh_database(args.postgres) as url:
        ids = seed(url, args.cards)
        with open_store(url) as store:
            _, _, seeded = store.ledger_counts()
        start = time.time() + 1.0
        cpu_before = client_cpu()
        share = [
            args.clients // args.processes + (i < args.clients % args.processes)
            for i in range(args.processes)
        ]
        firsts = [sum(share[:i]) for i in range(args.processes)]
        if args.processes == 1:
            results = [clients(url, ids, args.clients, 0, args.seconds, start)]
        else:
            queue: Any = multiprocessing.get_context("spawn").Queue()
            context = multiprocessing.get_context("spawn")
            procs = [
                context.Process(
                    target=_process, args=((url, ids, n, f, args.seconds, start, queue),)
                )
                for n, f in zip(share, firsts, strict=True)
            ]
            for p in procs:
                p.start()
            results = [queue.get() for _ in procs]
            for p in procs:
                p.join()
        database_cpu = sum(r["db_cpu"] for r in results)
        clients_cpu = client_cpu() - cpu_before
        # From the common start to the last client's last answer.
        wall = max(r["finished"] for r in results) - start
        latencies = [ms for r in results for ms in r["latencies"]]
        postings = sum(r["postings"] for r in results)
        transactions = sum(r["transactions"] for r in results)
        refused = sum(r["refused"] for r in results)

        with open_store(url) as store:
            began = time.perf_counter()
            problems = {rule: rows for rule, rows in ledger.verify(store).items() if rows}
            _, stored_transactions, stored = store.ledger_counts()
            units = store._query("SELECT unit, SUM(amount) FROM ledger_postings GROUP BY unit")
            checked = time.perf_counter() - began
        backend = "PostgreSQL" if args.postgres else "SQLite"
        print(
            f"\n{backend}, service layer, {args.clients} clients (own connections) in "
            f"{args.processes} process(es), {args.cards:,} gift cards, {wall:.1f} s\n"
        )
        print(
            "| transactions | postings | postings/s | transactions/s | p50 ms | p99 ms | refused |"
        )
        print("|---|---|---|---|---|---|---|")
        print(
            f"| {transactions:,} | {postings:,} | **{postings / wall:,.0f}** | "
            f"{transactions / wall:,.0f} | {quantile(latencies, 0.5):.1f} | "
            f"{quantile(latencies, 0.99):.1f} | {refused:,} | "
            f"{database_cpu * 1000 / max(1, transactions):.2f} | "
            f"{clients_cpu * 1000 / max(1, transactions):.2f} |"
        )
        counted = stored - seeded == postings
        balanced = all(int(total) == 0 for _, total in units)
        print(
            f"\nVerified in {checked:.1f} s over {stored_transactions:,} transactions and "
            f"{stored:,} postings: "
            + (
                "every balance equals the sum of its postings and of its lots, every "
                "transaction sums to zero, postings stored = postings made + seed, every unit "
                "sums to zero."
                if not problems and counted and balanced
                else f"FAILED: {problems} counted={counted} balanced={balanced}"
            )
        )
        if problems or not counted or not balanced:
            sys.exit(1)


if __name__ == "__main__":
    main()
