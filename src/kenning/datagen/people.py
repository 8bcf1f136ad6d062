"""The population: people in households, and how their details change over time.

A person's true details are kept here; what each system recorded (typed by an associate,
by the customer on a phone, weeks or years apart) is derived from them in sources.py.
Details that change carry the day they changed: movers get a new address (and sometimes a
new landline), some people marry and change surname, some change e-mail or mobile.
"""

from __future__ import annotations

from collections.abc import Callable
from random import Random

from kenning.datagen.contacts import Registry, family_email, personal_email
from kenning.datagen.names import ACCENTED, TITLES_FEMALE, TITLES_MALE, NameBank
from kenning.datagen.places import Address, City, Places, landline, mobile, new_address
from kenning.datagen.sampling import END_DAY, Table

NEVER = 1 << 30  # a change day that never comes
REF_YEAR = 2026

SEGMENTS = Table(((0, 0.45), (1, 0.33), (2, 0.17), (3, 0.05)))  # one-off .. big spender
_SIZES = Table(((1, 0.34), (2, 0.33), (3, 0.15), (4, 0.12), (5, 0.06)))
_ADULT_AGE = Table((a, 1.0 if 25 <= a <= 60 else 0.55) for a in range(18, 88))
# Surnames only women carry, and what a man of the same family is called.
_WOMENS_SURNAMES = {"Begum": "Ahmed", "Kaur": "Singh", "Bibi": "Khan"}
_LEAP = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class Person:
    """One real customer. Fields ending in ``_day`` are day offsets (see sampling.START)."""

    __slots__ = (
        "city",
        "country",
        "dob",
        "email",
        "email2",
        "email_day",
        "family_email",
        "first",
        "gender",
        "home",
        "home2",
        "housemates",
        "landline",
        "landline2",
        "last",
        "last2",
        "middle",
        "mobile",
        "mobile2",
        "mobile_day",
        "move_day",
        "name_day",
        "nickname",
        "pid",
        "segment",
        "since",
        "suffix",
        "title",
        "uses_family_email",
    )

    def __init__(self, pid: str, city: City, gender: str) -> None:
        self.pid = pid
        self.city = city
        self.country = city.country
        self.gender = gender
        self.first = self.middle = self.last = self.suffix = self.nickname = self.title = ""
        self.last2 = ""  # surname after ``name_day`` (marriage), "" if it never changes
        self.name_day = NEVER
        self.dob: tuple[int, int, int] = (1980, 1, 1)
        self.email = self.email2 = self.family_email = ""
        self.email_day = NEVER
        self.uses_family_email = False
        self.mobile = self.mobile2 = self.landline = self.landline2 = ""
        self.mobile_day = NEVER
        self.home: Address
        self.home2: Address | None = None
        self.move_day = NEVER
        self.housemates: list[Person] = []
        self.segment = 0
        self.since = 0

    # Details as they were on a given day.
    def surname_on(self, day: int) -> str:
        return self.last2 if day >= self.name_day else self.last

    def address_on(self, day: int) -> Address:
        return self.home2 if self.home2 is not None and day >= self.move_day else self.home

    def landline_on(self, day: int) -> str:
        return self.landline2 if self.home2 is not None and day >= self.move_day else self.landline

    def email_on(self, day: int, rng: Random) -> str:
        # With a new e-mail address people still give the old one now and then.
        if day >= self.email_day and rng.random() < 0.85:
            return self.email2
        return self.email

    def mobile_on(self, day: int) -> str:
        return self.mobile2 if day >= self.mobile_day else self.mobile


class Population:
    """Makes households for one block of people from that block's random stream."""

    def __init__(self, rng: Random, names: NameBank, pl: Places, alloc: Registry) -> None:
        self.rng = rng
        self.names = names
        self.pl = pl
        self.alloc = alloc

    def household(self, next_pid: list[int], room: int) -> list[Person]:
        """One household of at most ``room`` people; ``next_pid`` is a counter cell."""
        rng = self.rng
        size = min(_SIZES.pick(rng), room)
        city = self.pl.pick_city.pick(rng)
        home = new_address(rng, city, self.pl)
        crowded = city.spec.key in ("london", "new_york")
        members: list[Person]
        if size == 1:
            members = [self._adult(next_pid, city, _age(rng))]
        elif rng.random() < (0.28 if crowded else 0.14):
            members = self._flatmates(next_pid, city, size)
        else:
            members = self._family(next_pid, city, size)
        self._share_home(members, home, city)
        for p in members:
            p.housemates = [q for q in members if q is not p]
        return members

    # -- composition --------------------------------------------------------------------

    def _new(self, next_pid: list[int], city: City, gender: str) -> Person:
        p = Person(f"P{next_pid[0]:07d}", city, gender)
        next_pid[0] += 1
        p.segment = SEGMENTS.pick(self.rng)
        return p

    def _adult(
        self,
        next_pid: list[int],
        city: City,
        age: int,
        gender: str = "",
        last: str = "",
        pool: str = "",
    ) -> Person:
        rng = self.rng
        gender = gender or ("F" if rng.random() < 0.56 else "M")  # women buy more bags
        p = self._new(next_pid, city, gender)
        country = self.names.countries[city.country]
        pool = pool or country.pools.pick(rng)
        table = country.female if gender == "F" else country.male
        # Many with a family name from elsewhere have a local given name (Kevin Nguyen).
        given = pool if pool == "local" or rng.random() < 0.6 else "local"
        p.first = table[given].pick(rng)
        if pool == "local" and rng.random() < 0.25:
            p.first = ACCENTED.get(p.first, p.first)
        # Middle names matter in the US, where systems keep an initial; in GB most leave it.
        if rng.random() < (0.75 if city.country == "US" else 0.35):
            p.middle = table["local"].pick(rng)
        p.last = last or self._surname(country.last, pool, gender)
        p.dob = _dob(rng, REF_YEAR - age)
        p.title = (TITLES_FEMALE if gender == "F" else TITLES_MALE).pick(rng)
        nicks = self.names.nicknames.get(p.first.lower())
        if nicks and rng.random() < 0.18:
            p.nickname = nicks[rng.randrange(len(nicks))]  # goes by it at the till
        return p

    def _surname(self, tables: dict[str, Table[str]], pool: str, gender: str) -> str:
        rng = self.rng
        last = tables[pool].pick(rng)
        if gender == "M":
            last = _WOMENS_SURNAMES.get(last, last)
        if pool == "local" and rng.random() < 0.015:
            last = f"{last}-{tables['local'].pick(rng)}"  # double-barrelled
        return last

    def _flatmates(self, next_pid: list[int], city: City, size: int) -> list[Person]:
        rng = self.rng
        return [self._adult(next_pid, city, rng.randrange(21, 38)) for _ in range(size)]

    def _family(self, next_pid: list[int], city: City, size: int) -> list[Person]:
        rng = self.rng
        country = self.names.countries[city.country]
        pool = country.pools.pick(rng)
        with_kids = size > 2 or rng.random() < 0.13
        parent_age = rng.randrange(44, 70) if with_kids else _age(rng)
        same_sex = rng.random() < 0.06
        single_parent = with_kids and (size == 2 or rng.random() < 0.18)
        if same_sex:
            gender = ""
        elif single_parent:
            gender = "F" if rng.random() < 0.8 else "M"
        else:
            gender = "M"  # the partner added below is the woman
        first = self._adult(next_pid, city, parent_age, gender, pool=pool)
        members = [first]
        family_name = first.last
        if not single_parent and size >= 2:
            gender = first.gender if same_sex else "F"
            married = not same_sex and rng.random() < 0.68
            partner_age = max(18, parent_age + rng.randrange(-6, 4))
            partner = self._adult(
                next_pid, city, partner_age, gender, last=family_name if married else "", pool=pool
            )
            if married and rng.random() < 0.12:
                # Married during the record window: older records carry the maiden name.
                partner.last2 = family_name
                partner.last = self._surname(country.last, pool, partner.gender)
                partner.name_day = rng.randrange(60, END_DAY - 30)
            members.append(partner)
        kids_age_max = max(18, parent_age - 20)
        previous: Person | None = None
        while len(members) < size:
            twin = previous is not None and rng.random() < 0.05
            age = (
                (REF_YEAR - previous.dob[0])
                if (twin and previous)
                else rng.randrange(17, min(32, kids_age_max + 1))
            )
            kid = self._adult(next_pid, city, age, last=family_name, pool=pool)
            if twin and previous is not None:
                kid.dob = previous.dob
                if kid.first == previous.first:
                    kid.first = self.names.countries[city.country].female["local"].pick(rng)
                    kid.gender = "F"
            elif (
                kid.gender == "M"
                and first.gender == "M"
                and rng.random() < (0.08 if city.country == "US" else 0.02)
            ):
                # Named after his father; Jr./Sr. appear on some records only.
                kid.first, kid.middle, kid.nickname = first.first, first.middle, ""
                if city.country == "US":
                    kid.suffix, first.suffix = "Jr.", "Sr."
            members.append(kid)
            previous = kid
        return members

    # -- contact details ----------------------------------------------------------------

    def _share_home(self, members: list[Person], home: Address, city: City) -> None:
        rng = self.rng
        related = len(members) > 1 and members[0].last in (members[1].last, members[1].last2)
        old = min(REF_YEAR - p.dob[0] for p in members) > 45
        line = (
            self._unique(landline, city)
            if rng.random() < ((0.55 if old else 0.3) if city.country == "GB" else 0.18)
            and (related or len(members) == 1)
            else ""
        )
        shared_mail = ""
        if related and rng.random() < 0.14:
            shared_mail = family_email(
                rng,
                self.alloc,
                city.country,
                members[0].last,
                (members[0].first, members[1].first),
            )
        for p in members:
            p.since = int(END_DAY * rng.random() ** 0.8)
            p.home = home
            p.landline = line
            p.mobile = self._unique(self._mobile, city) if rng.random() < 0.96 else ""
            if rng.random() < 0.07:
                p.mobile_day = rng.randrange(p.since, END_DAY)
                p.mobile2 = self._unique(self._mobile, city)
            if rng.random() < 0.94:
                p.email = self._email(p, p.last)
            if p.last2 and rng.random() < 0.4:
                # A new address in the married name, a little after the wedding.
                p.email_day = min(END_DAY - 1, p.name_day + rng.randrange(0, 90))
                p.email2 = self._email(p, p.last2)
            elif rng.random() < 0.10:
                p.email_day = rng.randrange(p.since, END_DAY)
                p.email2 = self._email(p, p.surname_on(p.email_day))
            if shared_mail and REF_YEAR - p.dob[0] > 24:
                p.family_email = shared_mail
                p.uses_family_email = rng.random() < 0.5 or not p.email
        self._moves(members, city)

    def _email(self, p: Person, surname: str) -> str:
        return personal_email(
            self.rng,
            self.alloc,
            p.city.country,
            p.first,
            surname,
            p.middle,
            p.nickname,
            p.dob[0],
        )

    def _mobile(self, rng: Random, city: City) -> str:
        return mobile(rng, city, self.pl)

    def _unique(self, make: Callable[[Random, City], str], city: City) -> str:
        """A phone number nobody else has: random numbers would collide now and then."""
        while True:
            number = make(self.rng, city)
            if self.alloc.claim(number):
                return number

    def _moves(self, members: list[Person], city: City) -> None:
        rng = self.rng
        pl = self.pl
        r = rng.random()
        if r < 0.055:  # the whole household moves
            day = rng.randrange(30, END_DAY - 20)
            dest = _destination(rng, city, pl)
            home2 = new_address(rng, dest, pl)
            line2 = (
                self._unique(landline, dest) if members[0].landline and rng.random() < 0.6 else ""
            )
            for p in members:
                _move(p, home2, day, line2)
        elif r < 0.055 + 0.022 * len(members):  # one leaves: a grown-up child, a flatmate
            p = members[rng.randrange(len(members))]
            dest = _destination(rng, city, pl)
            _move(p, new_address(rng, dest, pl), rng.randrange(30, END_DAY - 20), "")


def _move(p: Person, home2: Address, day: int, line2: str) -> None:
    p.home2 = home2
    p.move_day = day
    p.landline2 = line2


def _destination(rng: Random, city: City, pl: Places) -> City:
    r = rng.random()
    if r < 0.86:
        return city
    if r < 0.98:  # another store city in the same country
        same = [c for c in pl.cities if c.country == city.country and c is not city]
        return same[rng.randrange(len(same))]
    other = [c for c in pl.cities if c.country != city.country]
    return other[rng.randrange(len(other))]


def _age(rng: Random) -> int:
    return _ADULT_AGE.pick(rng)


def _dob(rng: Random, year: int) -> tuple[int, int, int]:
    year -= 1 if rng.random() < 0.5 else 0  # not had this year's birthday yet
    month = rng.randrange(1, 13)
    days = _LEAP[month - 1] + (1 if month == 2 and year % 4 == 0 else 0)
    return (year, month, rng.randrange(1, days + 1))
