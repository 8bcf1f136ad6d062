"""Work over many record pairs split into parts done in threads: NumPy and RapidFuzz release
the GIL inside their loops, so the parts of a million-record run use every core. Pure-Python
work is split in two instead, one half in a forked copy of the process (`beside`)."""

from __future__ import annotations

import gc
import os
import signal
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


def beside(other: Callable[[], bytes], mine: Callable[[], T]) -> tuple[bytes | None, T]:
    """``mine`` here while ``other`` runs in a forked copy of this process: for pure-Python
    work, which holds the GIL, so threads would only take turns. Returns what ``other``
    returned, or None where it could not run there (no fork, one core, no memory for a
    copy, or it failed): the caller then does that part itself. The copy shares the memory
    until it writes, and leaves with os._exit: nothing of this process (files,
    connections) is closed or flushed twice."""
    if not hasattr(os, "fork") or _CORES < 2:
        return None, mine()
    read, write = os.pipe()
    try:
        pid = os.fork()
    except OSError:  # no memory or processes for a copy
        os.close(read)
        os.close(write)
        return None, mine()
    if pid == 0:  # pragma: no cover - the copy; coverage does not follow it
        os.close(read)
        gc.disable()  # a collection would copy the shared pages and run others' finalisers
        code = 1
        try:
            data = other()
            with os.fdopen(write, "wb") as out:
                out.write(len(data).to_bytes(8, "little") + data)
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    status = 1
    try:
        result = mine()
        with os.fdopen(read, "rb", closefd=False) as pipe:
            data = pipe.read()  # the copy waits here for its answer to be taken
    except BaseException:
        os.kill(pid, signal.SIGKILL)  # its half is of no use now
        raise
    finally:
        os.close(read)
        _, status = os.waitpid(pid, 0)
    whole = len(data) >= 8 and int.from_bytes(data[:8], "little") == len(data) - 8
    return (data[8:] if status == 0 and whole else None), result
