"""Helpers the profile tests share."""

from __future__ import annotations

from pathlib import Path


def theresa_keys(retailer: Path) -> list[tuple[str, str]]:
    lines = (retailer / "truth.csv").read_text(encoding="utf-8").splitlines()[1:]
    return sorted(
        (parts[0], parts[1])
        for parts in (line.split(",") for line in lines)
        if parts[2] == "P-THERESA"
    )
