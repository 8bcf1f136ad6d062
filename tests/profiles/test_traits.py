"""Each computed trait, from a hand-made history."""

from __future__ import annotations

from datetime import UTC, datetime

from kenning.profiles.greeting import greeting
from kenning.profiles.traits import Activity, Line, Order, Owned, Repair, Shop, traits

NOW = datetime(2026, 11, 1, tzinfo=UTC)
SHOPS = {
    "S101": Shop("S101", "London Regent Street", "London", "GB"),
    "S201": Shop("S201", "Philadelphia Walnut Street", "Philadelphia", "US"),
}


def order(oid: str, at: str, total: int, channel: str = "pos", store: str = "S101",
          currency: str = "GBP", lines: tuple[Line, ...] = (), returned: int = 0,
          returned_skus: tuple[str, ...] = ()) -> Order:  # fmt: skip
    return Order(oid, channel, store, "E1", at, currency, total, lines, returned, returned_skus)


SUITCASE = Line("SC-1", 1, 30_000, "SC1", "suitcase")
PURSE = Line("PU-1", 1, 8_000, "", "purse")
BAG = Line("LB-1", 1, 20_000, "LB1", "laptop bag")

HISTORY = Activity(
    orders=[
        order("o1", "2021-03-01T10:00:00Z", 30_000, lines=(SUITCASE,)),
        order(
            "o2",
            "2023-05-01T10:00:00Z",
            16_000,
            lines=(PURSE, PURSE),
            returned=8_000,
            returned_skus=("PU-1",),
        ),
        order("o3", "2026-10-20T10:00:00Z", 20_000, channel="web", store="", lines=(BAG,)),
        order(
            "o4",
            "2024-06-01T15:00:00Z",
            50_000,
            store="S201",
            currency="USD",
            lines=(Line("SC-2", 1, 50_000, "SC2", "suitcase"),),
        ),
    ],
    owned=[
        Owned("SC1", "SC-1", "Aldgate", "suitcase", "S101", "2021-03-05"),
        Owned("SC9", "SC-9", "Fishtown", "suitcase", "S201", "2025-01-01"),
    ],
    repairs=[
        Repair(
            "R1",
            "SC1",
            "S101",
            "2023-01-01",
            (("received", "2023-01-01", "S101"), ("collected", "2023-02-01", "S101")),
        ),
        Repair(
            "R2",
            "LB1",
            "S101",
            "2026-10-25",
            (("received", "2026-10-25", "S101"), ("ready_for_pickup", "2026-10-30", "S101")),
        ),
    ],
    email={"send": (10, "2026-10-01"), "open": (6, "2026-10-02"), "click": (2, "2026-09-02")},
    addresses=[
        ("London", "GB", "W11 2JD", "2025-01-01"),
        ("London", "GB", "W11 2JD", "2020-01-01"),
    ],
    loyalty={"loyalty_id": "7739", "tier": "Gold", "enrolled_at": "2020-02-08"},
)


def test_spend_orders_and_channels() -> None:
    t = traits(HISTORY, SHOPS, NOW, 365)
    assert t["lifetime_spend"] == {"GBP": "580.00", "USD": "500.00"}  # refunds taken off
    assert t["main_currency"] == "GBP"
    assert t["orders"] == 4
    assert t["by_channel"] == {
        "pos": {"orders": 3, "spend": {"GBP": "380.00", "USD": "500.00"}},
        "web": {"orders": 1, "spend": {"GBP": "200.00"}},
    }
    assert (t["first_purchase"], t["last_purchase"]) == (
        "2021-03-01T10:00:00Z",
        "2026-10-20T10:00:00Z",
    )


def test_rfm_scores() -> None:
    t = traits(HISTORY, SHOPS, NOW, 365)
    assert t["days_since_purchase"] == 11
    assert t["rfm"] == {"recency": 5, "frequency": 3, "monetary": 3}
    old = traits(Activity(orders=[order("x", "2020-01-01T00:00:00Z", 100)]), SHOPS, NOW, 365)
    assert old["rfm"] == {"recency": 1, "frequency": 1, "monetary": 1}


def test_favourite_stores_owned_products_and_open_repairs() -> None:
    t = traits(HISTORY, SHOPS, NOW, 365)
    assert t["favourite_stores"] == ["S101", "S201"]
    # SC1 bought and registered counts once; SC9 registered only; one purse returned.
    assert t["owned_by_category"] == {"suitcase": 3, "laptop bag": 1, "purse": 1}
    assert t["open_repairs"] == 1


def test_email_engagement_and_price_range() -> None:
    t = traits(HISTORY, SHOPS, NOW, 365)
    e = t["email_engagement"]
    assert (e["sends"], e["opens"], e["clicks"], e["open_rate"], e["level"]) == (
        10,
        6,
        2,
        0.6,
        "high",
    )
    assert t["price_range"] == {"currency": "GBP", "low": "80.00", "high": "200.00"}


def test_lapsed_after_n_days() -> None:
    assert traits(HISTORY, SHOPS, NOW, 365)["lapsed"] is False
    assert traits(HISTORY, SHOPS, NOW, 10)["lapsed"] is True
    assert traits(Activity(), SHOPS, NOW, 10)["lapsed"] is False  # never bought: not lapsed


def test_likely_moved_to_a_town_far_from_her_stores() -> None:
    assert traits(HISTORY, SHOPS, NOW, 365)["likely_moved"] is False
    moved = Activity(
        orders=HISTORY.orders[:2],
        addresses=[("Edinburgh", "GB", "EH1 1AA", "2026-09-01"), ("London", "GB", "W11", "2020")],
    )
    assert traits(moved, SHOPS, NOW, 365)["likely_moved"] is True


def test_loyalty_enrolment() -> None:
    assert traits(HISTORY, SHOPS, NOW, 365)["loyalty"]["tier"] == "Gold"


def test_greeting() -> None:
    owned = {"suitcase": 4, "laptop bag": 3, "purse": 3, "accessory": 1}
    assert greeting("Theresa", owned) == (
        "Hello Theresa, thanks for owning 4 suitcases, 3 laptop bags and 3 purses …"
    )
    assert greeting(None, {}) == "Hello, welcome back."
    assert greeting("Ann", {"accessory": 2}) == "Hello Ann, thanks for owning 2 accessories."
