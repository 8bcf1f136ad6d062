"""The synthetic retailer: layout, ground truth, determinism and the hard cases it promises."""

from __future__ import annotations

import csv
import hashlib
import random
from collections import Counter, defaultdict
from pathlib import Path

import phonenumbers
import pytest

from kenning.datagen import DatagenConfig, DatagenReport, generate
from kenning.datagen.places import landline, mobile, places, us_number
from kenning.datagen.writer import ACTIVITY_FILES, EXTRA_COLUMNS, IDENTITY_COLUMNS

SOURCES = ("pos", "web", "registrations", "email", "loyalty")
PEOPLE = 3000

Row = dict[str, str]


def read(path: Path) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def digest(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DatagenReport, list[int]]:
    out = tmp_path_factory.mktemp("retailer")
    ticks: list[int] = []
    report = generate(DatagenConfig(people=PEOPLE, seed=7), out, progress=ticks.append)
    return out, report, ticks


@pytest.fixture(scope="module")
def records(dataset: tuple[Path, DatagenReport, list[int]]) -> dict[str, list[Row]]:
    out = dataset[0]
    return {s: read(out / "records" / f"{s}.csv") for s in SOURCES}


@pytest.fixture(scope="module")
def person_of(dataset: tuple[Path, DatagenReport, list[int]]) -> dict[tuple[str, str], str]:
    return {(r["source"], r["record_id"]): r["person_id"] for r in read(dataset[0] / "truth.csv")}


def test_layout_headers_and_report(dataset: tuple[Path, DatagenReport, list[int]]) -> None:
    out, report, ticks = dataset
    for source in SOURCES:
        with (out / "records" / f"{source}.csv").open(encoding="utf-8") as f:
            assert tuple(next(csv.reader(f))) == IDENTITY_COLUMNS + EXTRA_COLUMNS[source]
    for stem, columns in ACTIVITY_FILES.items():
        with (out / "activity" / f"{stem}.csv").open(encoding="utf-8") as f:
            assert tuple(next(csv.reader(f))) == columns
    assert (out / "README.txt").read_text(encoding="utf-8").strip()
    assert (out / "markets.txt").read_text(encoding="utf-8") == "GB,US\n"
    assert b"\r\n" not in (out / "records" / "pos.csv").read_bytes()
    assert report.people == PEOPLE and report.out == out
    assert report.total_records == sum(report.records.values())
    assert report.records == {s: len(read(out / "records" / f"{s}.csv")) for s in SOURCES}
    assert report.activity["orders"] == len(read(out / "activity" / "orders.csv"))
    # Progress adds up to everyone, in steps of about 1% or less.
    assert sum(ticks) == PEOPLE and max(ticks) <= PEOPLE // 100 + 1


def test_truth_covers_every_record_exactly_once(
    dataset: tuple[Path, DatagenReport, list[int]], records: dict[str, list[Row]]
) -> None:
    truth = read(dataset[0] / "truth.csv")
    keys = Counter((r["source"], r["record_id"]) for r in truth)
    assert max(keys.values()) == 1
    listed = [(s, r["record_id"]) for s in SOURCES for r in records[s]]
    assert len(listed) == len(set(listed)), "record_id must be unique within a source"
    assert set(listed) == set(keys)
    for source in SOURCES:
        assert all(r["source"] == source for r in records[source])
    people = {r["person_id"] for r in truth}
    assert len(people) == PEOPLE
    assert 3.0 <= len(truth) / len(people) <= 3.5
    per_person = Counter(r["person_id"] for r in truth)
    assert max(per_person.values()) >= 10  # the big spenders' long tail


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    config = DatagenConfig(people=300, seed=11)
    generate(config, tmp_path / "a")
    generate(config, tmp_path / "b", workers=2)  # several processes, same bytes
    generate(DatagenConfig(people=300, seed=12), tmp_path / "c")
    a, b, c = digest(tmp_path / "a"), digest(tmp_path / "b"), digest(tmp_path / "c")
    assert a == b
    assert a["records/pos.csv"] != c["records/pos.csv"]
    assert a["truth.csv"] != c["truth.csv"]


def test_rerun_overwrites_and_activity_can_be_left_out(tmp_path: Path) -> None:
    generate(DatagenConfig(people=50, seed=3), tmp_path)
    first = digest(tmp_path)
    generate(DatagenConfig(people=50, seed=3), tmp_path)
    assert digest(tmp_path) == first
    report = generate(DatagenConfig(people=40, seed=3, activity=False), tmp_path)
    assert report.activity == {}
    assert not list((tmp_path / "activity").glob("*.csv"))  # no stale activity left behind
    assert len(read(tmp_path / "truth.csv")) == report.total_records
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_theresas_story(
    dataset: tuple[Path, DatagenReport, list[int]],
    records: dict[str, list[Row]],
    person_of: dict[tuple[str, str], str],
) -> None:
    out = dataset[0]
    mine = {
        s: [r for r in records[s] if person_of[(s, r["record_id"])] == "P-THERESA"] for s in SOURCES
    }
    assert mine["web"] == []
    assert len(mine["loyalty"]) == 1 and mine["loyalty"][0]["loyalty_id"]
    assert len(mine["email"]) == 1
    assert {r["store_id"] for r in mine["pos"]} == {"S101", "S201"}
    assert any(r["first_name"] == "Tess" for r in mine["pos"])
    stores = {r["store_id"]: r for r in read(out / "activity" / "stores.csv")}
    assert {stores[s]["city"] for s in ("S101", "S201")} == {"London", "Philadelphia"}

    pos_ids = {r["record_id"] for r in mine["pos"]}
    orders = {o["order_id"]: o for o in read(out / "activity" / "orders.csv")}
    hers = {oid for oid, o in orders.items() if o["record_id"] in pos_ids}
    category = {p["sku"]: p["category"] for p in read(out / "activity" / "products.csv")}
    lines = [ln for ln in read(out / "activity" / "order_lines.csv") if ln["order_id"] in hers]
    bought = Counter(category[ln["sku"]] for ln in lines)
    assert bought["suitcase"] == 4 and bought["laptop bag"] == 3 and bought["purse"] >= 2
    assert {orders[ln["order_id"]]["store_id"] for ln in lines} == {"S101", "S201"}

    serials = {ln["serial_number"] for ln in lines if ln["serial_number"]}
    assert len(serials) == 7
    assert {r["serial_number"] for r in mine["registrations"]} == serials
    registration_ids = {r["record_id"] for r in mine["registrations"]}
    repairs = [
        r for r in read(out / "activity" / "repairs.csv") if r["record_id"] in registration_ids
    ]
    assert len(repairs) == 2
    events = read(out / "activity" / "repair_events.csv")
    last = {
        r["repair_id"]: e["status"]
        for r in repairs
        for e in events
        if e["repair_id"] == r["repair_id"]
    }
    assert set(last.values()) <= {"collected", "ready_for_pickup"} and "collected" in last.values()

    sub = mine["email"][0]["record_id"]
    kinds = Counter(
        e["event"] for e in read(out / "activity" / "email_events.csv") if e["record_id"] == sub
    )
    assert kinds["send"] >= 4 and kinds["open"] >= 2 and kinds["click"] >= 2


def test_households_share_addresses_and_sometimes_contacts(
    records: dict[str, list[Row]], person_of: dict[tuple[str, str], str]
) -> None:
    at: dict[tuple[str, str], set[str]] = defaultdict(set)
    surnames: dict[str, set[str]] = defaultdict(set)
    by_email: dict[str, set[str]] = defaultdict(set)
    for source in ("web", "loyalty", "registrations"):
        for r in records[source]:
            pid = person_of[(source, r["record_id"])]
            if r["address_line1"] and r["postcode"]:
                key = (r["address_line1"].lower(), r["postcode"].replace(" ", "").lower())
                at[key].add(pid)
            surnames[pid].add(r["last_name"].lower())
            if r["email"]:
                by_email[r["email"].strip().lower()].add(pid)
    shared = [pids for pids in at.values() if len(pids) >= 2]
    assert len(shared) >= 50
    families = [p for p in shared if len(set.intersection(*(surnames[x] for x in p))) > 0]
    assert len(families) >= 20
    # A family mailbox or a borrowed address: one e-mail, several people.
    assert sum(1 for pids in by_email.values() if len(pids) >= 2) >= 5


def test_namesakes_in_the_same_town(
    records: dict[str, list[Row]], person_of: dict[tuple[str, str], str]
) -> None:
    people: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for r in records["pos"] + records["web"] + records["registrations"] + records["loyalty"]:
        placeholder = r["first_name"].lower() in ("walk", "customer", "cash", "guest", "n/a")
        if r["first_name"] and r["last_name"] and r["city"] and not placeholder:
            key = (r["first_name"].lower(), r["last_name"].lower(), r["city"].lower())
            people[key].add(person_of[(r["source"], r["record_id"])])
    assert sum(1 for pids in people.values() if len(pids) >= 2) >= 3


def test_placeholders_are_shared_by_different_people(
    records: dict[str, list[Row]], person_of: dict[tuple[str, str], str]
) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for r in records["pos"]:
        owners[r["email"].strip().lower()].add(person_of[("pos", r["record_id"])])
    assert len(owners["noemail@aldgatepenn.com"]) >= 10
    phones = Counter(r["phone"] for r in records["pos"])
    assert phones["0000000000"] >= 2
    # The shop's own loyalty card, scanned for customers who forgot theirs.
    cards: dict[str, set[str]] = defaultdict(set)
    for r in records["pos"]:
        if r["loyalty_id"]:
            cards[r["loyalty_id"]].add(person_of[("pos", r["record_id"])])
    assert any(len(pids) >= 3 for pids in cards.values())


def test_activity_points_at_existing_records_and_stores(
    dataset: tuple[Path, DatagenReport, list[int]], records: dict[str, list[Row]]
) -> None:
    out = dataset[0]
    ids = {s: {r["record_id"] for r in records[s]} for s in SOURCES}
    stores = {r["store_id"]: r for r in read(out / "activity" / "stores.csv")}
    assert sum(1 for s in stores.values() if s["kind"] == "warehouse") == 1
    assert {"London", "Philadelphia"} <= {s["city"] for s in stores.values()}
    products = read(out / "activity" / "products.csv")
    skus = {p["sku"] for p in products}
    assert 120 <= len(skus) <= 180
    assert {p["category"] for p in products} == {"suitcase", "laptop bag", "purse", "accessory"}

    orders = read(out / "activity" / "orders.csv")
    opened = {(s, r["record_id"]): r["created_at"] for s in ("pos", "web") for r in records[s]}
    for o in orders:
        assert o["source"] in ("pos", "web") and o["record_id"] in ids[o["source"]]
        assert o["channel"] == o["source"] and o["store_id"] in stores
        assert o["ordered_at"] >= opened[(o["source"], o["record_id"])]
    order_ids = {o["order_id"] for o in orders}
    assert len(order_ids) == len(orders)
    lines = read(out / "activity" / "order_lines.csv")
    assert all(ln["order_id"] in order_ids and ln["sku"] in skus for ln in lines)
    serials = [ln["serial_number"] for ln in lines if ln["serial_number"]]
    assert len(serials) == len(set(serials))
    assert all(r["order_id"] in order_ids for r in read(out / "activity" / "returns.csv"))
    for r in read(out / "activity" / "repairs.csv"):
        assert r["source"] == "registrations" and r["record_id"] in ids["registrations"]
        assert r["store_id"] in stores
    for e in read(out / "activity" / "email_events.csv"):
        assert e["source"] == "email" and e["record_id"] in ids["email"]
    for b in read(out / "activity" / "browsing.csv"):
        assert b["record_id"] == "" or b["record_id"] in ids["web"]


def test_formats_and_noise_are_present(records: dict[str, list[Row]]) -> None:
    pos = records["pos"]
    assert any(r["first_name"].isupper() for r in pos)  # the US tills' capitals
    assert any(r["full_name"] and not r["first_name"] for r in pos)
    countries = Counter(r["country"] for s in SOURCES for r in records[s])
    assert {"GB", "US", "UK", ""} <= set(countries)
    assert any(r["date_of_birth"].count("/") == 2 for r in records["registrations"])
    assert any(len(r["date_of_birth"]) == 8 for r in records["loyalty"])
    assert any(r["postcode"] and " " not in r["postcode"] and r["country"] == "GB" for r in pos)


def test_generated_phone_numbers_are_valid() -> None:
    pl = places()
    rng = random.Random(5)
    for city in pl.cities:
        for _ in range(200):
            numbers = [mobile(rng, city, pl), landline(rng, city)]
            if city.country == "US":
                numbers.append(us_number(rng, city))
            for nsn in numbers:
                parsed = phonenumbers.parse(
                    ("0" if city.country == "GB" else "") + nsn, city.country
                )
                assert phonenumbers.is_valid_number(parsed), (city.spec.key, nsn)
