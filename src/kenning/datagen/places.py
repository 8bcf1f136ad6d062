"""Street tables, addresses and phone numbers built from the city data.

The tables are built once per process from a fixed seed: geography is the same for every
run, only the people living in it change with the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from random import Random

import phonenumbers

from kenning.datagen.geography import (
    BUILDING_KINDS,
    CITIES,
    DIRECTIONS,
    GB_SUFFIX_WEIGHTS,
    GB_UNIT_LETTERS,
    SUFFIXES,
    US_SUFFIX_WEIGHTS,
    Area,
    CitySpec,
)
from kenning.datagen.sampling import Rng, Table, zipf

_GEO_SEED = 20_181_101
_BAND = 16  # house numbers per postcode unit / ZIP+4: a postcode covers a stretch of street


@dataclass(frozen=True, slots=True)
class Street:
    direction: str  # "N", "S", "E", "W" or ""
    base: str  # "Kingsland", "22nd"; "" for names that are only a type word (Broadway)
    suffix: str  # "Road", "Street", ...; "" when the name has no type word
    area: Area
    sector: str  # GB postcode sector digit
    bands: tuple[str, ...]  # per band of house numbers: GB unit ("7QP") or US ZIP+4

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.direction, self.base, self.suffix) if p)


@dataclass(frozen=True, slots=True)
class City:
    spec: CitySpec
    streets: tuple[Street, ...]
    regions: Table[str]
    localities: dict[str, Table[str]]  # area code -> locality names people write
    landlines: Table[tuple[str, int]]
    area_codes: Table[str] | None

    @property
    def country(self) -> str:
        return self.spec.country


@dataclass(frozen=True, slots=True)
class Address:
    city: City
    street: Street
    number: str  # "21", "12a", "35-20"
    unit_kind: str  # "Flat", "Apt", "Unit", "#", "Floor", "" (Edinburgh "2F1" has no word)
    unit: str  # "3", "4B", "2F1", "2nd"; "" for a house
    building: str  # named block of flats, GB only
    postcode: str  # canonical: "N1 7QP", "19103"
    plus4: str  # US ZIP+4 extension, "" in GB
    locality: str  # official postal town / city for the area

    @property
    def line(self) -> str:
        """The address as the household would write it on one line (the canonical form)."""
        head = f"{self.unit_kind} {self.unit}".strip() if self.unit else ""
        street = f"{self.number} {self.street.name}"
        if self.city.country == "US":
            return f"{street} {head}" if head else street
        return f"{head}, {street}" if head else street


def _split_street(name: str) -> tuple[str, str, str]:
    words = name.split()
    direction = ""
    if len(words) > 1 and words[0] in DIRECTIONS:
        direction = words.pop(0)
    suffix = ""
    if words[-1] in SUFFIXES:
        suffix = words.pop()
    return direction, " ".join(words), suffix


def _bands(rng: Random, country: str, n: int) -> tuple[str, ...]:
    if country == "GB":
        letters = GB_UNIT_LETTERS
        return tuple(
            f"{rng.randrange(10)}{rng.choice(letters)}{rng.choice(letters)}" for _ in range(n)
        )
    return tuple(f"{rng.randrange(1, 9999):04d}" for _ in range(n))


def _build_city(rng: Random, spec: CitySpec) -> City:
    groups: dict[str, list[Area]] = {}
    for area in spec.areas:
        groups.setdefault(area.group, []).append(area)
    group_names = sorted(groups)
    streets: list[Street] = []
    seen: set[str] = set()
    n_bands = 80 if spec.numbers == "us_grid" else 40

    def add(direction: str, base: str, suffix: str, group: str) -> None:
        key = f"{direction} {base} {suffix} {group}"
        if key in seen:
            return
        seen.add(key)
        area = rng.choice(groups[group])
        sector = str(rng.randrange(10))
        streets.append(
            Street(direction, base, suffix, area, sector, _bands(rng, spec.country, n_bands))
        )

    for name, group in spec.streets:
        add(*_split_street(name), group if group in groups else group_names[0])
    suffixes = Table(GB_SUFFIX_WEIGHTS if spec.country == "GB" else US_SUFFIX_WEIGHTS)
    # Enough residential streets that unrelated households rarely share one by chance,
    # few enough that neighbours do.
    target = len(streets) + int(2600 * spec.weight)
    while len(streets) < target:
        group = rng.choice(group_names)
        if spec.numbers == "ny" and group == "queens" and rng.random() < 0.5:
            n = rng.randrange(21, 110)
            add("", _ordinal(n), rng.choice(("Street", "Avenue", "Road", "Place")), group)
        else:
            add("", rng.choice(spec.roots), suffixes.pick(rng), group)
    localities = {area.code: Table(area.names) for area in spec.areas}
    area_codes = Table(spec.area_codes) if spec.area_codes else None
    landlines = Table(((p, d), w) for p, d, w in spec.landlines) if spec.landlines else None
    return City(
        spec,
        tuple(streets),
        Table(spec.regions),
        localities,
        landlines or Table(((("", 0), 1.0),)),
        area_codes,
    )


def _ordinal(n: int) -> str:
    tail = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{tail}"


def _valid_mobile_blocks() -> tuple[str, ...]:
    """UK mobile blocks (07xxx) that libphonenumber accepts, so generated numbers validate."""
    blocks = []
    for block in range(7100, 8000):
        head = str(block)
        if head.startswith(("76", "70")):  # pagers and personal numbers, not mobiles
            continue
        probes = (f"0{head}{tail}" for tail in ("123456", "987654", "550231"))
        if all(phonenumbers.is_valid_number(phonenumbers.parse(p, "GB")) for p in probes):
            blocks.append(head)
    return tuple(blocks)


@dataclass(frozen=True, slots=True)
class Places:
    cities: tuple[City, ...]
    by_key: dict[str, City]
    pick_city: Table[City]
    mobile_blocks: Table[str]
    gb_house_numbers: Table[int]
    flat_numbers: Table[int]
    buildings: tuple[str, ...]


@cache
def places() -> Places:
    rng = Rng(_GEO_SEED)
    cities = tuple(_build_city(rng, spec) for spec in CITIES)
    blocks = _valid_mobile_blocks()
    # Older allocations (074xx-079xx) hold most subscribers.
    mobile = Table((b, 3.0 if b[:2] in ("77", "78", "79", "74", "75") else 1.0) for b in blocks)
    roots = [r for r in CITIES[0].roots if "'" not in r]
    buildings = tuple(f"{r} {k}" for r in roots for k in BUILDING_KINDS)
    return Places(
        cities,
        {c.spec.key: c for c in cities},
        Table((c, c.spec.weight) for c in cities),
        mobile,
        zipf(range(1, 241), 35.0),
        zipf(range(1, 41), 6.0),
        buildings,
    )


def new_address(rng: Random, city: City, pl: Places) -> Address:
    """A home: a house, or a flat in a building that other households may share."""
    spec = city.spec
    street = rng.choice(city.streets)
    flat = rng.random() < spec.flat_share
    unit_kind = unit = building = ""
    style = spec.numbers
    rnd = rng.random
    if style == "gb":
        num = rng.randrange(1, 90) if flat else pl.gb_house_numbers.pick(rng)
        number = f"{num}{'ab'[rng.randrange(2)]}" if rnd() < 0.03 else str(num)
        if flat:
            if spec.key == "edinburgh" and rnd() < 0.5:
                unit = f"{rng.randrange(1, 5)}F{rng.randrange(1, 4)}"  # tenement stair position
            else:
                unit_kind, unit = "Flat", str(pl.flat_numbers.pick(rng))
            if spec.key == "london" and rnd() < 0.3:
                building = rng.choice(pl.buildings)
    elif style == "ny":
        group = street.area.group
        if group == "queens":
            num = rng.randrange(21, 46)
            number = f"{num}-{rng.randrange(1, 60):02d}"
        else:
            num = rng.randrange(1, 700 if group == "manhattan" else 1500)
            number = str(num)
        if flat:
            unit_kind, unit = "Apt", f"{rng.randrange(1, 21)}{'ABCDEFGH'[rng.randrange(8)]}"
    else:
        num = (
            rng.randrange(1, 70) * 100 + rng.randrange(1, 60)
            if style == "us_grid"
            else (rng.randrange(1, 600))
        )
        number = str(num)
        if flat:
            r = rnd()
            if r < 0.55:
                unit_kind, unit = "Apt", str(rng.randrange(1, 40))
            elif r < 0.75:
                unit_kind, unit = "Unit", str(rng.randrange(1, 12))
            elif r < 0.9:
                unit_kind, unit = "#", f"{rng.randrange(1, 5)}{'RF'[rng.randrange(2)]}"
            else:
                unit_kind, unit = "Floor", ("1st", "2nd", "3rd")[rng.randrange(3)]
    band = street.bands[(num // _BAND) % len(street.bands)]
    if spec.country == "GB":
        postcode, plus4 = f"{street.area.code} {band}", ""
    else:
        postcode, plus4 = street.area.code, band
    locality = street.area.names[0][0]
    return Address(city, street, number, unit_kind, unit, building, postcode, plus4, locality)


def landline(rng: Random, city: City) -> str:
    """National significant number of a home landline (GB only; US homes: see mobile)."""
    if city.country == "US":
        return us_number(rng, city)
    prefix, digits = city.landlines.pick(rng)
    rest = f"{rng.randrange(2, 10)}{rng.randrange(10 ** (digits - 1)):0{digits - 1}d}"
    return prefix + rest


def mobile(rng: Random, city: City, pl: Places) -> str:
    if city.country == "US":
        return us_number(rng, city)
    return f"{pl.mobile_blocks.pick(rng)}{rng.randrange(1_000_000):06d}"


_BAD_NXX = frozenset({555, 950, 958, 959, 976})


def us_number(rng: Random, city: City) -> str:
    assert city.area_codes is not None
    while True:
        nxx = rng.randrange(200, 1000)
        if nxx % 100 != 11 and nxx not in _BAD_NXX:
            break
    return f"{city.area_codes.pick(rng)}{nxx}{rng.randrange(10000):04d}"
