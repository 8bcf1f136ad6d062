"""What customers do: orders and their lines, returns, registrations, repairs, e-mail
engagement and browsing. Each row points at the identity record that did it.

Activity rows hold only ids, codes, numbers and timestamps (never a comma or a quote), so
they are built directly as CSV lines: several times faster than going through ``csv``.
"""

from __future__ import annotations

from typing import NamedTuple

from kenning.datagen.block import Block
from kenning.datagen.catalogue import DOMAIN, Product, Store
from kenning.datagen.noise import DOB_FORMS
from kenning.datagen.people import Person
from kenning.datagen.profiles import REGISTRATIONS
from kenning.datagen.sampling import END_DAY, Rng, Table, day_date, stamp

# Production year and ISO week by day offset: serial numbers encode when a bag was made.
YEAR_WEEK: dict[int, str] = {}
for _d in range(-400, END_DAY + 400):
    _iso = day_date(_d).isocalendar()
    YEAR_WEEK[_d] = f"{_iso[0] % 100:02d}{_iso[1]:02d}"

_LINES = Table(((1, 0.72), (2, 0.21), (3, 0.07)))
_DISCOUNTS = (0.9, 0.8, 0.75, 0.7)
_LINE_NO = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")


class Item(NamedTuple):
    """A serialised product a person owns."""

    product: Product
    serial: str
    day: int  # bought
    store_id: str  # the shop it came from; "" online or from another retailer


def serial_number(b: Block, product: Product, day: int) -> str:
    """Category, production year and week, then a unique code: 'SC2419-01F3A09B2'."""
    made = day - b.rng.randrange(20, 300)
    return f"{product.serial_prefix or 'SC'}{YEAR_WEEK[made]}-{b.serials():09X}"


def shop_seconds(rng: Rng, store: Store) -> int:
    """A time during opening hours, in UTC: GB 09:30-19:30, US 10:00-20:00 local (EST)."""
    if store.country == "GB":
        return 34_200 + int(rng.random() * 36_000)
    return 54_000 + int(rng.random() * 32_399)


def soon_after(rng: Rng, secs: int) -> int:
    """A few minutes later the same day: the sale that follows opening the record."""
    return min(86_399, secs + 60 + int(rng.random() * 900))


def order(
    b: Block,
    source: str,
    record_id: str,
    store: Store | None,
    day: int,
    currency: str,
    segment: int,
    products: list[Product] | None = None,
    returns: bool = True,
    secs: int | None = None,
) -> list[Item]:
    """One order with its lines and any returns; returns the serialised items kept.

    ``secs`` is the time of day, when it must follow something (the record's creation).
    """
    rng = b.rng
    rnd = rng.random
    if products is None:
        basket = b.world.catalogue.by_segment[segment]
        products = [basket.pick(rng) for _ in range(_LINES.pick(rng))]
    n = b.order_ids()
    if source == "pos":
        assert store is not None
        oid = f"T{store.store_id[1:]}-{n:010d}"
        staff = store.associates
        assoc = staff[int(rnd() * len(staff))]
        if secs is None:
            secs = shop_seconds(rng, store)
        store_id = store.store_id
    else:
        oid = f"WEB{n:010d}"
        assoc = ""
        if secs is None:
            secs = int(rnd() * 86_400)
        store_id = store.store_id if store else ""
    gbp = currency == "GBP"
    lines: list[str] = []
    total = 0.0
    kept: list[Item] = []
    for i, prod in enumerate(products, 1):
        prefix = prod.serial_prefix
        qty = 1 if prefix or rnd() < 0.85 else 2
        price = prod.gbp if gbp else prod.usd
        if rnd() < 0.12:
            price = round(price * _DISCOUNTS[int(rnd() * 4)], 2)
            text = f"{price:.2f}"
        else:
            text = prod.gbp_text if gbp else prod.usd_text
        serial = serial_number(b, prod, day) if prefix else ""
        total += price * qty
        lines.append(f"{oid},{_LINE_NO[i]},{prod.sku},{_LINE_NO[qty]},{text},{serial}")
        if returns and rnd() < 0.06:
            back = day + 1 + int(rnd() * 29)
            if back < END_DAY:
                b.activity["returns"].append(
                    f"{oid},{prod.sku},{stamp(back, 36_000 + int(rnd() * 32_000))},"
                    f"{price * qty:.2f}"
                )
                continue
        if prefix:
            kept.append(Item(prod, serial, day, store_id if source == "pos" else ""))
    channel = "pos" if source == "pos" else "web"
    b.orders.append(
        (
            f"{oid},{source},{record_id},{channel},{store_id},{assoc},{stamp(day, secs)},"
            f"{currency},{total:.2f}",
            lines,
        )
    )
    return kept


def _typed_serial(rng: Rng, serial: str) -> str:
    r = rng.random()
    if r < 0.012:
        return serial.lower()
    if r < 0.02:
        return serial.replace("-", " ")
    if r < 0.026:
        return serial.replace("-", "")
    if r < 0.034:
        i = rng.randrange(7, len(serial))
        return serial[:i] + serial[i + 1 :]  # a character missed
    if r < 0.04:
        return serial.replace("0", "O").replace("1", "I")
    return serial


def register(b: Block, p: Person, item: Item, day: int) -> str:
    """A registration record: the customer types their details again for each product."""
    rng = b.rng
    rid = b.new_record_id("registrations")
    bought = item.day + (rng.randrange(-4, 5) if rng.random() < 0.1 else 0)  # from memory
    when = day_date(bought)
    y, m, d = when.year, when.month, when.day
    cc = p.address_on(day).city.country
    purchased = DOB_FORMS[REGISTRATIONS.dob_forms[cc].pick(rng)](y, m, d)
    store = item.store_id
    r = rng.random()
    if store and r < 0.05:
        shops = b.world.catalogue.shops
        store = shops[rng.randrange(len(shops))].store_id  # picked the wrong shop
    elif r > 0.96:
        purchased = ""
    b.record(
        p,
        "registrations",
        rid,
        day,
        day,
        [item.product.sku, store, purchased],
        serial=_typed_serial(rng, item.serial),
    )
    return rid


def repair(
    b: Block,
    item: Item,
    registration_id: str,
    day: int,
    store: Store,
    after: tuple[int, int, int] | None = None,
) -> None:
    """A repair and its status trail; the latest ones are still in progress on END.

    ``after`` fixes the days from receipt to each later status (the story's repairs).
    """
    rng = b.rng
    rid = f"RP{b.repair_ids():010d}"
    sid = store.store_id
    received = stamp(day, rng.randrange(36_000, 64_000))
    b.activity["repairs"].append(
        f"{rid},{item.serial},registrations,{registration_id},{sid},{received}"
    )
    if after is None:
        fixed = rng.randrange(1, 6)
        ready = fixed + rng.randrange(5, 18)
        after = (fixed, ready, ready + rng.randrange(1, 21))
    last = "shipped" if store.kind == "warehouse" else "ready_for_pickup"
    steps = [("received", day), ("in_repair", day + after[0]), (last, day + after[1])]
    if store.kind != "warehouse":
        steps.append(("collected", day + after[2]))
    events = b.activity["repair_events"]
    events.append(f"{rid},received,{received},{sid}")
    for status, at in steps[1:]:
        if at >= END_DAY:
            break
        events.append(f"{rid},{status},{stamp(at, rng.randrange(32_400, 68_400))},{sid}")


def email_events(b: Block, record_id: str, subscribed: int, engagement: float) -> None:
    rng = b.rng
    rnd = rng.random
    rows = b.activity["email_events"]
    for c in b.world.catalogue.campaigns:
        if c.day <= subscribed or rnd() >= 0.45:  # each send goes to a segment of the list
            continue
        sent = 28_800 + int(rnd() * 7_200)
        cid = c.campaign_id
        rows.append(f"email,{record_id},{cid},send,{stamp(c.day, sent)},")
        if rnd() < engagement:
            later = c.day + (0 if rnd() < 0.7 else 1 + int(rnd() * 3))
            at = stamp(later, min(86_399, sent + 600 + int(rnd() * 40_000)))
            rows.append(f"email,{record_id},{cid},open,{at},")
            if rnd() < 0.22:
                rows.append(
                    f"email,{record_id},{cid},click,{at},"
                    f"https://www.{DOMAIN}{c.path}?utm_source=email&utm_campaign={cid}"
                )


def device_id(rng: Rng) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"


def browse(b: Block, device: str, record_id: str, day: int, segment: int) -> None:
    """One visit to the web shop; logged-in visits carry the account's record id."""
    rng = b.rng
    rnd = rng.random
    basket = b.world.catalogue.by_segment[segment]
    rows = b.activity["browsing"]
    head = f"{device},s{rng.getrandbits(64):016x},{'web' if record_id else ''},{record_id}"
    t = int(rnd() * 82_800)
    rows.append(f"{head},page,,{stamp(day, t)}")
    for _ in range(1 + int(rnd() * 4)):
        t += 15 + int(rnd() * 225)
        sku = basket.pick(rng).sku
        rows.append(f"{head},product_viewed,{sku},{stamp(day, t)}")
        if rnd() < 0.15:
            t += 5 + int(rnd() * 55)
            rows.append(f"{head},product_added,{sku},{stamp(day, t)}")
