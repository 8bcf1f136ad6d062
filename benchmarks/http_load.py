"""A light HTTP/1.1 load generator: keep-alive connections over raw asyncio streams, spread
over several processes, so the client is not what limits a benchmark of a server on the same
few cores (httpx spends 3-4 ms of CPU per request; this spends a fraction of that).

A phase is a module-level function ``make(rng, n, params) -> Call`` giving the n-th request.
Each process runs its share of the connections; every connection sends one request at a time
and waits for the answer, which must carry a Content-Length (uvicorn's answers do).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# method, path with query, JSON body or None, idempotency key or None
Call = tuple[str, str, bytes | None, str | None]
Make = Callable[[random.Random, int, dict[str, Any]], Call]


@dataclass
class Outcome:
    latencies: list[float]  # ms
    statuses: list[int]
    wall: float  # s, first request sent to last answer
    client_cpu: float  # s, user+system of every load process


def _request(call: Call, host: str, secret: str) -> bytes:
    method, target, body, key = call
    head = [
        f"{method} {target} HTTP/1.1",
        f"Host: {host}",
        f"Authorization: Bearer {secret}",
    ]
    if key is not None:
        head.append(f"Idempotency-Key: {key}")
    if body is not None:
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + (body or b"")


async def _connection(
    base: str,
    secret: str,
    make: Make,
    params: dict[str, Any],
    numbers: Iterator[int],
    stop: float,
    rng: random.Random,
    out: Outcome,
) -> None:
    url = urlsplit(base)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        for n in numbers:
            if time.time() > stop:
                return
            data = _request(make(rng, n, params), url.netloc, secret)
            began = time.perf_counter()
            writer.write(data)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            length = next(
                int(line.split(":", 1)[1])
                for line in lines
                if line.lower().startswith("content-length:")
            )
            await reader.readexactly(length)
            out.latencies.append((time.perf_counter() - began) * 1000)
            out.statuses.append(int(lines[0].split()[1]))
    finally:
        writer.close()


def _process(
    base: str,
    secret: str,
    make: Make,
    params: dict[str, Any],
    numbers: list[int],
    clients: int,
    start_at: float,
    seconds: float,
    seed: int,
) -> tuple[list[float], list[int], float, float, float]:
    out = Outcome([], [], 0.0, 0.0)
    shared = iter(numbers)
    rng = random.Random(seed)
    while time.time() < start_at:
        time.sleep(0.001)
    cpu = time.process_time()
    began = time.time()

    async def run() -> None:
        stop = began + seconds
        await asyncio.gather(
            *(
                _connection(base, secret, make, params, shared, stop, rng, out)
                for _ in range(clients)
            )
        )

    asyncio.run(run())
    return out.latencies, out.statuses, began, time.time(), time.process_time() - cpu


def load(
    base: str,
    secret: str,
    make: Make,
    params: dict[str, Any],
    requests: int,
    clients: int,
    processes: int,
    seconds: float,
    seed: int = 0,
) -> Outcome:
    """``requests`` requests (or as many as fit in ``seconds``) from ``clients`` keep-alive
    connections spread over ``processes`` processes."""
    processes = max(1, min(processes, clients))
    shares = [clients // processes + (i < clients % processes) for i in range(processes)]
    start_at = time.time() + 0.5  # every process starts sending together
    jobs = [
        (
            base,
            secret,
            make,
            params,
            list(range(i, requests, processes)),
            shares[i],
            start_at,
            seconds,
            seed * 1000 + i,
        )
        for i in range(processes)
    ]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results = pool.starmap(_process, jobs)
    outcome = Outcome([], [], 0.0, 0.0)
    for latencies, statuses, _, _, cpu in results:
        outcome.latencies += latencies
        outcome.statuses += statuses
        outcome.client_cpu += cpu
    outcome.wall = max(r[3] for r in results) - min(r[2] for r in results)
    return outcome
