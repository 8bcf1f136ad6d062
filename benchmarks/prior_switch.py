"""Benchmark: from how many records a model trained on the store beats the shipped prior.

    python benchmarks/prior_switch.py [--people 100 300 1000 ...] [--seed 7] [--data DIR ...]

For generated retailers of growing size (a seed other than the prior's), and for the
people of each DIR (records.csv and truth.csv, as benchmarks/febrl.py writes them) taken
in growing samples, resolves the records once with the shipped prior and once with a
model trained on them, with default settings, and prints pairwise precision / recall /
F1 of each: the evidence for ResolutionSettings' `train_from_records` (docs/benchmarks.md).
Needs the demo extra (Faker).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from kenning.datagen import MARKETS, DatagenConfig, generate
from kenning.ingest.importer import Importer
from kenning.resolution.evaluation import evaluate
from kenning.resolution.model import Model
from kenning.resolution.pipeline import RecordTable, resolve
from kenning.resolution.prior import usable_prior
from kenning.services.identity import load_table, read_truth
from kenning.store import open_store


def _imported(files: list[Path], markets: tuple[str, ...] = ()) -> RecordTable:
    with tempfile.TemporaryDirectory() as scratch, open_store(f"sqlite:///{scratch}/k.db") as store:
        Importer(store, markets=markets).import_files(files)
        return load_table(store)


def generated(sizes: list[int], seed: int) -> Iterator[tuple[str, RecordTable, dict]]:
    for people in sizes:
        with tempfile.TemporaryDirectory() as scratch:
            out = Path(scratch)
            generate(DatagenConfig(people=people, seed=seed, activity=False), out)
            files = sorted((out / "records").glob("*.csv"))
            yield (
                "generated",
                _imported(files, tuple(MARKETS.split(","))),
                read_truth(out / "truth.csv"),
            )


def sampled(folder: Path, sizes: list[int], seed: int) -> Iterator[tuple[str, RecordTable, dict]]:
    """The records of growing random samples of the folder's people (all of them last)."""
    table = _imported([folder / "records.csv"])
    truth = read_truth(folder / "truth.csv")
    people = sorted(set(truth.values()))
    random.Random(seed).shuffle(people)
    columns = {name: column.to_pylist() for name, column in table.columns.items()}
    for size in [*(s for s in sizes if s < len(people)), len(people)]:
        chosen = set(people[:size])
        keys = [k for k in table.keys if truth.get(k) in chosen]
        at = table.index(keys)
        part = RecordTable.from_values(
            {k: [columns[c][at[k]] for c in columns] for k in keys}, list(columns)
        )
        yield folder.name, part, {k: truth[k] for k in keys}


def scores(table: RecordTable, truth: dict, model: Model | None) -> str:
    labels = resolve(table, model=model).labels.tolist()
    found = evaluate(dict(zip(table.keys, labels, strict=True)), truth)
    return f"{found.pairwise_precision:.3f} / {found.pairwise_recall:.3f} / {found.pairwise_f1:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[30, 100, 300, 1000, 3000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, nargs="*", default=[])
    args = parser.parse_args()
    prior = usable_prior()
    if prior is None:
        sys.exit("the shipped prior is for other comparisons: regenerate it first")
    print("| data | people | records | prior P / R / F1 | trained P / R / F1 |")
    print("|---|---:|---:|---|---|")
    runs = [
        generated(args.people, args.seed),
        *(sampled(d, args.people, args.seed) for d in args.data),
    ]
    for run in runs:
        for name, table, truth in run:
            people = len(set(truth.values()))
            print(
                f"| {name} | {people:,} | {len(table):,} | {scores(table, truth, prior)} | "
                f"{scores(table, truth, None)} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
