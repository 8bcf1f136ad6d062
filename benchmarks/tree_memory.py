"""The peak memory of a command's whole process tree, sampled from /proc (Linux).

    python benchmarks/tree_memory.py -- kenning --db sqlite:///r1m.db resolve

A process's peak RSS misses the copies it forks (the batch run's clustering walks half its
edges in one), and adding RSS counts the pages they share twice. The proportional set size
(PSS) shares each page among the processes mapping it: its sum is the tree's memory.
Prints the peak of both sums, sampled every --every seconds.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path


def tree(pid: int) -> list[int]:
    """The process and its descendants, now."""
    found = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                found += tree(int(child))
    except (FileNotFoundError, ProcessLookupError):
        pass  # gone meanwhile
    return found


def memory(pids: list[int]) -> tuple[int, int]:
    """Summed (PSS, RSS) in KiB."""
    pss = rss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return pss, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--every", type=float, default=0.05, help="seconds between samples")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    peak_pss = peak_rss = most = 0
    while proc.poll() is None:
        pids = tree(proc.pid)
        pss, rss = memory(pids)
        if pss > peak_pss:
            peak_pss, most = pss, len(pids)
        peak_rss = max(peak_rss, rss)
        time.sleep(args.every)
    if proc.returncode:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(command)}")
    print(
        f"peak PSS of the process tree {peak_pss / 1024:,.0f} MiB ({most} processes then); "
        f"peak summed RSS {peak_rss / 1024:,.0f} MiB"
    )


if __name__ == "__main__":
    main()
