"""The inventory API in-process (FastAPI's TestClient over httpx), on both backends."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from inventory_data import NOW

from kenning.api.app import create_app
from kenning.api.deps import run_again_if_transient
from kenning.api.inventory_schemas import (
    AvailabilityRowPublic,
    ReservationLineCreate,
    ReservationPublic,
)
from kenning.api.serve import app_from_environment
from kenning.commerce.inventory.stock import Reservation, ReservationLine
from kenning.services.inventory import AvailableAt
from kenning.services.keys import create_key
from kenning.settings import Settings
from kenning.store import Store


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(inventory: Store, store_url: str, clock: Clock) -> Iterator[TestClient]:
    inventory.set_stock(
        [
            ("BAG-1", "LDN", 5, 1),
            ("BAG-1", "MAN", 2, 0),
            ("BAG-1", "WH-GB", 40, 0),
            ("BAG-1", "NYC", 7, 0),
            ("TAG-2", "MAN", 3, 0),
            ("TAG-2", "WH-GB", 10, 0),
        ]
    )
    favourites = {"cust-1": ["MAN", "EDI"]}
    app = create_app(
        Settings(database_url=store_url, pool_size=2),
        clock=clock,
        favourite_stores=lambda _, customer: favourites.get(customer, []),
    )
    _, secret = create_key(inventory, "shop", ["inventory:write"])
    with TestClient(app) as test_client:
        test_client.headers["Authorization"] = f"Bearer {secret}"
        yield test_client


def _post(client: TestClient, path: str, body: dict[str, Any], key: str) -> Any:
    return client.post(path, json=body, headers={"Idempotency-Key": key})


def test_keys_and_scopes(client: TestClient, inventory: Store) -> None:
    anonymous = client.get("/v1/locations", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "unauthorized"
    wrong = client.get("/v1/locations", headers={"Authorization": "Bearer kn_sk_nope"})
    assert wrong.status_code == 401
    _, other = create_key(inventory, "crm", ["customers:read"])
    denied = client.get("/v1/locations", headers={"Authorization": f"Bearer {other}"})
    assert denied.status_code == 403
    assert denied.json()["code"] == "forbidden"
    assert denied.json()["message"] == "this key lacks the inventory:read scope"
    _, reader = create_key(inventory, "kiosk", ["inventory:read"])
    as_reader = {"Authorization": f"Bearer {reader}", "Idempotency-Key": "r1"}
    assert client.get("/v1/locations", headers=as_reader).status_code == 200
    body = {"sku": "BAG-1", "location_id": "LDN", "quantity": 1}
    assert client.post("/v1/receipts", json=body, headers=as_reader).status_code == 403
    _, admin = create_key(inventory, "ops", ["admin"])
    as_admin = {"Authorization": f"Bearer {admin}", "Idempotency-Key": "r1"}
    assert client.post("/v1/receipts", json=body, headers=as_admin).status_code == 200


def test_every_error_has_one_shape(client: TestClient) -> None:
    invalid = _post(client, "/v1/reservations", {"lines": []}, "k")
    assert invalid.status_code == 422
    assert invalid.json()["code"] == "validation_error" and "lines" in invalid.json()["message"]
    missing = client.get("/v1/nowhere")
    assert missing.status_code == 404 and set(missing.json()) == {"code", "message"}
    keyless = client.post("/v1/receipts", json={"sku": "X", "location_id": "LDN", "quantity": 1})
    assert keyless.status_code == 400 and keyless.json()["code"] == "idempotency_key_required"
    unknown = client.get("/v1/reservations/res_nope")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    assert "/v1/availability" in client.get("/openapi.json").json()["paths"]


def test_reservation_retries_and_expiry(client: TestClient, clock: Clock) -> None:
    body = {"lines": [{"sku": "BAG-1", "location_id": "LDN", "quantity": 4}], "ttl_seconds": 60}
    first = _post(client, "/v1/reservations", body, "checkout-1")
    assert first.status_code == 201, first.text
    again = _post(client, "/v1/reservations", body, "checkout-1")
    assert again.json() == first.json()
    other = dict(body, lines=[{"sku": "BAG-1", "location_id": "LDN", "quantity": 1}])
    reused = _post(client, "/v1/reservations", other, "checkout-1")
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_mismatch"
    short = _post(client, "/v1/reservations", other, "checkout-2")
    assert short.status_code == 409 and short.json()["code"] == "insufficient_stock"

    def ldn() -> dict[str, Any]:
        found = client.get("/v1/availability", params={"sku": "BAG-1"}).json()
        return next(row for row in found["locations"] if row["location_id"] == "LDN")

    assert ldn()["reserved"] == 4 and ldn()["available"] == 0
    clock.now = NOW + timedelta(seconds=60)
    assert ldn()["reserved"] == 0 and ldn()["available"] == 4
    res_id = first.json()["id"]
    late = _post(client, f"/v1/reservations/{res_id}/confirm", {}, "confirm-1")
    assert late.status_code == 409 and "expired" in late.json()["message"]


def test_confirm_and_fulfil_through_the_api(client: TestClient) -> None:
    body = {"lines": [{"sku": "TAG-2", "location_id": "MAN", "quantity": 2}], "kind": "order"}
    created = _post(client, "/v1/reservations", body, "o-1").json()
    confirmed = _post(client, f"/v1/reservations/{created['id']}/confirm", {}, "c-1").json()
    assert confirmed["status"] == "allocated" and confirmed["expires_at"] is None
    fulfilled = client.post(
        f"/v1/reservations/{created['id']}/fulfil", json={"idempotency_key": "f-1"}
    )
    assert fulfilled.json()["status"] == "fulfilled"
    levels = {r["location_id"]: r for r in client.get("/v1/stock/TAG-2").json()}
    assert (levels["MAN"]["on_hand"], levels["MAN"]["reserved"]) == (1, 0)


def test_availability_nearest_by_point_store_market_and_favourites(client: TestClient) -> None:
    birmingham = {"sku": "BAG-1", "lat": 52.4862, "lon": -1.8904}
    found = client.get("/v1/availability", params=birmingham).json()
    assert [r["location_id"] for r in found["locations"]][:3] == ["WH-GB", "MAN", "LDN"]
    assert found["on_hand"] == 5 + 2 + 40 + 7 and found["available"] == 4 + 2 + 40 + 7
    near_edi = client.get("/v1/availability", params={"sku": "BAG-1", "near_location": "EDI"})
    first = near_edi.json()["locations"][0]
    assert first["location_id"] == "EDI" and first["distance_km"] == 0
    gb = client.get("/v1/availability", params={"sku": "BAG-1", "market": "GB", "limit": 2})
    assert [r["location_id"] for r in gb.json()["locations"]] == ["EDI", "LDN"]
    mine = client.get("/v1/availability", params={"sku": "BAG-1", "customer_id": "cust-1"})
    assert [r["location_id"] for r in mine.json()["locations"]] == ["MAN", "EDI"]
    assert mine.json()["available"] == 2
    stranger = client.get("/v1/availability", params={"sku": "BAG-1", "customer_id": "x"})
    assert stranger.json()["locations"] == []


def test_transfer_in_transit_then_received(client: TestClient) -> None:
    arrival = (NOW + timedelta(days=2)).isoformat()
    body = {
        "sku": "TAG-2",
        "from_location": "WH-GB",
        "to_location": "LDN",
        "quantity": 4,
        "expected_arrival": arrival,
    }
    transfer = _post(client, "/v1/transfers", body, "t-1").json()
    assert transfer["status"] == "in_transit"
    levels = {r["location_id"]: r for r in client.get("/v1/stock/TAG-2").json()}
    assert levels["WH-GB"]["on_hand"] == 6
    assert levels["LDN"]["in_transit"] == 4 and levels["LDN"]["on_hand"] == 0
    assert levels["LDN"]["next_arrival"] == "2026-11-29T10:00:00.000000Z"
    received = _post(client, f"/v1/transfers/{transfer['id']}/receive", {}, "t-1-in").json()
    assert received["status"] == "received"
    levels = {r["location_id"]: r for r in client.get("/v1/stock/TAG-2").json()}
    assert (levels["LDN"]["on_hand"], levels["LDN"]["in_transit"]) == (4, 0)
    assert levels["LDN"]["next_arrival"] is None
    twice = _post(client, f"/v1/transfers/{transfer['id']}/receive", {}, "t-1-again")
    assert twice.status_code == 409


def test_sourcing_then_reserving_the_chosen_plan(client: TestClient) -> None:
    order = {
        "lines": [{"sku": "BAG-1", "quantity": 3}, {"sku": "TAG-2", "quantity": 1}],
        "pickup_store": "LDN",
    }
    plans = client.post("/v1/sourcing/plans", json=order).json()["plans"]
    assert plans[0]["kind"] == "pickup_transfer"
    assert {(ln["sku"], ln["location_id"], ln["mode"]) for ln in plans[0]["lines"]} == {
        ("BAG-1", "LDN", "pickup"),
        ("TAG-2", "WH-GB", "transfer"),  # Daventry is nearer London than Manchester
    }
    chosen = {"lines": plans[0]["lines"], "reference": "order-9"}
    reserved = _post(client, "/v1/sourcing/reservations", chosen, "plan-9")
    assert reserved.status_code == 201 and reserved.json()["kind"] == "order"
    assert len(reserved.json()["lines"]) == 2
    shipped = {"lines": order["lines"], "destination": {"latitude": 53.4, "longitude": -2.2}}
    plans = client.post("/v1/sourcing/plans", json=shipped).json()["plans"]
    # Manchester is nearest but has 2 of the 3 bags: one parcel from the warehouse wins.
    assert plans[0]["kind"] == "ship_from_warehouse"
    assert plans[0]["explanation"].startswith("best plan")


def _lost_lock(store: Store) -> Exception:
    """The error the backend raises when a transaction loses a deadlock or a lock wait."""
    if store.dialect == "sqlite":
        return sqlite3.OperationalError("database is locked")
    import psycopg.errors

    return psycopg.errors.DeadlockDetected("deadlock detected")


def test_a_transaction_that_lost_a_lock_runs_again(store: Store) -> None:
    calls: list[int] = []

    def flaky(_: Store, fail: int, error: Exception) -> str:
        calls.append(1)
        if len(calls) <= fail:
            raise error
        return "done"

    assert run_again_if_transient(store, lambda s: flaky(s, 2, _lost_lock(store))) == "done"
    assert len(calls) == 3
    calls.clear()
    with pytest.raises(type(_lost_lock(store))):
        run_again_if_transient(store, lambda s: flaky(s, 5, _lost_lock(store)))
    assert len(calls) == 3
    calls.clear()
    with pytest.raises(ValueError):
        run_again_if_transient(store, lambda s: flaky(s, 1, ValueError("a bug")))
    assert len(calls) == 1


def test_the_server_builds_its_app_from_the_environment(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KENNING_DATABASE_URL", store_url)
    monkeypatch.setenv("KENNING_POOL_SIZE", "1")
    app = app_from_environment()
    assert app.state.settings.database_url == store_url
    with TestClient(app) as client:
        assert client.get("/openapi.json").json()["info"]["title"] == "Kenning"
        assert client.get("/v1/location-groups").status_code == 401


def test_hot_answers_are_written_with_the_declared_fields() -> None:
    # Availability and reservations write the service's data with orjson, as it is: it must
    # carry exactly the fields the OpenAPI document declares, in its order.
    assert list(AvailableAt.__annotations__) == list(AvailabilityRowPublic.model_fields)
    assert [f.name for f in fields(Reservation)] == list(ReservationPublic.model_fields)
    assert [f.name for f in fields(ReservationLine)] == list(ReservationLineCreate.model_fields)
