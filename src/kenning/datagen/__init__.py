"""The synthetic retailer: customers, their records in five systems, and what they did.

``generate`` writes a directory of CSV files (see writer.README) with known ground truth,
used by the demo, the tests and the identity-resolution benchmarks. The same config and
seed give byte-identical files, whatever the machine and the number of processes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from kenning.datagen.block import world
from kenning.datagen.contacts import LANES
from kenning.datagen.geography import MARKETS
from kenning.datagen.runner import parallel, plan, serial
from kenning.datagen.sources import SOURCES
from kenning.datagen.story import story
from kenning.datagen.writer import Sink

__all__ = ["MARKETS", "DatagenConfig", "DatagenReport", "generate"]

_PARALLEL_FROM = 20_000  # below this, starting processes costs more than it saves


@dataclass(frozen=True)
class DatagenConfig:
    people: int
    seed: int = 42
    activity: bool = True


@dataclass(frozen=True)
class DatagenReport:
    people: int
    records: dict[str, int]  # source -> identity records
    activity: dict[str, int]  # activity file stem -> rows
    out: Path

    @property
    def total_records(self) -> int:
        return sum(self.records.values())


def generate(
    config: DatagenConfig,
    out: Path,
    progress: Callable[[int], None] | None = None,
    *,
    workers: int | None = None,
) -> DatagenReport:
    """Write the dataset for ``config`` into ``out`` (created; existing files replaced).

    ``progress`` is called with the number of people just finished, at least every ~1%.
    ``workers`` (processes) defaults to the CPUs available, at most ``LANES`` (2), for large
    runs and to 1 below 20,000 people; the files are the same whatever it is.
    """
    if config.people < 1:
        raise ValueError("people must be at least 1 (the story customer)")
    slices = plan(config.people)
    if workers is None:
        cpus = (
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else (os.cpu_count() or 1)
        )
        workers = cpus if config.people >= _PARALLEL_FROM else 1
    workers = max(1, min(workers, LANES, len(slices) or 1))
    w = world()
    blocks = serial(config.seed, slices) if workers == 1 else parallel(config.seed, slices, workers)
    out.mkdir(parents=True, exist_ok=True)
    with Sink(out, activity=config.activity) as sink:
        if config.activity:
            sink.reference(w.catalogue)
        for block in chain((story(config.seed, w),), blocks):
            sink.write(block.texts, block.counts)
            if progress is not None:
                progress(block.people)
        sink.finish()
        sink.readme(config.seed, config.people)
        counts = dict(sink.counts)
    records = {s: counts[f"records/{s}.csv"] for s in SOURCES}
    activity = {
        k.split("/")[1].removesuffix(".csv"): v
        for k, v in counts.items()
        if k.startswith("activity/")
    }
    return DatagenReport(config.people, records, activity, out)
