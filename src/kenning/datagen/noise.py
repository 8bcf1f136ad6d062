"""How a true detail turns into what a system holds: typing slips, habits and formats.

Each function takes the true value and a random stream and returns one plausible way of
writing it down. Rates live in profiles.py; this module only knows the mechanisms.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import cache
from random import Random

from kenning.datagen.geography import DIRECTIONS, SUFFIXES
from kenning.datagen.places import Address, Street
from kenning.datagen.sampling import Table

_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")


def _neighbours() -> dict[str, str]:
    out: dict[str, str] = {}
    for r, row in enumerate(_ROWS):
        for i, c in enumerate(row):
            near = []
            for rr in (r - 1, r, r + 1):
                if 0 <= rr < len(_ROWS):
                    for j in (i - 1, i, i + 1):
                        if 0 <= j < len(_ROWS[rr]) and (rr, j) != (r, i):
                            near.append(_ROWS[rr][j])
            out[c] = "".join(near)
    return out


NEIGHBOURS = _neighbours()


def typo(rng: Random, s: str) -> str:
    """One slip of the fingers: a neighbouring key, two letters swapped, one lost or doubled."""
    n = len(s)
    if n < 3:
        return s
    # The first letter is rarely wrong: people look at the start of what they type.
    i = rng.randrange(1, n) if rng.random() < 0.9 else 0
    op = rng.random()
    if op < 0.35:
        c = s[i]
        near = NEIGHBOURS.get(c.lower())
        if near:
            k = near[rng.randrange(len(near))]
            return s[:i] + (k.upper() if c.isupper() else k) + s[i + 1 :]
    if op < 0.6 and i < n - 1 and s[i] != s[i + 1]:
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    if op < 0.85:
        return s[:i] + s[i + 1 :]
    return s[:i] + s[i] + s[i:]


@cache
def strip_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def mangle_encoding(rng: Random, s: str) -> str:
    """What a Latin-1 system makes of UTF-8: 'ZoÃ«', or a '?' for every accented letter."""
    if s.isascii():
        return s
    if rng.random() < 0.6:
        return s.encode("utf-8").decode("latin-1")
    return "".join(c if c.isascii() else "?" for c in s)


def punctuation(rng: Random, s: str) -> str:
    """Apostrophes and hyphens in names survive some systems and not others."""
    if "'" in s:
        r = rng.random()
        if r < 0.4:
            s = s.replace("'", "")
        elif r < 0.6:
            s = s.replace("'", " ")
        elif r < 0.75:
            s = s.replace("'", "\u2019")  # phones type a curly apostrophe
    if "-" in s and " " not in s:
        r = rng.random()
        if r < 0.3:
            s = s.replace("-", " ")
        elif r < 0.4:
            s = s.replace("-", "")
        elif r < 0.55:
            s = s.split("-")[rng.randrange(2)]  # one half of a double-barrelled name
    return s


def cased(style: str, s: str) -> str:
    if style == "u":
        return s.upper()
    if style == "l":
        return s.lower()
    if style == "p":
        return s.title()  # systems that "fix" case: McDonald -> Mcdonald
    return s


# -- full names --------------------------------------------------------------------------

FullForm = Callable[[str, str, str, str, str], str]  # title, first, middle, last, suffix

_FULL_FORMS: dict[str, Table[FullForm]] = {
    "GB": Table(
        (
            (lambda t, f, m, sn, sx: f"{f} {sn}", 60.0),
            (lambda t, f, m, sn, sx: f"{sn}, {f}", 8.0),
            (lambda t, f, m, sn, sx: f"{t} {f} {sn}" if t else f"{f} {sn}", 8.0),
            (lambda t, f, m, sn, sx: f"{t} {f[:1]} {sn}" if t else f"{f[:1]} {sn}", 4.0),
            (lambda t, f, m, sn, sx: f"{f[:1]}. {sn}", 2.0),
            (lambda t, f, m, sn, sx: f"{f} {m} {sn}" if m else f"{f} {sn}", 3.0),
            (lambda t, f, m, sn, sx: f"{sn} {f}", 1.0),
        )
    ),
    "US": Table(
        (
            (lambda t, f, m, sn, sx: f"{f} {sn} {sx}" if sx else f"{f} {sn}", 52.0),
            (lambda t, f, m, sn, sx: f"{sn}, {f}", 9.0),
            (lambda t, f, m, sn, sx: f"{_us_title(t)} {f} {sn}" if t else f"{f} {sn}", 5.0),
            (lambda t, f, m, sn, sx: f"{f} {m[:1]}. {sn}" if m else f"{f} {sn}", 9.0),
            (lambda t, f, m, sn, sx: f"{f} {m[:1]} {sn} {sx}".strip() if m else f"{f} {sn}", 3.0),
            (lambda t, f, m, sn, sx: f"{f[:1]}. {sn}", 2.0),
            (lambda t, f, m, sn, sx: f"{sn} {f}", 1.0),
        )
    ),
}


def _us_title(title: str) -> str:
    return title if title == "Miss" else f"{title}."  # Mr. Mrs. Ms. Dr.


def full_name(
    rng: Random, country: str, title: str, first: str, middle: str, last: str, suffix: str
) -> str:
    return _FULL_FORMS[country].pick(rng)(title, first, middle, last, suffix)


# -- e-mail ------------------------------------------------------------------------------

DOMAIN_TYPOS: dict[str, tuple[str, ...]] = {
    "gmail.com": (
        "gmial.com",
        "gmai.com",
        "gmail.co",
        "gmail.con",
        "gnail.com",
        "gmail.cm",
        "gmaill.com",
    ),
    "googlemail.com": ("googlemail.co.uk", "googlemail.com", "googlemail.co"),
    "hotmail.co.uk": ("hotmail.co", "hotmial.co.uk", "hotmail.com", "hotmai.co.uk"),
    "hotmail.com": ("hotmail.co", "hotmial.com", "hotmal.com", "hotmail.co.uk"),
    "yahoo.com": ("yaho.com", "yahoo.co", "yahooo.com", "yhaoo.com"),
    "yahoo.co.uk": ("yahoo.co", "yahoo.com", "yaho.co.uk"),
    "outlook.com": ("outlok.com", "outlook.co", "outlook.co.uk"),
    "icloud.com": ("icoud.com", "iclould.com", "icloud.co", "icloud.con"),
    "btinternet.com": ("btinternet.co.uk", "btinterent.com", "btinternt.com"),
    "comcast.net": ("comcast.com", "comcat.net", "comcast.ne"),
    "aol.com": ("aol.co", "aoll.com", "aol.co.uk"),
}
_PLUS_DOMAINS = frozenset({"gmail.com", "googlemail.com", "outlook.com", "icloud.com"})
_TAGS = ("shop", "aldgate", "news", "orders", "promo", "bags", "ap")


def email_typo(rng: Random, email: str) -> str:
    local, _, domain = email.partition("@")
    if rng.random() < 0.3:
        wrong = DOMAIN_TYPOS.get(domain)
        domain = wrong[rng.randrange(len(wrong))] if wrong else typo(rng, domain)
    elif rng.random() < 0.05:
        return f"{local}{domain}"  # the @ never made it
    else:
        local = typo(rng, local)
    return f"{local}@{domain}"


def email_variant(rng: Random, email: str) -> str:
    """Same mailbox, different string: gmail ignores dots; gmail and Apple have two domains."""
    local, _, domain = email.partition("@")
    if domain in ("icloud.com", "me.com"):  # one Apple mailbox answers to both
        return f"{local}@{'me.com' if domain == 'icloud.com' else 'icloud.com'}"
    if domain not in ("gmail.com", "googlemail.com"):
        return email
    r = rng.random()
    if r < 0.45 and "." in local:
        local = local.replace(".", "")
    elif r < 0.75 and len(local) > 3:
        i = rng.randrange(1, len(local) - 1)
        if local[i - 1] != "." and local[i] != ".":
            local = f"{local[:i]}.{local[i:]}"
    else:
        domain = "googlemail.com" if domain == "gmail.com" else "gmail.com"
    return f"{local}@{domain}"


def plus_tag(rng: Random, email: str) -> str:
    """Sub-addressing: mail for alice+shop@ reaches alice@."""
    local, _, domain = email.partition("@")
    if domain not in _PLUS_DOMAINS:
        return email
    return f"{local}+{_TAGS[rng.randrange(len(_TAGS))]}@{domain}"


def email_case(rng: Random, email: str) -> str:
    r = rng.random()
    if r < 0.5:
        return email[:1].upper() + email[1:]  # a phone capitalised the first letter
    if r < 0.75:
        local, _, domain = email.partition("@")
        return f"{local}@{domain.capitalize()}"
    if r < 0.9:
        return email.upper()
    local, _, domain = email.partition("@")
    return f"{'.'.join(p.capitalize() for p in local.split('.'))}@{domain}"


# -- phones ------------------------------------------------------------------------------

PhoneForm = Callable[[str], str]


def _gb_national(n: str) -> str:
    if n[0] == "7":
        return f"0{n[:4]} {n[4:]}"
    if n[:2] == "20":
        return f"0{n[:2]} {n[2:6]} {n[6:]}"
    return f"0{n[:3]} {n[3:6]} {n[6:]}"


def _gb_intl(n: str) -> str:
    return "+44 " + _gb_national(n)[1:]


GB_PHONE: dict[str, Table[PhoneForm]] = {
    "till": Table(
        (
            (_gb_national, 45.0),
            (lambda n: "0" + n, 40.0),
            (_gb_intl, 5.0),
            (lambda n: "+44" + n, 5.0),
            (lambda n: _gb_national(n).replace(" ", "-"), 2.0),
        )
    ),
    "form": Table(
        (
            (lambda n: "0" + n, 38.0),
            (_gb_national, 30.0),
            (_gb_intl, 12.0),
            (lambda n: "+44" + n, 10.0),
            (lambda n: "+44 (0)" + _gb_national(n)[1:], 5.0),
            (lambda n: "0044 " + _gb_national(n)[1:], 3.0),
            (lambda n: "44" + n, 2.0),
        )
    ),
    "e164": Table(((lambda n: "+44" + n, 92.0), (lambda n: "0" + n, 8.0))),
}
US_PHONE: dict[str, Table[PhoneForm]] = {
    "till": Table(
        (
            (lambda n: f"({n[:3]}) {n[3:6]}-{n[6:]}", 30.0),
            (lambda n: f"{n[:3]}-{n[3:6]}-{n[6:]}", 30.0),
            (lambda n: n, 30.0),
            (lambda n: f"{n[:3]}.{n[3:6]}.{n[6:]}", 5.0),
            (lambda n: f"1{n}", 5.0),
        )
    ),
    "form": Table(
        (
            (lambda n: n, 30.0),
            (lambda n: f"{n[:3]}-{n[3:6]}-{n[6:]}", 25.0),
            (lambda n: f"({n[:3]}) {n[3:6]}-{n[6:]}", 22.0),
            (lambda n: f"{n[:3]}.{n[3:6]}.{n[6:]}", 8.0),
            (lambda n: f"+1 {n[:3]} {n[3:6]} {n[6:]}", 6.0),
            (lambda n: f"+1 ({n[:3]}) {n[3:6]}-{n[6:]}", 3.0),
            (lambda n: f"1-{n[:3]}-{n[3:6]}-{n[6:]}", 3.0),
            (lambda n: f"{n[:3]} {n[3:6]} {n[6:]}", 3.0),
        )
    ),
    "e164": Table(((lambda n: "+1" + n, 92.0), (lambda n: n, 8.0))),
}
PHONE_PLACEHOLDERS = Table(
    (
        ("0000000000", 30.0),
        ("1234567890", 12.0),
        ("00000000000", 8.0),
        ("N/A", 10.0),
        ("none", 5.0),
        ("9999999999", 5.0),
        ("0", 5.0),
        ("-", 4.0),
        ("07000000000", 4.0),
        ("000-000-0000", 6.0),
        ("1111111111", 5.0),
        ("unknown", 3.0),
    )
)


def phone_text(rng: Random, nsn: str, country: str, style: str) -> str:
    forms = GB_PHONE if country == "GB" else US_PHONE
    return forms[style].pick(rng)(nsn)


def digit_typo(rng: Random, s: str) -> str:
    idx = [i for i, c in enumerate(s) if c.isdigit()]
    if len(idx) < 4:
        return s
    i = idx[rng.randrange(2, len(idx))]
    if rng.random() < 0.6:
        return f"{s[:i]}{rng.randrange(10)}{s[i + 1 :]}"
    j = idx[idx.index(i) - 1]
    chars = list(s)
    chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


# -- dates of birth ----------------------------------------------------------------------

DateForm = Callable[[int, int, int], str]
DOB_FORMS: dict[str, DateForm] = {
    "dmy": lambda y, m, d: f"{d:02d}/{m:02d}/{y}",
    "mdy": lambda y, m, d: f"{m:02d}/{d:02d}/{y}",
    "iso": lambda y, m, d: f"{y}-{m:02d}-{d:02d}",
    "ymd": lambda y, m, d: f"{y}{m:02d}{d:02d}",
    "dmy_short": lambda y, m, d: f"{d}/{m}/{y}",
    "mdy_short": lambda y, m, d: f"{m}/{d}/{y}",
    "dmy_yy": lambda y, m, d: f"{d:02d}/{m:02d}/{y % 100:02d}",
    "mdy_yy": lambda y, m, d: f"{m}/{d}/{y % 100:02d}",
    "dmy_dots": lambda y, m, d: f"{d:02d}.{m:02d}.{y}",
}
DOB_PLACEHOLDERS: dict[str, str] = {
    "dmy": "01/01/1900",
    "mdy": "01/01/1900",
    "iso": "1900-01-01",
    "ymd": "19000101",
    "dmy_short": "1/1/1900",
    "mdy_short": "1/1/1900",
    "dmy_yy": "01/01/00",
    "mdy_yy": "1/1/00",
    "dmy_dots": "01.01.1900",
}


def dob_text(rng: Random, dob: tuple[int, int, int], form: str, swap: float, slip: float) -> str:
    y, m, d = dob
    r = rng.random()
    if r < swap and d <= 12 and d != m:
        m, d = d, m  # written in the other country's order
    elif r < swap + slip:
        k = rng.random()
        if k < 0.4:
            d = max(1, min(28, d + (1 if rng.random() < 0.5 else -1)))
        elif k < 0.7:
            y += 1 if rng.random() < 0.5 else -1
        else:
            y = y - (y % 100) + (y % 10) * 10 + (y % 100) // 10  # 1978 -> 1987
            y = min(y, 2008)
    return DOB_FORMS[form](y, m, d)


# -- addresses ---------------------------------------------------------------------------


def street_text(rng: Random, street: Street, abbreviate: float) -> str:
    d = street.direction
    if d:
        r = rng.random()
        d = DIRECTIONS[d] if r < 0.25 else (f"{d}." if r < 0.35 else d)
    suffix = street.suffix
    if suffix and rng.random() < abbreviate:
        short = SUFFIXES[suffix]
        suffix = short[rng.randrange(len(short))]
    return " ".join(p for p in (d, street.base, suffix) if p)


_UNIT_WORDS: dict[str, tuple[tuple[str, float], ...]] = {
    "Flat": (("Flat {u}", 0.86), ("Apartment {u}", 0.05), ("Apt {u}", 0.04), ("{u}", 0.05)),
    "": (("{u}", 0.7), ("Flat {u}", 0.3)),
    "Apt": (
        ("Apt {u}", 0.45),
        ("Apt. {u}", 0.12),
        ("Apartment {u}", 0.1),
        ("#{u}", 0.2),
        ("Unit {u}", 0.05),
        ("{u}", 0.08),
    ),
    "Unit": (("Unit {u}", 0.6), ("#{u}", 0.25), ("Apt {u}", 0.15)),
    "#": (("#{u}", 0.6), ("Apt {u}", 0.25), ("Unit {u}", 0.15)),
    "Floor": (("{u} Floor", 0.5), ("{u} Fl", 0.3), ("Fl {u}", 0.2)),
}
UNIT_FORMS: dict[str, Table[str]] = {k: Table(v) for k, v in _UNIT_WORDS.items()}


def address_lines(
    rng: Random, a: Address, abbreviate: float, drop_unit: float, street_typo: float
) -> tuple[str, str]:
    street = street_text(rng, a.street, abbreviate)
    if street_typo and rng.random() < street_typo:
        street = typo(rng, street)
    number = a.number
    if "-" in number and rng.random() < 0.3:
        number = number.replace("-", "")  # Queens house numbers lose their hyphen
    main = f"{number} {street}"
    unit = ""
    if a.unit and rng.random() >= drop_unit:
        unit = UNIT_FORMS[a.unit_kind].pick(rng).format(u=a.unit)
    r = rng.random()
    if a.city.country == "US":
        if not unit:
            return main, ""
        if r < 0.6:
            return f"{main} {unit}", ""
        if r < 0.95:
            return main, unit
        return f"{main}, {unit}", ""
    building = a.building if a.building and rng.random() < 0.7 else ""
    if not unit:
        return (building, main) if building and r < 0.5 else (main, "")
    head = f"{unit}, {building}" if building else unit
    if r < 0.5:
        return (head, main) if building else (f"{head}, {main}", "")
    if r < 0.8:
        return head, main
    return main, head


def postcode_text(rng: Random, a: Address, plus4: float, zero_drop: float) -> str:
    pc = a.postcode
    r = rng.random()
    if a.city.country == "GB":
        if r < 0.18:
            return pc.replace(" ", "")
        if r < 0.23:
            return pc.lower()
        if r < 0.24:
            return pc.split(" ")[0]  # only the district
        if r < 0.25:
            return typo(rng, pc)
        return pc
    if r < 0.008:
        return digit_typo(rng, pc)
    if r < plus4:
        pc = f"{pc}-{a.plus4}"
    if pc[0] == "0" and rng.random() < zero_drop:
        pc = pc[1:]  # a spreadsheet treated the ZIP as a number
    return pc
