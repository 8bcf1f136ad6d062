"""Benchmark: lookup by e-mail over HTTP with wrk, on a copy of a resolved store.

Copies the store, adds a secret key (customers:read), writes a file of e-mails of resolved
customers (one customer per e-mail, picked as benchmarks/realtime_api.py picks them), starts
`kenning serve --workers N` and loads it with wrk (benchmarks/lookup.lua: a random e-mail
per request, every status code counted) in two runs:

  * closed: --connections connections, each sending its next request as soon as the answer
    comes: the most the server answers;
  * paced: the same connections sending --rate requests/s on a fixed schedule.

    python benchmarks/lookup_wrk.py /tmp/s1m/k.db
    python benchmarks/lookup_wrk.py /tmp/s1m/k.db --runs paced --rate 1500 --seconds 30

Prints one Markdown row per run: requests, achieved rate, p50/p99/p99.9 latency (wrk's,
from sending a request to its answer), status codes, the server's CPU per request (workers
and the idle follower) and the load average when the run ended.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from inventory_api import cpu_seconds, free_port, server
from realtime_api import prepare, working_store

LUA = Path(__file__).with_name("lookup.lua")


def wrk(base: str, emails: Path, secret: str, args: argparse.Namespace, rate: float) -> dict:
    """One wrk run; its done() lines as a dict."""
    env = dict(os.environ, LOOKUP_RATE=str(rate / args.threads) if rate else "0")
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s", "--latency",
           "--timeout", "10s", "-s", str(LUA), base, "--", str(emails), secret]  # fmt: skip
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    if args.verbose:
        print(out)
    result: dict = {"status": {}, "latency_us": {}, "error": {}}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in result:
            result[parts[0]][parts[1]] = int(parts[2])
        elif len(parts) == 2 and parts[0] in ("requests", "duration_us"):
            result[parts[0]] = int(parts[1])
    return result


def markdown(name: str, connections: int, r: dict, cpu: float, load: str) -> str:
    ms = {p: v / 1000 for p, v in r["latency_us"].items()}
    codes = ", ".join(f"{c}: {n:,}" for c, n in sorted(r["status"].items()))
    errors = ", ".join(f"{k} {n}" for k, n in sorted(r["error"].items()) if n and k != "status")
    rate = r["requests"] / (r["duration_us"] / 1e6)
    return (
        f"| {name} | {connections} | {r['requests']:,} | {rate:,.0f} | {ms['50']:.1f} | "
        f"{ms['99']:.1f} | {ms['99.9']:.1f} | {codes}{'; ' + errors if errors else ''} | "
        f"{cpu * 1000 / max(r['requests'], 1):.2f} | {load} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path, help="a resolved SQLite store (copied first)")
    parser.add_argument("--seconds", type=int, default=20, help="per run")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of load before the runs")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--rate", type=float, default=1500, help="requests/s of the paced run")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--pool", type=int, default=16, help="database connections per worker")
    parser.add_argument("--runs", default="closed,paced")
    parser.add_argument("--keep", action="store_true", help="work on the store, not a copy")
    parser.add_argument("--verbose", action="store_true", help="show wrk's own report")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.store.parent) as scratch:
        url = working_store(args.store, Path(scratch), args.keep)
        params = prepare(url, uuid.uuid4().hex[:8], 50_000)
        emails = Path(scratch) / "emails.txt"
        emails.write_text("".join(shopper["email"] + "\n" for shopper in params["known"]))
        print(f"\n{len(params['known']):,} e-mails, {args.workers} uvicorn worker(s), "
              f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s\n")  # fmt: skip
        print("| run | connections | requests | requests/s | p50 ms | p99 ms | p99.9 ms "
              "| statuses | server CPU ms/request | load average |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|---|---|")
        with server(url, free_port(), args.workers, args.pool) as (base, pid):
            if args.warmup:
                warm = argparse.Namespace(**{**vars(args), "seconds": args.warmup})
                wrk(base, emails, params["secret"], warm, 0)
            for name in args.runs.split(","):
                rate = args.rate if name == "paced" else 0
                served = cpu_seconds(pid)
                result = wrk(base, emails, params["secret"], args, rate)
                served = cpu_seconds(pid) - served
                load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
                label = f"paced {rate:,.0f}/s" if rate else "closed"
                print(markdown(label, args.connections, result, served, load), flush=True)
                time.sleep(1)


if __name__ == "__main__":
    main()
