"""Fast, deterministic sampling helpers shared by the generator.

Everything here draws from an explicit ``random.Random`` so a seed fully determines the
output; nothing touches the global generator, hash randomisation or the clock.
"""

from __future__ import annotations

from bisect import bisect
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from itertools import accumulate
from random import Random
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from _typeshed import SupportsLenAndGetItem

T = TypeVar("T")

# The synthetic retailer's calendar: records are captured between START and END (exclusive).
# A fixed reference date, never the clock, keeps runs byte-identical.
START = date(2018, 1, 1)
END = date(2026, 11, 1)
END_DAY = (END - START).days


def words(text: str) -> tuple[str, ...]:
    """A tuple from whitespace-separated words: keeps long data lists compact."""
    return tuple(text.split())


def lines(text: str) -> tuple[str, ...]:
    """A tuple from the non-blank lines of ``text``, stripped."""
    return tuple(s.strip() for s in text.splitlines() if s.strip())


class Rng(Random):
    """``random.Random`` with cheaper integer draws.

    The standard ``randrange`` and ``choice`` make five or six Python calls per draw
    (rejection sampling on ``getrandbits``); scaling one ``random()`` is exact enough for
    the small ranges drawn here and several times faster. Still fully seeded.
    """

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            return int(self.random() * start)
        return start + int(self.random() * (stop - start))

    def choice(self, seq: SupportsLenAndGetItem[T]) -> T:
        return seq[int(self.random() * len(seq))]


class Table(Generic[T]):
    """A weighted choice table: one ``random()`` and one bisect per draw."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        items: list[T] = []
        weights: list[float] = []
        for item, weight in pairs:
            if weight > 0:
                items.append(item)
                weights.append(weight)
        if not items:
            raise ValueError("a choice table needs at least one positive weight")
        self.items: tuple[T, ...] = tuple(items)
        self.cum: list[float] = list(accumulate(weights))
        self.total: float = self.cum[-1]

    def pick(self, rng: Random) -> T:
        return self.items[bisect(self.cum, rng.random() * self.total)]

    def weight(self, item: T) -> float:
        """Share of ``item`` among all draws."""
        i = self.items.index(item)
        return (self.cum[i] - (self.cum[i - 1] if i else 0.0)) / self.total


def zipf(items: Sequence[T], flatten: float = 12.0) -> Table[T]:
    """Weights for a list ordered most-common first but given without frequencies."""
    return Table((item, 1.0 / (rank + flatten)) for rank, item in enumerate(items))


class Scrambler:
    """A bijection on ``range(10**digits)`` so sequential counters become unguessable ids.

    An affine map ``(a * n + b) mod 10**digits`` is a permutation when ``a`` is coprime
    with 10, and so is swapping the high and low halves of the digits; affine, swap,
    affine mixes every digit of the counter into every digit of the id. Distinct counters
    give distinct ids with no lookup table and no coordination between processes.
    """

    __slots__ = ("a", "b", "high", "low", "mod")

    def __init__(self, a: int, b: int, digits: int) -> None:
        if a % 2 == 0 or a % 5 == 0:
            raise ValueError("multiplier must be coprime with 10")
        self.a = a
        self.b = b
        self.mod: int = 10**digits
        self.low: int = 10 ** (digits // 2)
        self.high: int = 10 ** (digits - digits // 2)

    def __call__(self, n: int) -> int:
        a, b, mod = self.a, self.b, self.mod
        x = (a * n + b) % mod
        x = (x % self.low) * self.high + x // self.low
        return (a * x + b) % mod


# Pre-formatted calendar days: formatting a date is the hottest string operation.
DAY_ISO: tuple[str, ...] = tuple(
    (START + timedelta(days=d)).isoformat() for d in range(END_DAY + 400)
)


_HOURS = tuple(f"{h:02d}" for h in range(24))
_SIXTY = tuple(f"{m:02d}" for m in range(60))


def stamp(day: int, seconds: int) -> str:
    """ISO-8601 UTC timestamp for a day offset and seconds after midnight."""
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    return f"{DAY_ISO[day]}T{_HOURS[h]}:{_SIXTY[m]}:{_SIXTY[s]}Z"


def day_date(day: int) -> date:
    return START + timedelta(days=day)


def spread(rng: Random, lo: int, hi: int, n: int) -> list[int]:
    """``n`` sorted days in ``[lo, hi)``; collapses to ``lo`` when the window is empty."""
    if hi <= lo:
        return [lo] * n
    rnd = rng.randrange
    return sorted(rnd(lo, hi) for _ in range(n))


def geometric(rng: Random, mean_extra: float, cap: int) -> int:
    """Count of extra events with a long tail: 0 most often, occasionally many."""
    if mean_extra <= 0:
        return 0
    p = 1.0 / (1.0 + mean_extra)
    n = 0
    rnd = rng.random
    while n < cap and rnd() > p:
        n += 1
    return n
