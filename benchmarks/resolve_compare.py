"""Benchmark: Kenning's `kenning resolve` and Splink 5 side by side, same data, same machine.

    python benchmarks/resolve_compare.py DIR [DIR ...] [--no-splink]

Each DIR holds canonical records (records/*.csv or records.csv) and truth.csv — as
`kenning datagen` and benchmarks/public_data.py write them. For Kenning, the records are imported
into a fresh SQLite store, then `kenning resolve` is timed as a whole process (wall and peak
RSS) and scored with `kenning evaluate`; Kenning runs with its retail defaults, or with the
settings a data set brings as DIR/kenning-settings.yaml (Febrl: register data), and the
markets (KENNING_MARKETS) a generated retailer names in DIR/markets.txt. Splink
runs as benchmarks/splink_baseline.py describes, at its best threshold.
Prints one Markdown table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import KENNING  # noqa: E402
from timing import run as _timed  # noqa: E402


def kenning(folder: Path, work: Path) -> dict[str, Any]:
    db = work / f"{folder.name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    markets = folder / "markets.txt"
    env = {**os.environ, "KENNING_MARKETS": markets.read_text().strip() if markets.exists() else ""}
    files = sorted((folder / "records").glob("*.csv")) or [folder / "records.csv"]
    subprocess.run(
        [*KENNING, "--db", url, "import", *map(str, files)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    # A data set may bring its own settings; the published figures use none (defaults).
    settings = folder / "kenning-settings.yaml"
    options = ["--settings", str(settings)] if settings.exists() else []
    seconds, rss = _timed([*KENNING, "--db", url, "resolve", *options], env=env)
    sys.path.insert(0, str(ROOT / "src"))
    from kenning.services.identity import evaluate_store
    from kenning.store import open_store

    with open_store(url) as store:
        result = evaluate_store(store, folder / "truth.csv").as_dict()
    return {"seconds": seconds, "peak_rss_mib": rss, **result}


def splink(folder: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "splink_baseline.py"), str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout[out.stdout.index("{") :]))


# Kenning's default threshold. With no truth to pick one, a production run of Splink uses
# a fixed threshold too: this one, the nearest weight Splink's run was scored at.
FIXED = 0.95


def _at_fixed_threshold(result: dict[str, Any]) -> dict[str, Any]:
    weight = math.log2(FIXED / (1 - FIXED))
    scored = result["by_threshold"]
    nearest = min(scored, key=lambda w: abs(float(w) - weight))
    return {
        "seconds": result["seconds"],
        "peak_rss_mib": result["peak_rss_mib"],
        "evaluation": {**result["evaluation"], **scored[nearest]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument("--json", type=Path, help="also append every run's figures here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kenning-resolve-"))
    print("| data | records | system | wall | peak RSS | pairwise P | R | F1 | B-cubed F1 |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for folder in args.folders:
        runs = [("Kenning", kenning(folder, work))]
        if not args.no_splink:
            best = splink(folder)
            runs.append(("Splink 5 (best threshold)", best))
            runs.append((f"Splink 5 (threshold {FIXED:.2f})", _at_fixed_threshold(best)))
        if args.json:
            with args.json.open("a", encoding="utf-8") as out:
                out.write(json.dumps({"data": str(folder), "runs": dict(runs)}) + "\n")
        for system, r in runs:
            ev = r.get("evaluation", r)
            print(
                f"| {folder.name} | {ev['records']:,} | {system} | {r['seconds']:.1f} s | "
                f"{r['peak_rss_mib']:,.0f} MiB | {ev['pairwise_precision']:.3f} | "
                f"{ev['pairwise_recall']:.3f} | {ev['pairwise_f1']:.3f} | {ev['bcubed_f1']:.3f} |"
            )


if __name__ == "__main__":
    main()
