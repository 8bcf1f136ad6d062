"""Benchmark: a new install's first lookup, from the official Segment client's identify to
the lookup API's first answer by e-mail.

    python benchmarks/first_lookup.py [--runs 7] [--postgres postgresql://postgres@127.0.0.1:5432/test]

Each run takes a fresh store (a new SQLite file, or a new PostgreSQL database beside the one
named), no model ever trained: the server as deployed, its follower woken by each collected
request, resolving with the shipped prior. `segment-analytics-python` sends one identify in
sync mode; the lookup API is asked by e-mail until it answers 200. Prints the milliseconds
of each run and the median (the first run of a process includes warming it up).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
from segment.analytics.client import Client as SegmentClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "realtime"))
from server import serving  # noqa: E402  (the tests' uvicorn-in-a-thread)

from kenning.api.app import create_app  # noqa: E402
from kenning.services.keys import create_key  # noqa: E402
from kenning.services.sources import add_source  # noqa: E402
from kenning.settings import Settings  # noqa: E402
from kenning.store import open_store  # noqa: E402

EMAIL = "ottoline.brackenbury@fastmail.co.uk"
TRAITS = {"email": EMAIL, "firstName": "Ottoline", "lastName": "Brackenbury"}


@contextmanager
def fresh_store(postgres: str | None, run: int) -> Iterator[str]:
    if postgres is None:
        with tempfile.TemporaryDirectory(prefix="kenning-first-") as folder:
            yield f"sqlite:///{folder}/store.db"
        return
    name = f"kenning_first_lookup_{run}"
    with psycopg.connect(postgres, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield postgres.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(postgres, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def first_lookup(url: str) -> float:
    """Milliseconds from the identify call to the first 200 by e-mail."""
    with open_store(url) as store:
        _, key = add_source(store, "web", trusted=True)
        _, secret = create_key(store, "bench", ["customers:read"])
    app = create_app(Settings(database_url=url, pool_size=2))
    with (
        serving(app) as base,
        httpx.Client(base_url=base, headers={"Authorization": f"Bearer {secret}"}) as http,
    ):
        client = SegmentClient(key, host=base, sync_mode=True)
        sent = time.perf_counter()
        client.identify("web-1", TRAITS)
        while http.get("/v1/customers/lookup", params={"email": EMAIL}).status_code != 200:
            if time.perf_counter() - sent > 30:
                raise RuntimeError("not found within 30 s")
        return (time.perf_counter() - sent) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--postgres", help="a PostgreSQL URL; fresh databases beside it")
    args = parser.parse_args()
    times = []
    for run in range(args.runs):
        with fresh_store(args.postgres, run) as url:
            times.append(first_lookup(url))
    backend = "PostgreSQL" if args.postgres else "SQLite"
    runs = ", ".join(f"{t:.0f}" for t in times)
    print(f"{backend}: runs {runs} ms; median {statistics.median(times):.0f} ms")


if __name__ == "__main__":
    main()
