"""Splitting the population into blocks and generating them, in one process or several.

Block ``k`` belongs to lane ``k % LANES``; a lane's e-mail/phone registry carries over from
one of its blocks to the next, so a lane's blocks run in order in one process. With several
workers each takes whole lanes. The output is the same whatever the number of workers.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.queues import Queue
from pathlib import Path

from kenning.datagen.block import Block, BlockOutput, World, world
from kenning.datagen.contacts import LANES, Registry
from kenning.datagen.journey import live
from kenning.datagen.people import Population
from kenning.datagen.story import RESERVED

BLOCK_PEOPLE = 2_000


@dataclass(frozen=True, slots=True)
class Slice:
    index: int  # block number; 0 is the story customer's
    first: int  # number of the block's first person
    people: int


def plan(people: int) -> list[Slice]:
    """Blocks for everyone but the story customer: at least ~100 for progress reports."""
    n = people - 1
    if n <= 0:
        return []
    size = max(1, min(BLOCK_PEOPLE, -(-n // 100)))
    return [
        Slice(k + 1, start + 1, min(size, n - start)) for k, start in enumerate(range(0, n, size))
    ]


def make_block(seed: int, s: Slice, registry: Registry, w: World) -> BlockOutput:
    b = Block(seed, s.index, registry, w)
    population = Population(b.rng, w.names, w.places, registry)
    next_pid = [s.first]
    left = s.people
    while left > 0:
        members = population.household(next_pid, left)
        for person in members:
            live(b, person)
        left -= len(members)
    b.people = s.people
    return b.output()


def _registries() -> list[Registry]:
    return [Registry(lane, RESERVED) for lane in range(LANES)]


def serial(seed: int, slices: list[Slice]) -> Iterator[BlockOutput]:
    w = world()
    registries = _registries()
    for s in slices:
        yield make_block(seed, s, registries[s.index % LANES], w)


def _worker(seed: int, slices: list[Slice], out: Queue[object]) -> None:
    # A forked child inherits the standard streams' locks in whatever state the parent's
    # other threads (a progress display) left them, and flushes the streams on exit; it
    # has nothing to print, so give it streams of its own.
    sys.stdout = sys.stderr = Path(os.devnull).open("w", encoding="utf-8")  # noqa: SIM115
    try:
        w = world()
        registries = _registries()
        for s in slices:
            out.put(make_block(seed, s, registries[s.index % LANES], w))
    except BaseException:  # report anything, or the parent would wait for ever
        out.put(RuntimeError(f"datagen worker failed:\n{traceback.format_exc()}"))


def parallel(seed: int, slices: list[Slice], workers: int) -> Iterator[BlockOutput]:
    """Blocks from ``workers`` processes, yielded in block order."""
    # fork shares the reference tables already built and needs no re-import of the caller's
    # main module; see _worker for why it is safe with a progress thread running.
    ctx = mp.get_context("fork") if sys.platform.startswith("linux") else mp.get_context("spawn")

    def owner(s: Slice) -> int:
        return (s.index % LANES) % workers

    queues: list[Queue[object]] = [ctx.Queue(maxsize=4) for _ in range(workers)]
    procs = [
        ctx.Process(
            target=_worker,
            args=(seed, [s for s in slices if owner(s) == i], queues[i]),
            daemon=True,
        )
        for i in range(workers)
    ]
    for proc in procs:
        proc.start()
    try:
        for s in slices:
            i = owner(s)
            while True:
                try:
                    got = queues[i].get(timeout=1.0)
                    break
                except queue.Empty:
                    if not procs[i].is_alive():
                        raise RuntimeError("datagen worker exited unexpectedly") from None
            if isinstance(got, BaseException):
                raise got
            assert isinstance(got, BlockOutput) and got.index == s.index
            yield got
        for proc in procs:
            proc.join()
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
                proc.join()
