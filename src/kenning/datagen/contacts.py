"""Personal e-mail addresses: the patterns people choose and a collision-free allocator.

Real mailboxes are unique, so two generated people must never get the same address by
accident (shared family mailboxes and placeholders are deliberate and made elsewhere). The
population is generated in independent lanes (see runner.py); a candidate address belongs
to exactly one lane, chosen by a stable hash of its mailbox (Gmail ignores dots), and each
lane remembers what it has handed out. No coordination between processes is needed, and
rejecting candidates uniformly at random leaves the mix of patterns unchanged.
"""

from __future__ import annotations

import unicodedata
import zlib
from collections.abc import Callable
from functools import cache
from random import Random

from kenning.datagen.sampling import Table
from kenning.domain.normalise.email import normalise_email

LANES = 2

DOMAINS: dict[str, Table[str]] = {
    "GB": Table(
        (
            ("gmail.com", 32),
            ("hotmail.co.uk", 12),
            ("hotmail.com", 5),
            ("outlook.com", 8),
            ("yahoo.co.uk", 7),
            ("yahoo.com", 2),
            ("icloud.com", 10),
            ("btinternet.com", 6),
            ("live.co.uk", 4),
            ("sky.com", 3),
            ("aol.com", 1.5),
            ("googlemail.com", 2),
            ("me.com", 1.5),
            ("virginmedia.com", 2),
            ("talktalk.net", 1),
            ("nhs.net", 1.2),
            ("ed.ac.uk", 0.3),
            ("manchester.ac.uk", 0.3),
            ("kcl.ac.uk", 0.2),
            ("bbc.co.uk", 0.2),
        )
    ),
    "US": Table(
        (
            ("gmail.com", 42),
            ("yahoo.com", 14),
            ("hotmail.com", 5),
            ("outlook.com", 6),
            ("icloud.com", 11),
            ("aol.com", 5),
            ("comcast.net", 5),
            ("verizon.net", 2),
            ("msn.com", 1.5),
            ("me.com", 2),
            ("live.com", 1),
            ("protonmail.com", 0.5),
            ("upenn.edu", 0.5),
            ("nyu.edu", 0.4),
            ("bu.edu", 0.3),
            ("chop.edu", 0.2),
            ("comcast.com", 0.2),
            ("mgh.harvard.edu", 0.2),
        )
    ),
}
FAMILY_DOMAINS: dict[str, Table[str]] = {
    "GB": Table(
        (
            ("btinternet.com", 5),
            ("gmail.com", 4),
            ("sky.com", 2),
            ("aol.com", 1),
            ("hotmail.co.uk", 2),
            ("virginmedia.com", 1),
        )
    ),
    "US": Table(
        (("gmail.com", 5), ("comcast.net", 3), ("aol.com", 2), ("yahoo.com", 2), ("verizon.net", 1))
    ),
}
_HANDLES = (
    "sunny",
    "travel",
    "happy",
    "blue",
    "star",
    "moon",
    "coffee",
    "beach",
    "city",
    "lucky",
    "wander",
    "jet",
    "music",
    "green",
    "red",
    "golden",
    "little",
    "big",
    "cool",
    "sweet",
)


@cache
def fold(name: str) -> str:
    """Lower-case ASCII letters and digits only: what a name becomes in a mailbox name."""
    decomposed = unicodedata.normalize("NFKD", name.lower())
    return "".join(c for c in decomposed if c.isascii() and c.isalnum())


class Registry:
    """Unique values (e-mail addresses, phone numbers) handed out by one lane."""

    __slots__ = ("lane", "used")

    def __init__(self, lane: int, reserved: tuple[str, ...] = ()) -> None:
        self.lane = lane
        # Reserved e-mail addresses are held by their mailbox, as claim_mailbox looks them up.
        self.used: set[str] = set(reserved) | {
            mailbox for v in reserved if "@" in v and (mailbox := normalise_email(v).value)
        }

    def owns(self, value: str) -> bool:
        return zlib.crc32(value.encode()) % LANES == self.lane

    def claim(self, value: str) -> bool:
        """Take ``value`` if this lane owns it and has not handed it out yet."""
        if value in self.used or not self.owns(value):
            return False
        self.used.add(value)
        return True

    def claim_mailbox(self, address: str) -> bool | None:
        """Take an e-mail address by its mailbox: "jo.smith@gmail.com" and "josmith@gmail.com"
        are one Gmail inbox and cannot belong to two people. None: another lane's to give."""
        mailbox = normalise_email(address).value or address
        if not self.owns(mailbox):
            return None
        return self.claim(mailbox)


Pattern = Callable[[Random, str, str, str, str, int], str]

# (rng, first, surname, middle initial, nickname, birth year) -> local part.
_PATTERNS: Table[Pattern] = Table(
    (
        (lambda r, f, s, m, n, y: f"{f}.{s}", 14.0),
        (lambda r, f, s, m, n, y: f"{f}{s}", 10.0),
        (lambda r, f, s, m, n, y: f"{f}_{s}", 3.0),
        (lambda r, f, s, m, n, y: f"{f[0]}{s}", 9.0),
        (lambda r, f, s, m, n, y: f"{f}.{s}{y % 100:02d}", 6.0),
        (lambda r, f, s, m, n, y: f"{f}{s}{r.randrange(1, 100)}", 8.0),
        (lambda r, f, s, m, n, y: f"{f}.{s}{r.randrange(1, 1000)}", 5.0),
        (lambda r, f, s, m, n, y: f"{f}{y}", 4.0),
        (lambda r, f, s, m, n, y: f"{f}{s[0]}{r.randrange(1, 1000)}", 4.0),
        (lambda r, f, s, m, n, y: f"{s}.{f}", 3.0),
        (lambda r, f, s, m, n, y: f"{s}{f[0]}", 3.0),
        (lambda r, f, s, m, n, y: f"{n or f}{s}", 3.0),
        (lambda r, f, s, m, n, y: f"{f}{m}{s}" if m else f"{f}.{s}", 3.0),
        (lambda r, f, s, m, n, y: f"{r.choice(_HANDLES)}{f}{r.randrange(1, 100)}", 5.0),
        (lambda r, f, s, m, n, y: f"{f}{r.choice(_HANDLES)}{y % 100:02d}", 3.0),
    )
)


def personal_email(
    rng: Random,
    alloc: Registry,
    country: str,
    first: str,
    last: str,
    middle: str,
    nickname: str,
    year: int,
) -> str:
    f, s = fold(first) or "x", fold(last) or "x"
    m = fold(middle)[:1]
    n = fold(nickname)
    domains = DOMAINS[country]
    taken = 0
    while True:
        local = _PATTERNS.pick(rng)(rng, f, s, m, n, year)
        if taken > 2:  # the obvious forms are taken: people add digits
            local += str(rng.randrange(1, 10 ** min(7, taken)))
        address = f"{local}@{domains.pick(rng)}"
        claimed = alloc.claim_mailbox(address)
        if claimed:
            return address
        if claimed is not None:  # taken; another lane's to give: draw again, nothing learnt
            taken += 1


def family_email(
    rng: Random, alloc: Registry, country: str, last: str, firsts: tuple[str, str]
) -> str:
    """A mailbox the household shares: thesmiths@..., johnandmary@..."""
    s = fold(last) or "home"
    a, b = fold(firsts[0]) or "a", fold(firsts[1]) or "b"
    forms = (
        f"the{s}s",
        f"{s}family",
        f"{a}and{b}",
        f"{a}and{b}{s}",
        f"{s}household",
        f"{s}{a[0]}{b[0]}",
    )
    domains = FAMILY_DOMAINS[country]
    taken = 0
    while True:
        local = forms[rng.randrange(len(forms))]
        if taken > 1:
            local += str(rng.randrange(1, 10 ** min(6, taken)))
        address = f"{local}@{domains.pick(rng)}"
        claimed = alloc.claim_mailbox(address)
        if claimed:
            return address
        if claimed is not None:  # taken; another lane's to give: draw again, nothing learnt
            taken += 1
