"""The story customer, present in every dataset: Theresa Whitfield of Notting Hill.

She owns four suitcases, three laptop bags and three purses bought over seven years in the
Regent Street shop and, on trips, in Philadelphia. She registered every serialised product
(seven registrations, typed again each time), two went in for repair, she reads and clicks
the e-mails, holds a Gold loyalty card and has never made a web account. Her records are
written by hand so the demo can rely on them: a little real noise ("Tess" at one till, the
US till in capitals, phone formats, a misspelt surname), all of it resolvable.
"""

from __future__ import annotations

from datetime import date

from kenning.datagen.activity import Item, order, repair
from kenning.datagen.block import Block, BlockOutput, World
from kenning.datagen.catalogue import DOMAIN, Product
from kenning.datagen.contacts import Registry
from kenning.datagen.sampling import START, stamp

PERSON_ID = "P-THERESA"
EMAIL = "theresa.whitfield@gmail.com"
MOBILE = "7723481556"
LANDLINE = "2077274183"
RESERVED = (EMAIL, MOBILE, LANDLINE)  # nobody else may be handed these


def _day(iso: str) -> int:
    return (date.fromisoformat(iso) - START).days


def _at(iso: str, hh: int, mm: int = 0) -> str:
    return stamp(_day(iso), hh * 3600 + mm * 60)


def _find(w: World, name: str) -> Product:
    return next(p for p in w.catalogue.products if p.name.startswith(name))


def _row(source: str, rid: str, *fields: str, extras: tuple[str, ...] = ()) -> list[str]:
    """Canonical columns after source and record_id, in order, then the extras."""
    cols = list(fields) + [""] * (15 - len(fields))
    return [source, rid, *cols, *extras]


def story(seed: int, w: World) -> BlockOutput:
    b = Block(seed, 0, Registry(0), w)
    cat = w.catalogue
    london, philly = cat.by_id["S101"], cat.by_id["S201"]
    pid = PERSON_ID
    card = f"77{b.loyalty_cards():010d}"

    # Till records: Regent Street in 2019, typed again in 2022 as "Tess", Philadelphia 2023.
    pos1 = b.new_record_id("pos", "S101")
    pos2 = b.new_record_id("pos", "S101")
    pos3 = b.new_record_id("pos", "S201")
    b.raw(
        pid,
        _row(
            "pos",
            pos1,
            "Theresa",
            "Whitfield",
            "",
            EMAIL,
            "07723 481556",
            "",
            "14 Elgin Crescent",
            "",
            "London",
            "",
            "W11 2JD",
            "GB",
            "",
            "",
            _at("2019-03-16", 11, 42),
            extras=("S101", _at("2019-03-16", 11, 42)),
        ),
    )
    b.raw(
        pid,
        _row(
            "pos",
            pos2,
            "Tess",
            "Whitfield",
            "",
            "",
            "07723481556",
            "",
            "",
            "",
            "",
            "",
            "W112JD",
            "",
            f"{card[:4]} {card[4:8]} {card[8:]}",
            "",
            _at("2024-02-10", 14, 5),
            extras=("S101", _at("2022-05-14", 15, 20)),
        ),
    )
    b.raw(
        pid,
        _row(
            "pos",
            pos3,
            "THERESA",
            "WHITFIELD",
            "",
            "Theresa.Whitfield@gmail.com",
            "+44 7723 481556",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            _at("2025-09-12", 19, 31),
            extras=("S201", _at("2023-05-20", 18, 12)),
        ),
    )

    # What she bought, where and when (UTC; no returns: the story must add up).
    buys = (
        (pos1, london, "2019-03-16", 11, 50, ("Aldgate Cabin Spinner 55cm", "Luggage Tag, Black")),
        (pos1, london, "2019-11-30", 13, 5, ("Rittenhouse Crossbody Purse",)),
        (pos1, london, "2021-07-03", 16, 20, ("Spitalfields Large Check-In 78cm",)),
        (pos2, london, "2022-05-14", 15, 31, ("Bloomsbury Laptop Brief 15in",
                                              "Fishtown Card Purse")),
        (pos2, london, "2024-02-10", 14, 12, ("Marylebone Leather Laptop Bag 15in",
                                              "Passport Cover, Tan")),
        (pos3, philly, "2023-05-20", 18, 20, ("Rittenhouse Medium Check-In 68cm",
                                              "Chestnut Zip Wallet")),
        (pos3, philly, "2025-09-12", 19, 40, ("Fishtown Aluminium Cabin 55cm",
                                              "Chestnut Commuter Backpack 16in")),
    )  # fmt: skip
    items: list[Item] = []
    for rid, shop, iso, hh, mm, names in buys:
        products = [_find(w, n) for n in names]
        at = hh * 3600 + mm * 60
        items += order(
            b, "pos", rid, shop, _day(iso), shop.currency, 3, products, returns=False, secs=at
        )

    # Seven registrations, each typed afresh on the registration page.
    typed = (
        (
            "Theresa",
            "Whitfield",
            "",
            EMAIL,
            "07723481556",
            "14/04/1978",
            "14 Elgin Crescent",
            "",
            "London",
            "",
            "W11 2JD",
            "United Kingdom",
        ),
        (
            "Theresa",
            "Whitfield",
            "Theresa Whitfield",
            EMAIL,
            "+44 7723 481556",
            "",
            "14 Elgin Cres",
            "",
            "London",
            "",
            "W112JD",
            "UK",
        ),
        (
            "theresa",
            "whitfield",
            "",
            EMAIL,
            "",
            "",
            "14 Elgin Crescent",
            "",
            "london",
            "",
            "w11 2jd",
            "GB",
        ),
        (
            "Tess",
            "Whitfield",
            "",
            EMAIL,
            "07723 481556",
            "",
            "14 Elgin Crescent",
            "Notting Hill",
            "London",
            "",
            "W11 2JD",
            "United Kingdom",
        ),
        (
            "Theresa",
            "Whitfeild",
            "",
            EMAIL,
            "07723481556",
            "14/04/1978",
            "14 Elgin Crescent",
            "",
            "London",
            "Greater London",
            "W11 2JD",
            "UK",
        ),
        (
            "Theresa",
            "Whitfield",
            "Mrs T Whitfield",
            f"{EMAIL} ",
            "020 7727 4183",
            "1978-04-14",
            "14 Elgin Crescent",
            "",
            "London",
            "",
            "W11 2JD",
            "England",
        ),
        (
            "Theresa",
            "Whitfield",
            "",
            EMAIL,
            "+447723481556",
            "",
            "14 Elgin Crescent",
            "",
            "London",
            "",
            "W11 2JD",
            "United Kingdom",
        ),
    )
    registrations: list[str] = []
    for item, fields in zip(items, typed, strict=True):
        when = item.day + 9
        rid = b.new_record_id("registrations")
        bought = date.fromordinal(START.toordinal() + item.day).strftime("%d/%m/%Y")
        b.raw(
            pid,
            _row(
                "registrations",
                rid,
                *fields,
                "",
                item.serial,
                stamp(when, 20 * 3600 + 915),
                extras=(item.product.sku, item.store_id, bought),
            ),
        )
        registrations.append(rid)

    # Two repairs at Regent Street: the first suitcase (collected), the leather laptop bag
    # (ready for pickup on the reference date).
    repair(b, items[0], registrations[0], _day("2023-01-09"), london, after=(2, 9, 13))
    repair(b, items[3], registrations[3], _day("2026-10-12"), london, after=(2, 13, 30))

    # The e-mail list: she opens most sends and clicks some.
    sub = b.new_record_id("email")
    b.raw(
        pid,
        _row(
            "email",
            sub,
            "",
            "",
            "Theresa Whitfield",
            EMAIL,
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "GB",
            "",
            "",
            _at("2019-04-02", 21, 3),
            extras=("newsletter", _at("2019-04-02", 21, 3)),
        ),
    )
    events = b.activity["email_events"]
    for i, c in enumerate(cat.campaigns):
        cid = c.campaign_id
        events.append(f"email,{sub},{cid},send,{stamp(c.day, 32_400)},")
        if i % 4 != 3:
            events.append(f"email,{sub},{cid},open,{stamp(c.day, 45_000 + i)},")
            if i % 2 == 0:
                url = f"https://www.{DOMAIN}{c.path}?utm_source=email&utm_campaign={cid}"
                events.append(f"email,{sub},{cid},click,{stamp(c.day, 45_100 + i)},{url}")

    # Loyalty: enrolled at Regent Street in 2020; the system holds E.164 phones, YYYYMMDD.
    loyal = b.new_record_id("loyalty")
    b.raw(
        pid,
        _row(
            "loyalty",
            loyal,
            "Theresa",
            "Whitfield",
            "Theresa Whitfield",
            EMAIL,
            "+447723481556",
            "19780414",
            "14 Elgin Crescent",
            "",
            "London",
            "",
            "W11 2JD",
            "GB",
            card,
            "",
            _at("2025-01-18", 12, 30),
            extras=("S101", _at("2020-02-08", 13, 15), "Gold"),
        ),
    )
    b.people = 1
    return b.output()
