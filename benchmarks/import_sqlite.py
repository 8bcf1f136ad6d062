"""Benchmark: generate a retailer and import its identity records into a fresh SQLite store.

Measures, as whole processes of the real command line:
  * `kenning datagen` wall time for the retailer (records and activity);
  * `kenning import` wall time, records/s and peak memory, for the whole data set and for a
    tenth of it — equal peak memory for both shows the import streams.

    python benchmarks/import_sqlite.py --people 300000 --runs 3

Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import KENNING, run


def count_rows(files: list[Path]) -> int:
    total = 0
    for path in files:
        with path.open(encoding="utf-8", newline="") as handle:
            total += sum(1 for _ in csv.reader(handle)) - 1
    return total


def tenth(files: list[Path], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    parts = []
    for path in files:
        with path.open(encoding="utf-8", newline="") as src:
            rows = csv.reader(src)
            target = out / path.name
            with target.open("w", encoding="utf-8", newline="") as dst:
                writer = csv.writer(dst)
                for i, row in enumerate(rows):
                    if i % 10 == 0 or i == 0:
                        writer.writerow(row)
        parts.append(target)
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: temp)")
    args = parser.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="kenning-bench-"))
    data = work / "data"
    if data.exists():
        shutil.rmtree(data)
    gen_s, gen_mb = run(
        [
            *KENNING,
            "datagen",
            "--people",
            str(args.people),
            "--seed",
            str(args.seed),
            "--out",
            str(data),
        ]
    )
    files = sorted((data / "records").glob("*.csv"))
    records = count_rows(files)
    small = tenth(files, work / "tenth")
    small_records = count_rows(small)

    def import_once(parts: list[Path]) -> tuple[float, float]:
        db = work / "bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        return run([*KENNING, "--db", f"sqlite:///{db}", "import", *map(str, parts)])

    full = [import_once(files) for _ in range(args.runs)]
    part = [import_once(small) for _ in range(args.runs)]
    best_full = min(full)
    best_part = min(part)

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(f"\n| step | records | wall (best of {args.runs}) | records/s | peak RSS |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| datagen --people {args.people:,} (with activity) | {records:,} | {gen_s:.1f} s | "
        f"{records / gen_s:,.0f} | {gen_mb:,.0f} MiB |"
    )
    print(
        f"| import into SQLite | {records:,} | {best_full[0]:.1f} s | "
        f"{records / best_full[0]:,.0f} | {max(m for _, m in full):,.0f} MiB |"
    )
    print(
        f"| import into SQLite (a tenth) | {small_records:,} | {best_part[0]:.1f} s | "
        f"{small_records / best_part[0]:,.0f} | {max(m for _, m in part):,.0f} MiB |"
    )
    print(f"\nall full-import runs: {', '.join(f'{s:.1f} s' for s, _ in full)}")
    if args.work is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
