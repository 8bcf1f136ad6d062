"""DESIGN.md's layering, enforced: imports only point the allowed way."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "kenning"

# layer -> layers it must never import. Pure layers import no I/O layer at all.
_IO_AND_ABOVE = {
    "store",
    "ingest",
    "services",
    "profiles",
    "commerce",
    "segments",
    "api",
    "web",
    "cli",
}
FORBIDDEN: dict[str, set[str]] = {
    "domain": _IO_AND_ABOVE | {"resolution", "datagen"},
    "resolution": _IO_AND_ABOVE,
    "datagen": _IO_AND_ABOVE | {"resolution"},
    "store": _IO_AND_ABOVE - {"store"} | {"resolution"},
    "api": {"web", "cli"},
    "web": {"api", "cli"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_import_points_the_wrong_way() -> None:
    wrong: list[str] = []
    for layer, forbidden in FORBIDDEN.items():
        for path in sorted((SRC / layer).rglob("*.py")):
            for name in _imports(path):
                parts = name.split(".")
                if parts[0] == "kenning" and len(parts) > 1 and parts[1] in forbidden:
                    wrong.append(f"{path.relative_to(SRC)} imports {name}")
    assert wrong == []


def test_api_and_web_do_not_write_sql() -> None:
    offenders = [
        str(p.relative_to(SRC))
        for layer in ("api", "web")
        for p in (SRC / layer).rglob("*.py")
        if {"sqlite3", "psycopg"} & {n.split(".")[0] for n in _imports(p)}
    ]
    assert offenders == []
