"""Work over many record pairs split into parts done in threads: NumPy and RapidFuzz release
the GIL inside their loops, so the parts of a million-record run use every core."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
A = TypeVar("A")
# Pairs per part: large enough that Python's share of the work stays small.
PART = 500_000
# Pairs done alone first: they build what every part reads (the vocabularies' cached
# tables), once rather than in each thread.
_WARM = 2_000
# Records from which work over them in threads is worth starting the threads.
THREADS_FROM = 50_000
# Asked once: os.cpu_count() reads the system's files on every call.
_CORES = os.cpu_count() or 1


def in_parts(n: int, work: Callable[[slice], T], part: int | None = None) -> list[T]:
    """``work`` over slices covering range(n), in order; in threads when n is large."""
    part = part or PART
    if n <= 2 * part or _CORES < 2:
        return [work(slice(0, n))]
    first = work(slice(0, _WARM))
    parts = [slice(start, min(start + part, n)) for start in range(_WARM, n, part)]
    return [first, *in_threads(work, parts, records=n)]


def in_threads(work: Callable[[A], T], items: Iterable[A], *, records: int) -> list[T]:
    """``work`` over each item, in order; in threads when it is over enough ``records`` (the
    real-time matcher's few dozen would cost more to start threads for than they save)."""
    if records < THREADS_FROM or _CORES < 2:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=_CORES) as pool:
        return list(pool.map(work, items))
