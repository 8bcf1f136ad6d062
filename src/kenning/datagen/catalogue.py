"""The retailer itself: stores, associates, the product catalogue and e-mail campaigns.

Aldgate & Penn sells luggage, laptop bags, purses and travel accessories from shops in
London, Manchester, Edinburgh, Philadelphia, New York and Boston and a distribution centre
in Daventry. Fixed data: it does not change with the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from random import Random

from kenning.datagen.sampling import END, START, Table

RETAILER = "Aldgate & Penn"
DOMAIN = "aldgatepenn.com"


@dataclass(frozen=True, slots=True)
class Store:
    store_id: str
    name: str
    city_key: str  # matches geography.CitySpec.key; "" for the warehouse
    city: str
    country: str
    postcode: str
    address: str
    lat: float
    lon: float
    kind: str  # store | warehouse
    phone: str  # national significant number; associates type it in when a customer won't
    associates: tuple[str, ...]

    @property
    def currency(self) -> str:
        return "GBP" if self.country == "GB" else "USD"


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    name: str
    category: str  # suitcase | laptop bag | purse | accessory
    gbp: float
    usd: float
    serial_prefix: str  # "SC" / "LB" for products that carry a serial number, else ""
    gbp_text: str  # list prices as written in the files
    usd_text: str


def _product(sku: str, name: str, category: str, gbp: float) -> Product:
    usd = _usd(gbp)
    prefix = {"suitcase": "SC", "laptop bag": "LB"}.get(category, "")
    return Product(sku, name, category, gbp, usd, prefix, f"{gbp:.2f}", f"{usd:.2f}")


@dataclass(frozen=True, slots=True)
class Campaign:
    campaign_id: str
    name: str
    day: int
    path: str  # landing page clicked through to


_STORES = (
    # id, name, city key, city, country, postcode, street address, lat, lon, kind, phone
    ("S101", "London Regent Street", "london", "London", "GB", "W1B 5AH", "214 Regent Street",
     51.5129, -0.1400, "store", "2074940312"),
    ("S102", "London Westfield Stratford", "london", "London", "GB", "E20 1EJ",
     "Unit 1042, Westfield Stratford City", 51.5432, -0.0065, "store", "2085197745"),
    ("S103", "Manchester King Street", "manchester", "Manchester", "GB", "M2 4LQ",
     "38 King Street", 53.4812, -2.2451, "store", "1618327604"),
    ("S104", "Edinburgh George Street", "edinburgh", "Edinburgh", "GB", "EH2 2PF",
     "71 George Street", 55.9530, -3.1997, "store", "1312258813"),
    ("S201", "Philadelphia Walnut Street", "philadelphia", "Philadelphia", "US", "19103",
     "1716 Walnut Street", 39.9497, -75.1699, "store", "2155463390"),
    ("S202", "New York SoHo", "new_york", "New York", "US", "10012", "112 Prince Street",
     40.7251, -73.9992, "store", "2129665208"),
    ("S203", "Boston Newbury Street", "boston", "Boston", "US", "02116", "285 Newbury Street",
     42.3487, -71.0851, "store", "6172623915"),
    ("W901", "Daventry Distribution Centre", "", "Daventry", "GB", "NN11 8RJ",
     "Unit 4, DIRFT, Crick Road", 52.3279, -1.1898, "warehouse", "1327707120"),
)  # fmt: skip

# Collections are named after neighbourhoods of the store cities.
_COLLECTIONS = (
    "Aldgate",
    "Spitalfields",
    "Bloomsbury",
    "Marylebone",
    "Rittenhouse",
    "Fishtown",
    "Chestnut",
    "Beacon",
    "Hudson",
    "Ancoats",
    "Stockbridge",
    "Bowery",
)
_COLOURS = ("Black", "Navy", "Olive", "Tan", "Graphite", "Burgundy", "Sand")
_SUITCASES = (
    ("Cabin Spinner 55cm", "55", 195),
    ("Carry-On Expandable 56cm", "56", 225),
    ("Medium Check-In 68cm", "68", 285),
    ("Large Check-In 78cm", "78", 345),
    ("Aluminium Cabin 55cm", "A55", 595),
    ("Trunk 80cm", "T80", 695),
)
_LAPTOP = (
    ("Slim Laptop Sleeve 13in", "S13", 95),
    ("Laptop Brief 15in", "B15", 165),
    ("Commuter Backpack 16in", "P16", 185),
    ("Leather Laptop Bag 15in", "L15", 295),
)
_PURSES = (
    ("Card Purse", "CP", 45),
    ("Zip Wallet", "ZW", 85),
    ("Crossbody Purse", "XB", 145),
    ("Leather Clutch", "CL", 125),
    ("Travel Tote", "TT", 245),
)
_ACCESSORIES = (
    ("Luggage Tag", "TAG", 15),
    ("Passport Cover", "PAS", 35),
    ("Packing Cubes Set of 3", "CUB", 45),
    ("Luggage Strap", "STR", 20),
    ("Travel Adapter", "ADP", 25),
    ("Wash Bag", "WSH", 55),
    ("Garment Folder", "GAR", 65),
    ("Neck Pillow", "PIL", 30),
    ("Luggage Cover 55cm", "LC5", 35),
    ("Luggage Cover 68cm", "LC6", 40),
    ("TSA Padlock", "LCK", 18),
    ("Jewellery Roll", "JWL", 75),
)


# Category shares of what each spending segment buys (one-off .. big spender).
SEGMENT_BASKETS: tuple[dict[str, float], ...] = (
    {"suitcase": 0.22, "laptop bag": 0.14, "purse": 0.24, "accessory": 0.40},
    {"suitcase": 0.24, "laptop bag": 0.16, "purse": 0.22, "accessory": 0.38},
    {"suitcase": 0.26, "laptop bag": 0.17, "purse": 0.22, "accessory": 0.35},
    {"suitcase": 0.30, "laptop bag": 0.18, "purse": 0.22, "accessory": 0.30},
)


def _usd(gbp: float) -> float:
    # US prices end in 5 and are set a little above the exchange rate, as retailers do.
    return float(int(gbp * 1.28 / 5 + 0.5) * 5)


def _products(rng: Random) -> tuple[Product, ...]:
    out: list[Product] = []
    for coll in _COLLECTIONS[:8]:
        for name, code, price in _SUITCASES:
            colour = rng.choice(_COLOURS)
            sku = f"SC-{coll[:3].upper()}-{code}-{colour[:3].upper()}"
            out.append(_product(sku, f"{coll} {name}, {colour}", "suitcase", price))
    for coll in _COLLECTIONS[2:10]:
        for name, code, price in _LAPTOP:
            colour = rng.choice(_COLOURS)
            sku = f"LB-{coll[:3].upper()}-{code}-{colour[:3].upper()}"
            out.append(_product(sku, f"{coll} {name}, {colour}", "laptop bag", price))
    for coll in _COLLECTIONS[4:12]:
        for name, code, price in _PURSES:
            colour = rng.choice(_COLOURS)
            sku = f"PU-{coll[:3].upper()}-{code}-{colour[:3].upper()}"
            out.append(_product(sku, f"{coll} {name}, {colour}", "purse", price))
    for name, code, price in _ACCESSORIES:
        for colour in ("Black", "Tan") if price > 30 else ("Black",):
            sku = f"AC-{code}-{colour[:3].upper()}"
            out.append(_product(sku, f"{name}, {colour}", "accessory", float(price)))
    return tuple(out)


def _campaigns() -> tuple[Campaign, ...]:
    # Fortnightly sends over the last four months before the reference date.
    names = (
        "Summer Getaway Edit",
        "Carry-On Essentials",
        "Back to Work Bags",
        "Autumn Weekenders",
        "Members' Early Access",
        "Repair & Care Tips",
        "Gifts for Travellers",
        "Black Friday Preview",
    )
    paths = (
        "/collections/summer",
        "/suitcases/cabin",
        "/laptop-bags",
        "/collections/weekend",
        "/members",
        "/care/repairs",
        "/gifts",
        "/sale/preview",
    )
    end_day = (END - START).days
    return tuple(
        Campaign(f"CMP-2026-{i + 11:03d}", name, end_day - 120 + 15 * i, path)
        for i, (name, path) in enumerate(zip(names, paths, strict=True))
    )


@dataclass(frozen=True, slots=True)
class Catalogue:
    stores: tuple[Store, ...]
    shops: tuple[Store, ...]  # stores that sell (not the warehouse)
    warehouse: Store
    by_id: dict[str, Store]
    by_city: dict[str, tuple[Store, ...]]
    products: tuple[Product, ...]
    by_category: dict[str, Table[Product]]
    by_segment: tuple[Table[Product], ...]  # what each spending segment tends to buy
    campaigns: tuple[Campaign, ...]


@cache
def catalogue() -> Catalogue:
    rng = Random(1791)
    stores = []
    employee = 10400
    for sid, name, ckey, city, country, pc, addr, lat, lon, kind, phone in _STORES:
        staff = []
        for _ in range(rng.randrange(9, 26) if kind == "store" else 0):
            employee += rng.randrange(1, 40)  # employee numbers, issued across the chain
            staff.append(f"E{employee}")
        stores.append(
            Store(sid, name, ckey, city, country, pc, addr, lat, lon, kind, phone, tuple(staff))
        )
    shops = tuple(s for s in stores if s.kind == "store")
    by_city: dict[str, tuple[Store, ...]] = {}
    for s in shops:
        by_city[s.city_key] = (*by_city.get(s.city_key, ()), s)
    products = _products(rng)
    by_category: dict[str, Table[Product]] = {}
    for cat in ("suitcase", "laptop bag", "purse", "accessory"):
        items = [p for p in products if p.category == cat]
        # Cheaper lines sell more.
        by_category[cat] = Table((p, 1.0 / (p.gbp + 40)) for p in items)
    by_segment = tuple(
        Table((p, share[p.category] * by_category[p.category].weight(p)) for p in products)
        for share in SEGMENT_BASKETS
    )
    warehouse = next(s for s in stores if s.kind == "warehouse")
    by_id = {s.store_id: s for s in stores}
    return Catalogue(
        tuple(stores),
        shops,
        warehouse,
        by_id,
        by_city,
        products,
        by_category,
        by_segment,
        _campaigns(),
    )
