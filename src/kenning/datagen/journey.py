"""One customer's history with the retailer, from which their records and activity follow.

Per person: which channels they use, which shops they visit (a record per shop, now and
then a second one when the associate did not find them), web accounts, the products they
own and register, repairs, the e-mail list and the loyalty programme. How much of each
depends on a spending segment, which gives the long tail of big spenders.
"""

from __future__ import annotations

from kenning.datagen.activity import (
    Item,
    browse,
    device_id,
    email_events,
    order,
    register,
    repair,
    serial_number,
    shop_seconds,
    soon_after,
)
from kenning.datagen.block import Block
from kenning.datagen.catalogue import Store
from kenning.datagen.contacts import personal_email
from kenning.datagen.people import Person
from kenning.datagen.sampling import END_DAY, Scrambler, Table, geometric, spread

# Per segment (one-off, occasional, regular, big spender).
_CHANNELS: tuple[Table[str], ...] = (
    Table((("store", 0.55), ("web", 0.22), ("omni", 0.23))),
    Table((("store", 0.45), ("web", 0.17), ("omni", 0.38))),
    Table((("store", 0.30), ("web", 0.10), ("omni", 0.60))),
    Table((("store", 0.15), ("web", 0.05), ("omni", 0.80))),
)
_EXTRA_SHOPS = (0.06, 0.25, 0.6, 1.4)  # mean number of shops beyond the home one
_SHOP_ORDERS = (0.0, 0.45, 1.4, 2.6)  # mean orders beyond the first, per shop
_WEB_ORDERS = (0.3, 0.8, 1.4, 2.6)
_SECOND_RECORD = (0.09, 0.13, 0.18, 0.28)  # associate opened a duplicate at the same shop
_SECOND_ACCOUNT = (0.03, 0.04, 0.07, 0.12)
_REGISTER = (0.42, 0.5, 0.6, 0.68)
_SUBSCRIBE = (0.38, 0.48, 0.62, 0.76)
_LOYALTY = (0.07, 0.2, 0.52, 0.88)
_ELSEWHERE = (0.25, 0.2, 0.2, 0.3)  # owns a product bought from another retailer
_LISTS = Table((("newsletter", 0.62), ("offers", 0.25), ("travel-journal", 0.13)))


def _home_shop(b: Block, p: Person, day: int) -> Store:
    shops = b.world.catalogue.by_city[p.address_on(day).city.spec.key]
    if len(shops) > 1 and b.rng.random() < 0.4:
        return shops[1]  # London has two shops; most people use the West End one
    return shops[0]


def _other_shop(b: Block, home: Store) -> Store:
    rng = b.rng
    shops = b.world.catalogue.shops
    same = [s for s in shops if s.country == home.country and s is not home]
    pool = same if rng.random() < 0.7 else [s for s in shops if s.country != home.country]
    return pool[rng.randrange(len(pool))]


def _house_card(shop: Store) -> str:
    """The loyalty card a shop keeps behind the till for customers who forgot theirs."""
    return f"77{Scrambler(7_014_993_521, 12_345, 10)(int(shop.store_id[1:])):010d}"


def _typed_card(b: Block, card: str) -> str:
    r = b.rng.random()
    if r < 0.25:
        return f"{card[:4]} {card[4:8]} {card[8:]}"
    if r < 0.27:
        return card[:-1]  # last digit missed
    return card


def live(b: Block, p: Person) -> None:
    """Everything one person did, written into the block."""
    rng = b.rng
    has_email = bool(p.email or p.family_email)
    channel = _CHANNELS[p.segment].pick(rng)
    if channel == "web" and not has_email:
        channel = "store"  # no account without an address
    owned: list[Item] = []
    visits = _visits(b, p) if channel != "web" else []
    enrol: tuple[int, Store] | None = None
    if visits and rng.random() < _LOYALTY[p.segment]:
        shop, days = visits[0]
        enrol = (days[rng.randrange(len(days))], shop)
    card = f"77{b.loyalty_cards():010d}" if enrol else ""
    owned += _shop_records(b, p, visits, enrol, card)
    accounts = _web_accounts(b, p, channel) if channel != "store" and has_email else []
    for account in accounts:
        owned += _web_orders(b, p, account)
    owned += _bought_elsewhere(b, p)
    _registrations(b, p, owned)
    if has_email and rng.random() < _SUBSCRIBE[p.segment]:
        _subscriptions(b, p)
    if enrol is not None:
        _loyalty(b, p, enrol, card)
    _browsing(b, p, [account[0] for account in accounts])


def _visits(b: Block, p: Person) -> list[tuple[Store, list[int]]]:
    """Shops and the days the person bought there, home shop first."""
    rng = b.rng
    seg = p.segment
    since = p.since
    home = _home_shop(b, p, since)
    extra = geometric(rng, _EXTRA_SHOPS[seg], 4)
    shops = [home, *(_other_shop(b, home) for _ in range(extra))]
    visits: list[tuple[Store, list[int]]] = []
    for i, shop in enumerate(shops):
        first = since if i == 0 else rng.randrange(since, END_DAY)
        days = [first, *spread(rng, first, END_DAY, geometric(rng, _SHOP_ORDERS[seg], 12))]
        if i == 0 and p.home2 is not None and p.home2.city is not p.home.city:
            # Moved away: later visits happen at the new home's shop.
            before = [d for d in days if d < p.move_day]
            after = [d for d in days if d >= p.move_day]
            if before:
                visits.append((shop, before))
            if after:
                visits.append((_home_shop(b, p, p.move_day), after))
        else:
            visits.append((shop, days))
    return visits


def _shop_records(
    b: Block,
    p: Person,
    visits: list[tuple[Store, list[int]]],
    enrol: tuple[int, Store] | None,
    card: str,
) -> list[Item]:
    """A till record per shop (sometimes two) and the orders placed on it."""
    rng = b.rng
    rnd = rng.random
    seg = p.segment
    owned: list[Item] = []
    for shop, days in visits:
        groups = [days]
        if len(days) > 1 and rnd() < _SECOND_RECORD[seg]:
            cut = rng.randrange(1, len(days))
            groups = [days[:cut], days[cut:]]  # not found at a later visit: a new record
        elif rnd() < _SECOND_RECORD[seg] / 3:
            groups = [days, [days[-1]]]  # typed again on the same visit
        for group in groups:
            rid = b.new_record_id("pos", shop.store_id)
            created = group[0]
            # Tills update the customer when details are captured again at a later sale.
            updated = group[-1] if len(group) > 1 and rnd() < 0.3 else created
            loyalty = ""
            if enrol is not None and updated >= enrol[0] and rnd() < 0.45:
                loyalty = _typed_card(b, card)
            elif rnd() < 0.006:
                loyalty = _house_card(shop)  # card forgotten: the associate scans the shop's
            opened = b.record(
                p,
                "pos",
                rid,
                created,
                updated,
                [shop.store_id, ""],
                store_id=shop.store_id,
                loyalty_id=loyalty,
                created_secs=shop_seconds(rng, shop),
            )
            for day in group:
                secs = soon_after(rng, opened) if day == created else None
                owned += order(b, "pos", rid, shop, day, shop.currency, seg, secs=secs)
    return owned


# Record id, country, order days, day and time of day it was opened.
Account = tuple[str, str, list[int], int, int]


def _web_accounts(b: Block, p: Person, channel: str) -> list[Account]:
    """Web-shop accounts and the days their orders were placed."""
    rng = b.rng
    rnd = rng.random
    seg = p.segment
    accounts: list[Account] = []
    start = p.since if channel == "web" else rng.randrange(p.since, END_DAY)
    for k in range(2 if rnd() < _SECOND_ACCOUNT[seg] else 1):
        created = start if k == 0 else rng.randrange(start, END_DAY)
        email: str | None = None
        if k == 1:
            # A second account needs a different address: the new one or a fresh one.
            if p.email2 and created >= p.email_day:
                email = p.email2
            else:
                email = _another_email(b, p, created)
        days = spread(rng, created, END_DAY, 1 + geometric(rng, _WEB_ORDERS[seg], 12))
        if seg == 0 and rnd() < 0.3:
            days = []  # signed up, never bought
        if k == 0 and p.home2 is not None and p.move_day > created and rnd() < 0.6:
            updated = min(END_DAY - 1, p.move_day + rng.randrange(0, 120))  # new address
        elif days and rnd() < 0.4:
            updated = days[-1]
        else:
            updated = created
        rid = b.new_record_id("web")
        opened = b.record(p, "web", rid, created, updated, [rid, ""], email=email)
        accounts.append((rid, p.address_on(created).city.country, days, created, opened))
    return accounts


def _another_email(b: Block, p: Person, day: int) -> str:
    return personal_email(
        b.rng, b.alloc, p.country, p.first, p.surname_on(day), p.middle, p.nickname, p.dob[0]
    )


def _web_orders(b: Block, p: Person, account: Account) -> list[Item]:
    rid, country, days, created, opened = account
    cat = b.world.catalogue
    rng = b.rng
    rnd = rng.random
    currency = "GBP" if country == "GB" else "USD"
    owned: list[Item] = []
    for day in days:
        if rnd() < 0.15:
            shop = _home_shop(b, p, day)  # click and collect
        elif country == "GB":
            shop = cat.warehouse
        else:
            shop = cat.by_id["S201"]  # US web orders ship from the Philadelphia shop
        secs = soon_after(rng, opened) if day == created else None  # first order at sign-up
        owned += order(b, "web", rid, shop, day, currency, p.segment, secs=secs)
    return owned


def _bought_elsewhere(b: Block, p: Person) -> list[Item]:
    """Products from other retailers: they still get registered and repaired here."""
    rng = b.rng
    if rng.random() >= _ELSEWHERE[p.segment]:
        return []
    owned = []
    for _ in range(1 + geometric(rng, 0.3, 3)):
        cat = "suitcase" if rng.random() < 0.65 else "laptop bag"
        product = b.world.catalogue.by_category[cat].pick(rng)
        day = rng.randrange(max(0, p.since - 700), END_DAY)
        owned.append(Item(product, serial_number(b, product, day), day, ""))
    return owned


def _registrations(b: Block, p: Person, owned: list[Item]) -> None:
    """A registration per registered product; now and then a repair."""
    rng = b.rng
    rnd = rng.random
    registered = 0
    for item in owned:
        # Keen at first; after a few products most people stop bothering.
        if rnd() >= _REGISTER[p.segment] * 0.5 ** max(0, registered - 3):
            continue
        registered += 1
        lag = rng.randrange(0, 45) if rnd() < 0.85 else rng.randrange(45, 900)
        day = min(END_DAY - 1, max(item.day, p.since) + lag)
        rid = register(b, p, item, day)
        if rnd() < 0.09:
            broke = day + rng.randrange(60, 1500)
            if broke < END_DAY:
                shop = _home_shop(b, p, broke)
                if shop.country == "GB" and rnd() < 0.2:
                    shop = b.world.catalogue.warehouse  # posted in
                repair(b, item, rid, broke, shop)


def _subscriptions(b: Block, p: Person) -> None:
    """The e-mail list; a few people are on it twice, under different addresses."""
    rng = b.rng
    engagement = rng.random() * 0.6
    for k in range(2 if rng.random() < 0.08 else 1):
        day = rng.randrange(p.since, END_DAY)
        email = None
        if k == 1:
            email = p.family_email or p.email2 or _another_email(b, p, day)
        rid = b.new_record_id("email")
        b.record(p, "email", rid, day, day, [_LISTS.pick(rng), ""], email=email)
        email_events(b, rid, day, engagement)


def _loyalty(b: Block, p: Person, enrol: tuple[int, Store], card: str) -> None:
    rng = b.rng
    day, shop = enrol
    updated = day
    if p.home2 is not None and p.move_day > day and rng.random() < 0.7:
        updated = min(END_DAY - 1, p.move_day + rng.randrange(0, 200))
    tier = ("Blue", "Blue", "Silver", "Gold")[p.segment]
    if p.segment == 3 and rng.random() < 0.3:
        tier = "Silver"
    rid = b.new_record_id("loyalty")
    b.record(p, "loyalty", rid, day, updated, [shop.store_id, "", tier], loyalty_id=card)


def _browsing(b: Block, p: Person, accounts: list[str]) -> None:
    """Web-shop visits in the last 60 days from one or two devices, some logged in."""
    rng = b.rng
    rnd = rng.random
    if accounts:
        sessions = geometric(rng, (0.4, 0.8, 1.5, 3.0)[p.segment], 8)
    else:
        sessions = 1 if rnd() < 0.08 else 0
    if not sessions:
        return
    devices = [device_id(rng) for _ in range(1 if rnd() < 0.6 else 2)]
    for _ in range(sessions):
        record = accounts[rng.randrange(len(accounts))] if accounts and rnd() < 0.55 else ""
        day = rng.randrange(END_DAY - 60, END_DAY)
        browse(b, devices[rng.randrange(len(devices))], record, day, p.segment)
