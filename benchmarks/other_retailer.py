"""An independent retail data simulator, to check identity resolution on data it was not
tuned to.

    python benchmarks/other_retailer.py --people 12000 --seed 1 --out DIR

Harbour & Pine, a home-goods retailer with shops in six countries (GB, US, DE, FR, ES, NL)
and a web shop, as its five systems hold its customers: till receipts (``pos``), web-shop
accounts (``web``), product registrations and repair tickets (``registrations``), the e-mail
list (``email``) and a loyalty/CRM export (``loyalty``). It writes DIR/records/<system>.csv in
Kenning's canonical columns, DIR/truth.csv (source, record_id, person_id) and
DIR/markets.txt.

It deliberately shares no code or choices with ``kenning.datagen``: names are drawn from
Faker's locale lists with Zipf-Mandelbrot frequencies, people live in households (couples,
adult children, flatmates) that share an address, a landline and sometimes a family
mailbox, some move (later records carry the new address and sometimes a new phone), some
marry and change surname, and the systems capture them as cashiers and forms do: partial
phones, names alone, initials, nicknames, swapped names, typos, local date and phone
formats, placeholders and shop-default e-mails. Everything follows from ``--seed``.
"""

from __future__ import annotations

import argparse
import csv
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from random import Random

import phonenumbers
from faker import Faker

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from kenning.domain.records import CANONICAL_FIELDS

SYSTEMS = ("pos", "web", "registrations", "email", "loyalty")
START, END = datetime(2017, 3, 1, tzinfo=UTC), datetime(2026, 6, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Country:
    code: str
    locale: str
    weight: float
    towns: tuple[tuple[str, str], ...]  # (town, landline prefix)
    mobiles: tuple[str, ...]
    domains: tuple[str, ...]  # personal e-mail providers, most used first
    spellings: tuple[str, ...]  # how systems write the country
    date_order: str  # "dmy" or "mdy"
    date_sep: str
    flat: str  # address_line2 pattern, {n} a number


COUNTRIES = (
    Country(
        "GB", "en_GB", 0.24, (("London", "020"), ("Leeds", "0113"), ("Bristol", "0117")),
        ("074", "075", "077", "078", "079"),
        ("gmail.com", "hotmail.co.uk", "btinternet.com", "yahoo.co.uk", "outlook.com",
         "sky.com", "icloud.com"),
        ("GB", "UK", "United Kingdom", "England"), "dmy", "/", "Flat {n}",
    ),
    Country(
        "US", "en_US", 0.24, (("Chicago", "312"), ("Denver", "303"), ("Austin", "512")),
        ("773", "720", "737"),
        ("gmail.com", "yahoo.com", "hotmail.com", "aol.com", "outlook.com", "icloud.com",
         "comcast.net"),
        ("US", "USA", "United States"), "mdy", "/", "Apt {n}",
    ),
    Country(
        "DE", "de_DE", 0.16, (("Hamburg", "040"), ("Köln", "0221"), ("München", "089")),
        ("0151", "0160", "0170", "0171", "0176"),
        ("gmx.de", "web.de", "t-online.de", "gmail.com", "freenet.de", "posteo.de"),
        ("DE", "Deutschland", "Germany"), "dmy", ".", "{n}. OG",
    ),
    Country(
        "FR", "fr_FR", 0.14, (("Lyon", "04"), ("Lille", "03"), ("Bordeaux", "05")),
        ("06", "07"),
        ("orange.fr", "gmail.com", "free.fr", "laposte.net", "sfr.fr", "hotmail.fr"),
        ("FR", "France"), "dmy", "/", "Bât. {n}",
    ),
    Country(
        "ES", "es_ES", 0.12, (("Madrid", "91"), ("Sevilla", "95"), ("Valencia", "96")),
        ("6",),
        ("gmail.com", "hotmail.es", "yahoo.es", "telefonica.net", "outlook.es"),
        ("ES", "España", "Spain"), "dmy", "/", "{n}º B",
    ),
    Country(
        "NL", "nl_NL", 0.10, (("Amsterdam", "020"), ("Utrecht", "030"), ("Rotterdam", "010")),
        ("06",),
        ("gmail.com", "ziggo.nl", "kpnmail.nl", "hotmail.nl", "xs4all.nl", "planet.nl"),
        ("NL", "Nederland", "Netherlands", "Holland"), "dmy", "-", "{n}-hoog",
    ),
)  # fmt: skip
NUMBER_LENGTH = {"GB": (11,), "US": (10,), "DE": (10, 11, 12), "FR": (10,), "ES": (9,), "NL": (10,)}

# Short forms a cashier or the customer writes; only forms in common use.
NICKNAMES = {
    "William": ("Bill", "Will"), "Robert": ("Bob", "Rob"), "Richard": ("Rick", "Rich"),
    "James": ("Jim", "Jamie"), "Elizabeth": ("Liz", "Beth"), "Margaret": ("Maggie", "Peggy"),
    "Thomas": ("Tom",), "Michael": ("Mike",), "Christopher": ("Chris",), "Daniel": ("Dan",),
    "Jennifer": ("Jen", "Jenny"), "Katherine": ("Kate", "Kathy"), "Catherine": ("Cathy",),
    "Joseph": ("Joe",), "Anthony": ("Tony",), "Samuel": ("Sam",), "Rebecca": ("Becky",),
    "Victoria": ("Vicky",), "Alexander": ("Alex",), "Patricia": ("Pat", "Trish"),
    "Johannes": ("Hans",), "Wolfgang": ("Wolf",), "Katharina": ("Kathi",), "Stefan": ("Steff",),
    "Alexandra": ("Alex",), "Christian": ("Chris",), "Elisabeth": ("Lisa", "Sissi"),
    "Francisco": ("Paco", "Fran"), "José": ("Pepe",), "Josefa": ("Pepa",), "Manuel": ("Manolo",),
    "Dolores": ("Lola",), "Guillermo": ("Guille",), "Jesús": ("Chus",), "Ignacio": ("Nacho",),
    "Jean-Baptiste": ("JB",), "Dominique": ("Dom",), "Frédéric": ("Fred",), "Nicolas": ("Nico",),
    "Hendrik": ("Henk",), "Cornelis": ("Kees",), "Jacobus": ("Koos",),
    "Wilhelmina": ("Willy", "Mien"), "Petrus": ("Piet",), "Johanna": ("Anneke", "Jo"),
}  # fmt: skip
SHOP_DEFAULTS = (
    "noreceipt@harbourpine.com",
    "till@harbourpine.co.uk",
    "kasse@harbourpine.de",
    "store.lyon@harbourpine.fr",
    "tienda@harbourpine.es",
)
PLACEHOLDER_EMAILS = ("noemail@noemail.com", "none@none.com", "no@email.com", "x@x.com")
PLACEHOLDER_PHONES = ("0000000000", "1234567890", "00000", "n/a")
KEYBOARD = "qwertyuiop asdfghjkl zxcvbnm"


def plain(text: str) -> str:
    """ASCII for an e-mail local part: accents dropped, German umlauts spelt out."""
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(a, b).replace(a.upper(), b.capitalize())
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in "-"))


def mail_surname(c: Country, last: str) -> str:
    """The surname as an e-mail local part spells it: Spaniards use their first one."""
    return plain(last.split()[0] if c.code == "ES" else last).lower().replace("-", "")


def zipf_pool(
    rng: Random, draw: Callable[[], str], draws: int, q: float
) -> tuple[list[str], list[float]]:
    """Distinct names, ranked by how often Faker draws them (ties by first appearance),
    weighted 1/(rank+q)^1.05: a few very common names and a long tail."""
    seen: dict[str, int] = {}
    for _ in range(draws):
        name = draw()
        seen[name] = seen.get(name, 0) + 1
    ranked = sorted(seen, key=lambda n: -seen[n])
    # A little shuffling among neighbours, so rank is not Faker's list order exactly.
    for i in range(len(ranked) - 1):
        if rng.random() < 0.3:
            ranked[i], ranked[i + 1] = ranked[i + 1], ranked[i]
    weights = [1 / (rank + q) ** 1.05 for rank in range(1, len(ranked) + 1)]
    return ranked, list(accumulate(weights))


@dataclass
class Names:
    male: tuple[list[str], list[float]]
    female: tuple[list[str], list[float]]
    last: tuple[list[str], list[float]]

    def pick(self, rng: Random, pool: tuple[list[str], list[float]]) -> str:
        return rng.choices(pool[0], cum_weights=pool[1])[0]


@dataclass
class Home:
    street: str
    line2: str
    town: str
    postcode: str
    landline: str  # E.164, "" if none


@dataclass
class Person:
    pid: str
    country: Country
    first: str
    last: str
    male: bool
    dob: date
    homes: list[tuple[datetime, Home]]  # from when
    mobiles: list[tuple[datetime, str]]
    email: str  # personal, "" if none
    other_email: str = ""  # an older or work address
    family_email: str = ""
    maiden: tuple[str, datetime] | None = None  # surname until a date
    loyalty: list[str] = field(default_factory=list)
    serials: list[str] = field(default_factory=list)

    def home(self, when: datetime) -> Home:
        return [h for since, h in self.homes if since <= when][-1]

    def mobile(self, when: datetime) -> str:
        now = [m for since, m in self.mobiles if since <= when]
        return now[-1] if now else ""

    def surname(self, when: datetime) -> str:
        return self.maiden[0] if self.maiden and when < self.maiden[1] else self.last


class World:
    def __init__(self, seed: int) -> None:
        self.rng = Random(seed)
        self.fakers: dict[str, Faker] = {}
        self.names: dict[str, Names] = {}
        self.postcodes: dict[tuple[str, str], list[str]] = {}
        self.used_emails: set[str] = set()
        self.used_ids: set[str] = set()
        for i, c in enumerate(COUNTRIES):
            fake = Faker(c.locale)
            fake.seed_instance(seed * 1009 + i)
            self.fakers[c.code] = fake
            self.names[c.code] = Names(
                zipf_pool(self.rng, fake.first_name_male, 3000, 4),
                zipf_pool(self.rng, fake.first_name_female, 3000, 4),
                zipf_pool(self.rng, fake.last_name, 8000, 12),
            )
            for town, _ in c.towns:
                # Neighbours share postcodes: a town has few, as sorting offices do.
                self.postcodes[c.code, town] = [fake.postcode() for _ in range(80)]

    # identifiers ---------------------------------------------------------------------
    def unique(self, make: Callable[[], str]) -> str:
        while (value := make()) in self.used_ids:
            pass
        self.used_ids.add(value)
        return value

    def phone(self, c: Country, prefix: str) -> str:
        """A valid number of the country with this prefix (national digits), as E.164."""
        rng = self.rng
        for _ in range(200):
            digits = prefix + "".join(
                rng.choice("0123456789")
                for _ in range(rng.choice(NUMBER_LENGTH[c.code]) - len(prefix))
            )
            if c.code == "US" and digits[3] in "01":
                continue
            number = phonenumbers.parse(digits, c.code)
            if phonenumbers.is_valid_number(number):
                return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        raise RuntimeError(f"no valid number with prefix {prefix} in {c.code}")

    def personal_email(self, c: Country, first: str, last: str, dob: date) -> str:
        rng = self.rng
        f, sur = plain(first).lower(), mail_surname(c, last)
        yy, yyyy = f"{dob.year % 100:02d}", str(dob.year)
        patterns = (
            (f"{f}.{sur}", 22), (f"{f[0]}{sur}", 12), (f"{f}{sur}", 10), (f"{f}.{sur}{yy}", 9),
            (f"{sur}.{f[0]}", 5), (f"{f[0]}.{sur}", 8), (f"{f}_{sur}", 5), (f"{f}{yyyy}", 5),
            (f"{sur}{f}", 2), (f"{f}{sur[0]}{rng.randint(1, 99)}", 4),
            (self.fakers[c.code].user_name(), 18),
        )  # fmt: skip
        local = rng.choices([p for p, _ in patterns], weights=[w for _, w in patterns])[0]
        domain = rng.choices(c.domains, weights=[1 / (i + 1) for i in range(len(c.domains))])[0]
        email = f"{local}@{domain}"
        while email in self.used_emails:
            email = f"{local}{rng.randint(2, 999)}@{domain}"
        self.used_emails.add(email)
        return email

    # people ---------------------------------------------------------------------------
    def moment(self, after: datetime = START) -> datetime:
        span = (END - after).total_seconds()
        return after + timedelta(seconds=self.rng.random() * span)

    def new_home(self, c: Country, town: str | None = None, landline: bool = True) -> Home:
        rng, fake = self.rng, self.fakers[c.code]
        town = town or rng.choice(c.towns)[0]
        prefix = dict(c.towns)[town]
        return Home(
            fake.street_address().replace("\n", ", "),
            c.flat.format(n=rng.randint(1, 40)) if rng.random() < 0.18 else "",
            town,
            rng.choice(self.postcodes[c.code, town]),
            self.phone(c, prefix)
            if landline and rng.random() < (0.25 if c.code == "US" else 0.4)
            else "",
        )

    def person(
        self, pid: str, c: Country, home: Home, last: str, male: bool, born: date, first: str = ""
    ) -> Person:
        rng, names = self.rng, self.names[c.code]
        first = first or names.pick(rng, names.male if male else names.female)
        mobiles = [(START, self.phone(c, rng.choice(c.mobiles)))] if rng.random() < 0.85 else []
        p = Person(pid, c, first, last, male, born, [(START, home)], mobiles, "")
        if rng.random() < 0.88:
            p.email = self.personal_email(c, first, last, born)
        if rng.random() < 0.2:
            p.other_email = self.personal_email(c, first, last, born)
        if rng.random() < 0.13:  # moves within the period
            when = self.moment(START + timedelta(days=400))
            town = home.town if rng.random() < 0.6 else None
            p.homes.append((when, self.new_home(c, town)))
            if mobiles and rng.random() < 0.4:
                p.mobiles.append((when, self.phone(c, rng.choice(c.mobiles))))
        return p

    def born(self, lo: int, hi: int) -> date:
        return date(2026 - self.rng.randint(lo, hi), 1, 1) + timedelta(days=self.rng.randrange(365))

    def surname(self, c: Country) -> str:
        names = self.names[c.code]
        last = names.pick(self.rng, names.last)
        if c.code == "ES":  # two surnames, father's then mother's
            last = f"{last} {names.pick(self.rng, names.last)}"
        return last

    def household(self, start: int) -> list[Person]:
        rng = self.rng
        c = rng.choices(COUNTRIES, weights=[x.weight for x in COUNTRIES])[0]
        home = self.new_home(c)
        kind = rng.choices(
            ("single", "couple", "family", "parent+namesake", "flatmates"),
            weights=(38, 30, 20, 3, 8),
        )[0]
        ids = iter(f"H{start + i:06d}" for i in range(10))
        last = self.surname(c)
        first = self.person(next(ids), c, home, last, rng.random() < 0.5, self.born(22, 85))
        people = [first]
        if kind in ("couple", "family"):
            keeps_own = c.code == "ES" or rng.random() < 0.3
            partner_last = self.surname(c) if keeps_own else last
            partner = self.person(
                next(ids), c, home, partner_last, not first.male, self.born(22, 85)
            )
            if not keeps_own and rng.random() < 0.25:  # married during the period
                partner.maiden = (self.surname(c), self.moment())
            people.append(partner)
        if kind == "family":
            for _ in range(rng.choice((1, 1, 2, 3))):
                child_last = (
                    last if c.code != "ES" else f"{last.split()[0]} {people[-1].last.split()[0]}"
                )
                people.append(
                    self.person(
                        next(ids), c, home, child_last, rng.random() < 0.5, self.born(16, 30)
                    )
                )
        if kind == "parent+namesake":  # father and son (or mother and daughter), one first name
            people.append(
                self.person(
                    next(ids), c, home, last, first.male, self.born(18, 35), first=first.first
                )
            )
        if kind == "flatmates":
            for _ in range(rng.choice((1, 2))):
                people.append(
                    self.person(
                        next(ids), c, home, self.surname(c), rng.random() < 0.5, self.born(20, 35)
                    )
                )
        same_name = [p for p in people if p.last == last]
        if len(same_name) >= 2 and kind != "flatmates" and rng.random() < 0.25:
            mailbox = self.family_mailbox(c, same_name)
            for p in same_name[:2]:
                p.family_email = mailbox
        # Movers take the household's later home with them when they all move together.
        for p in people[1:]:
            if len(first.homes) > 1 and len(p.homes) == 1 and rng.random() < 0.8:
                p.homes = list(first.homes)
        return people

    def family_mailbox(self, c: Country, people: Sequence[Person]) -> str:
        sur = mail_surname(c, people[0].last)
        a, b = (plain(p.first).lower() for p in people[:2])
        options = [f"{sur}family", f"the{sur}s", f"{a[0]}and{b[0]}{sur}", f"{sur}.home"]
        if a[0] == b[0]:
            options += [f"{a[0]}.{sur}"] * 3  # both "j.smith": John and Jane, or father and son
        local = self.rng.choice(options)
        email = f"{local}@{self.rng.choice(c.domains[:3])}"
        while email in self.used_emails:
            email = f"{local}{self.rng.randint(2, 99)}@{c.domains[0]}"
        self.used_emails.add(email)
        return email


# how systems write values ---------------------------------------------------------------
def typo(rng: Random, text: str) -> str:
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return text[:i] + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == 2:
        return text[:i] + text[i] + text[i:]
    row = next((r for r in KEYBOARD.split() if text[i].lower() in r), "")
    j = row.find(text[i].lower())
    if j < 0:
        return text
    return (
        text[:i]
        + row[max(0, j - 1) if rng.random() < 0.5 else min(len(row) - 1, j + 1)]
        + text[i + 1 :]
    )


def phone_as(e164: str, style: str) -> str:
    number = phonenumbers.parse(e164)
    fmt = phonenumbers.PhoneNumberFormat
    if style == "national":
        return phonenumbers.format_number(number, fmt.NATIONAL)
    if style == "international":
        return phonenumbers.format_number(number, fmt.INTERNATIONAL)
    if style == "digits":
        return "".join(
            ch for ch in phonenumbers.format_number(number, fmt.NATIONAL) if ch.isdigit()
        )
    if style == "00":
        return "00" + e164[1:]
    return e164


def date_as(rng: Random, c: Country, d: date, style: str) -> str:
    if style == "iso":
        return d.isoformat()
    if style == "compact":
        return d.strftime("%Y%m%d")
    if style == "text":
        return f"{d.day} {d.strftime('%b')} {d.year}"
    day, month = f"{d.day:02d}", f"{d.month:02d}"
    if rng.random() < 0.02:  # keyed in the other order
        day, month = month, day
    parts = (month, day) if c.date_order == "mdy" else (day, month)
    return c.date_sep.join((*parts, str(d.year)))


class Writer:
    """Turns people into the records each system holds."""

    def __init__(self, world: World) -> None:
        self.world, self.rng = world, world.rng
        self.rows: dict[str, list[dict[str, str]]] = {s: [] for s in SYSTEMS}
        self.truth: list[tuple[str, str, str]] = []

    def add(self, system: str, p: Person, row: dict[str, str], when: datetime) -> None:
        rid = self.world.unique(lambda: self.record_id(system))
        self.rows[system].append(
            {
                "source": system,
                "record_id": rid,
                **row,
                "updated_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
        self.truth.append((system, rid, p.pid))

    def record_id(self, system: str) -> str:
        n = self.rng.randrange(10**9)
        return {
            "pos": f"R{n:09d}",
            "web": f"u{n}",
            "registrations": f"REG-{n:09d}",
            "email": f"sub_{n:x}",
            "loyalty": f"C{n:09d}",
        }[system]

    def first(self, p: Person, plain_only: bool = False) -> str:
        rng = self.rng
        if not plain_only and p.first in NICKNAMES and rng.random() < 0.3:
            return rng.choice(NICKNAMES[p.first])
        if not plain_only and rng.random() < 0.04:
            return p.first[0] + ("." if rng.random() < 0.5 else "")
        return typo(rng, p.first) if rng.random() < 0.03 else p.first

    def last(self, p: Person, when: datetime) -> str:
        last = p.surname(when)
        if p.country.code == "ES" and self.rng.random() < 0.35:
            last = last.split()[0]  # only the first surname
        return typo(self.rng, last) if self.rng.random() < 0.04 else last

    def case(self, text: str) -> str:
        r = self.rng.random()
        return text.upper() if r < 0.15 else text.lower() if r < 0.2 else text

    def address(self, p: Person, when: datetime, row: dict[str, str]) -> None:
        rng, home = self.rng, p.home(when)
        street = home.street
        for long, short in (
            ("Street", "St"),
            ("Road", "Rd"),
            ("straße", "str."),
            ("Avenue", "Ave"),
            ("avenue", "av."),
            ("Calle", "C/"),
        ):
            if long in street and rng.random() < 0.4:
                street = street.replace(long, short)
        row.update(
            address_line1=self.case(street),
            address_line2=home.line2,
            city=home.town,
            postcode=home.postcode,
        )
        if rng.random() < 0.05:
            row["postcode"] = ""
        if rng.random() < 0.6:
            row["country"] = rng.choice(p.country.spellings)

    def contact_email(self, p: Person, when: datetime) -> str:
        rng = self.rng
        if p.family_email and rng.random() < 0.6:
            return p.family_email
        email = p.other_email if p.other_email and rng.random() < 0.3 else p.email
        if email and rng.random() < 0.05:
            return (" " + email.upper()) if rng.random() < 0.5 else email + " "
        return email

    def pos(self, p: Person) -> None:
        rng = self.rng
        when = self.world.moment()
        row = {"first_name": self.case(self.first(p)), "last_name": self.case(self.last(p, when))}
        if rng.random() < 0.05:  # entered the wrong way round
            row["first_name"], row["last_name"] = row["last_name"], row["first_name"]
        if rng.random() < 0.12:
            full = (
                f"{row['last_name'].upper()} {row['first_name'][0]}"
                if rng.random() < 0.5
                else f"{row['first_name']} {row['last_name']}"
            )
            row = {"full_name": full}
        how = rng.choices(
            ("card", "email", "phone", "name+town", "name+postcode"), weights=(35, 28, 20, 10, 7)
        )[0]
        if how == "card" and p.loyalty:
            card = p.loyalty[-1]
            row["loyalty_id"] = (
                " ".join(card[i : i + 4] for i in range(0, len(card), 4))
                if rng.random() < 0.2
                else card
            )
            if rng.random() < 0.3:
                row["email"] = self.contact_email(p, when)
        elif how in ("email", "card"):
            email = self.contact_email(p, when)
            r = rng.random()
            if not email or r < 0.06:
                email = rng.choice(SHOP_DEFAULTS)
            elif r < 0.1:
                email = rng.choice(PLACEHOLDER_EMAILS)
            elif r < 0.14:
                local, _, domain = email.partition("@")
                email = typo(rng, local) + "@" + domain
            row["email"] = email
        elif how == "phone":
            number = p.home(when).landline if rng.random() < 0.35 else p.mobile(when)
            number = number or p.home(when).landline
            if not number or rng.random() < 0.06:
                row["phone"] = rng.choice(PLACEHOLDER_PHONES)
            else:
                text = phone_as(
                    number, rng.choice(("national", "national", "digits", "international"))
                )
                if rng.random() < 0.2:  # the cashier stopped typing
                    text = text[: -rng.randint(1, 3)]
                row["phone"] = text
        elif how == "name+town":
            row["city"] = p.home(when).town
        else:
            row["postcode"] = p.home(when).postcode
        if rng.random() < 0.6:  # the till's own country, where its export carries it
            row["country"] = p.country.code
        self.add("pos", p, row, when)

    def web(self, p: Person, second: bool = False) -> None:
        rng = self.rng
        when = self.world.moment()
        email = (
            (p.other_email or "")
            if second
            else (p.family_email if p.family_email and rng.random() < 0.3 else p.email)
        )
        if not email:
            email = self.world.personal_email(p.country, p.first, p.last, p.dob)
        row = {
            "first_name": self.first(p, plain_only=rng.random() < 0.7),
            "last_name": self.last(p, when),
            "email": email,
        }
        if rng.random() < 0.03:
            row["first_name"], row["last_name"] = row["last_name"], row["first_name"]
        mobile = p.mobile(when)
        if mobile and rng.random() < 0.55:
            row["phone"] = phone_as(
                mobile, rng.choice(("e164", "international", "national", "national"))
            )
        if rng.random() < 0.8:
            self.address(p, when, row)
        if rng.random() < 0.25:
            row["date_of_birth"] = date_as(rng, p.country, p.dob, "iso")
        self.add("web", p, row, when)

    def registration(self, p: Person, serial: str, household: Sequence[Person]) -> None:
        rng = self.rng
        when = self.world.moment()
        row = {
            "first_name": self.case(self.first(p)),
            "last_name": self.case(self.last(p, when)),
            "serial_number": serial,
        }
        email = self.contact_email(p, when)
        if email and rng.random() < 0.85:
            row["email"] = email
        number = p.mobile(when) or p.home(when).landline
        if number and rng.random() < 0.6:
            row["phone"] = phone_as(
                number, rng.choice(("national", "digits", "international", "00"))
            )
        self.address(p, when, row)
        if rng.random() < 0.4:
            row["date_of_birth"] = (
                date_as(rng, p.country, p.dob, "local") if rng.random() < 0.97 else "01/01/1900"
            )
        self.add("registrations", p, row, when)
        if (
            rng.random() < 0.25
        ):  # a repair ticket: the owner, or someone of the household, brings it
            who = rng.choice(household) if rng.random() < 0.15 else p
            later = self.world.moment(when)
            ticket = {
                "full_name": f"{self.first(who)} {self.last(who, later)}",
                "serial_number": serial,
            }
            number = who.mobile(later) or who.home(later).landline
            if number:
                ticket["phone"] = phone_as(number, rng.choice(("national", "digits", "e164")))
            if rng.random() < 0.5:
                ticket["email"] = self.contact_email(who, later)
            if rng.random() < 0.5:
                ticket["postcode"] = who.home(later).postcode
            self.add("registrations", who, ticket, later)

    def subscriber(self, p: Person, email: str) -> None:
        rng = self.rng
        when = self.world.moment()
        row = {"email": email}
        r = rng.random()
        if r < 0.4:
            row["first_name"] = self.first(p)
        elif r < 0.5:
            row["full_name"] = f"{self.first(p)} {self.last(p, when)}"
        if rng.random() < 0.3:
            row["country"] = p.country.code
        if rng.random() < 0.08:
            row["postcode"] = p.home(when).postcode
        self.add("email", p, row, when)

    def member(self, p: Person, card: str) -> None:
        rng = self.rng
        when = self.world.moment()
        row = {
            "first_name": self.first(p, plain_only=True),
            "last_name": self.last(p, when),
            "loyalty_id": card,
        }
        email = self.contact_email(p, when)
        if email and rng.random() < 0.8:
            row["email"] = email
        number = p.mobile(when) if rng.random() < 0.7 else p.home(when).landline
        if number:
            row["phone"] = phone_as(number, rng.choice(("e164", "international", "00")))
        elif rng.random() < 0.2:
            row["phone"] = rng.choice(PLACEHOLDER_PHONES)
        self.address(p, when, row)
        if rng.random() < 0.65:
            row["date_of_birth"] = date_as(
                rng, p.country, p.dob, rng.choice(("compact", "local", "text"))
            )
        self.add("loyalty", p, row, when)


def simulate(people: int, seed: int) -> Writer:
    world = World(seed)
    writer = Writer(world)
    rng = world.rng
    made = 0
    while made < people:
        household = world.household(made)[: people - made]
        made += len(household)
        for p in household:
            shopper, online = rng.random() < 0.72, rng.random() < 0.5
            registrant, subscriber = rng.random() < 0.3, rng.random() < 0.45
            member = rng.random() < (0.45 if shopper else 0.1)
            if not (shopper or online or registrant or subscriber or member):
                shopper = True
            if member:
                p.loyalty.append(
                    world.unique(lambda: "6" + "".join(rng.choice("0123456789") for _ in range(11)))
                )
                writer.member(p, p.loyalty[0])
                if rng.random() < 0.05:  # a lost card replaced
                    p.loyalty.append(
                        world.unique(
                            lambda: "6" + "".join(rng.choice("0123456789") for _ in range(11))
                        )
                    )
                    writer.member(p, p.loyalty[1])
            if shopper:
                for _ in range(min(1 + int(rng.expovariate(0.9)), 7)):
                    writer.pos(p)
            if online:
                writer.web(p)
                if p.other_email and rng.random() < 0.15:
                    writer.web(p, second=True)
            if registrant:
                for _ in range(min(1 + int(rng.expovariate(2.0)), 4)):
                    serial = world.unique(lambda: f"HP{rng.randrange(16**8):08X}")
                    writer.registration(p, serial, household)
            if subscriber:
                email = (
                    p.email
                    or p.other_email
                    or world.personal_email(p.country, p.first, p.last, p.dob)
                )
                writer.subscriber(
                    p, p.other_email if p.other_email and rng.random() < 0.35 else email
                )
    return writer


def write(writer: Writer, out: Path) -> None:
    (out / "records").mkdir(parents=True, exist_ok=True)
    for system, rows in writer.rows.items():
        with (out / "records" / f"{system}.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, CANONICAL_FIELDS, restval="")
            w.writeheader()
            w.writerows(sorted(rows, key=lambda r: r["record_id"]))
    with (out / "truth.csv").open("w", encoding="utf-8", newline="") as f:
        w2 = csv.writer(f)
        w2.writerow(("source", "record_id", "person_id"))
        w2.writerows(sorted(writer.truth))
    (out / "markets.txt").write_text(",".join(c.code for c in COUNTRIES) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=12_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    writer = simulate(args.people, args.seed)
    write(writer, args.out)
    counts = ", ".join(f"{s} {len(r):,}" for s, r in writer.rows.items())
    print(f"{len(writer.truth):,} records of {args.people:,} people ({counts}) in {args.out}")


if __name__ == "__main__":
    main()
