"""Timing a command as a whole process: wall seconds and peak resident memory."""

from __future__ import annotations

import os
import subprocess
import sys
import time

KENNING = [sys.executable, "-m", "kenning"]


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one command, run as its own process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        error = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"failed: {' '.join(cmd)}\n{error}")
    return seconds, usage.ru_maxrss / 1024
