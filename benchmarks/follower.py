"""Benchmark: the log follower's online resolution in-process, without HTTP or other
processes — what one core does with identify calls.

Works on a copy of a resolved and indexed store (`kenning resolve`, then `kenning follow`),
logs identify calls as the collection API would (the identify phase of realtime_api.py:
half shoppers the store knows signing up on the web, half new people), then follows the
log to its end and times it.

    python benchmarks/follower.py /tmp/kb/s1m.db --calls 4000
    python benchmarks/follower.py /tmp/kb/s1m.db --calls 4000 --profile follower.prof

Set KENNING_MARKETS as for the import.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import random
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import orjson

from kenning.domain.segment import parse_batch
from kenning.services.collect import collect
from kenning.services.follow import follow
from kenning.services.identity import MODEL_NAME
from kenning.services.matching import ModelCache
from kenning.settings import Settings
from kenning.store import open_store
from realtime_api import identify_batch, prepare, working_store


def _checkpoints(url: str, stop: threading.Event) -> None:
    with open_store(url, migrate=False) as copier:
        while not stop.wait(0.2):
            copier.checkpoint()


Followed = tuple[list[float], int, int, float, float, float]


def _follow_to_end(url: str, records: int, markets: tuple[str, ...], at: float) -> Followed:
    """A follower: follow from the moment ``at`` (time.time(), shared by the processes)
    until the log is caught up. Its runs' times, the records it resolved, its runs
    resolved again (another had changed what they read), when it began and ended, and
    the CPU time it took."""
    with open_store(url, migrate=False) as store:
        store.defer_checkpoints()
        models = ModelCache()
        models.get(store, MODEL_NAME)  # the model parsed before the clock starts
        runs, resolved, replanned = [], 0, 0
        time.sleep(max(0.0, at - time.time()))
        began, cpu = time.time(), time.process_time()
        while True:
            start = time.perf_counter()
            outcome = follow(store, models, records=records, markets=markets)
            if not outcome.events:
                return runs, resolved, replanned, began, time.time(), time.process_time() - cpu
            runs.append(time.perf_counter() - start)
            resolved += outcome.resolved
            replanned += outcome.replanned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path, help="a resolved, indexed SQLite store (copied)")
    parser.add_argument("--calls", type=int, default=4000, help="identify calls (x50)")
    parser.add_argument("--records", type=int, default=200, help="records per follower run")
    parser.add_argument("--profile", type=Path, help="write cProfile stats of following here")
    parser.add_argument(
        "--followers", type=int, default=1, help="follower processes (1: in this process)"
    )
    args = parser.parse_args()
    markets = Settings().market_codes
    with tempfile.TemporaryDirectory(dir=args.store.parent) as scratch:
        url = working_store(args.store, Path(scratch), keep=False)
        params = prepare(url, uuid.uuid4().hex[:8], 50_000)
        rng = random.Random(3)
        with open_store(url) as store:
            source = f"bench-{params['nonce']}"
            for n in range(args.calls // 50):
                body = orjson.loads(identify_batch(rng, n, params)[2] or b"{}")
                messages, errors = parse_batch(body, datetime.now(UTC))
                assert not errors, errors
                collect(store, source, messages)
            # As the server's follower: the log is copied into the database on the other
            # core, not by the commits of its runs.
            store.defer_checkpoints()
            stop = threading.Event()
            copier = threading.Thread(target=_checkpoints, args=(url, stop))
            copier.start()
            profiler = cProfile.Profile() if args.profile else None
            if args.followers > 1:
                # Processes start together once each has imported and parsed the model.
                spawn = multiprocessing.get_context("spawn")
                at = time.time() + 10
                with spawn.Pool(args.followers) as pool:
                    parts = pool.starmap(
                        _follow_to_end, [(url, args.records, markets, at)] * args.followers
                    )
            else:
                if profiler:
                    profiler.enable()
                parts = [_follow_to_end(url, args.records, markets, 0.0)]
            wall = max(part[4] for part in parts) - min(part[3] for part in parts)
            runs = [run for part in parts for run in part[0]]
            resolved = sum(part[1] for part in parts)
            replanned = sum(part[2] for part in parts)
            cpu = sum(part[5] for part in parts)
            stop.set()
            copier.join()
            if profiler:
                profiler.disable()
                profiler.dump_stats(args.profile)
    runs.sort()
    print(
        f"{args.calls:,} identify calls followed in {wall:.2f} s = {args.calls / wall:,.0f}/s, "
        f"{cpu * 1000 / args.calls:.2f} ms CPU each "
        f"({len(runs)} runs of up to {args.records} records; run p50 "
        f"{runs[len(runs) // 2] * 1000:.0f} ms, max {runs[-1] * 1000:.0f} ms; "
        f"{resolved:,} records resolved again; {args.followers} follower process(es), "
        f"{replanned} runs resolved again under the lock)"
    )


if __name__ == "__main__":
    main()
