"""The words a recognised shopper is greeted with: her name and what she owns."""

from __future__ import annotations

from collections.abc import Collection, Mapping

_PLURALS = {"accessory": "accessories", "laptop bag": "laptop bags", "bag": "bags"}


def plural(category: str, n: int) -> str:
    name = category.replace("_", " ")
    if n == 1:
        return f"1 {name}"
    return f"{n} {_PLURALS.get(name, name if name.endswith('s') else name + 's')}"


def greeting(
    first_name: str | None,
    owned: Mapping[str, int],
    limit: int = 3,
    registered: Collection[str] = (),
) -> str:
    """Hello and what she owns ("Hello Theresa, thanks for owning 4 suitcases, 3 laptop
    bags and 3 purses."): what she registered first (the products she cared to register),
    then the rest, most first."""
    hello = f"Hello {first_name}" if first_name else "Hello"
    ranked = sorted(owned.items(), key=lambda kv: (kv[0] not in registered, -kv[1], kv[0]))
    parts = [plural(c, n) for c, n in ranked[:limit] if n > 0]
    if not parts:
        return f"{hello}, welcome back."
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    end = " …" if len(ranked) > limit else "."
    return f"{hello}, thanks for owning {listed}{end}"
