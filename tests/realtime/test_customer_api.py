"""Who is this? The customer API by id and identifier, events, the change feed, and
manual links and unlinks that take effect at once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient

from kenning.api.app import create_app
from kenning.api.customer_schemas import CustomerPublic
from kenning.services.follow import follow
from kenning.services.identity import MODEL_NAME
from kenning.services.keys import create_key, revoke_key
from kenning.services.matching import ModelCache
from kenning.services.sources import add_source
from kenning.settings import Settings
from kenning.store import Store, open_store

ANN = {"firstName": "Ann", "lastName": "Leigh", "email": "the.leighs@fastmail.co.uk",
       "birthday": "1971-03-04", "address": {"street": "4 Mill Lane", "postalCode": "M1 4BT",
                                             "country": "GB"}}  # fmt: skip
BOB = {**ANN, "firstName": "Robert", "birthday": "1969-11-30"}


@pytest.fixture
def shop(store: Store, app_client: TestClient, batch_retailer: Path) -> dict[str, Any]:
    """A trained store with two server-side (trusted) sources; returns their write keys.
    What a public key's events may do is tested in test_trust.py."""
    with open_store(f"sqlite:///{batch_retailer / 'batch.db'}") as batch:
        model = batch.load_model(MODEL_NAME)
    assert model is not None
    store.save_model(MODEL_NAME, model)
    return {name: add_source(store, name, trusted=True)[1] for name in ("web", "pos")}


def _send(client: TestClient, store: Store, key: str, path: str, body: dict[str, Any]) -> None:
    assert client.post(path, json=body, auth=(key, "")).status_code == 200
    models = ModelCache()
    while follow(store, models).events:
        pass


def test_lookup_by_each_identifier(
    app_client: TestClient, store: Store, shop: dict[str, Any]
) -> None:
    _send(app_client, store, shop["web"], "/v1/identify", {
        "userId": "w-1", "anonymousId": "anon-1",
        "traits": {**ANN, "phone": "+44 7700 900123", "loyalty_id": "LOY-1"}})  # fmt: skip
    _send(app_client, store, shop["pos"], "/v1/identify", {
        "userId": "p-1", "traits": {**ANN, "serial_number": "SN-12345678"}})  # fmt: skip
    by_id = app_client.get("/v1/customers/lookup", params={"user_id": "w-1", "source": "web"})
    assert by_id.status_code == 200, by_id.text
    customer = by_id.json()
    # Written straight to JSON: the shape must stay the declared model's.
    assert CustomerPublic.model_validate(customer).model_dump() == customer
    assert {(r["source"], r["record_id"]) for r in customer["records"]} == {
        ("web", "w-1"), ("pos", "p-1")}  # fmt: skip
    for params in (
        {"email": "The.Leighs@FastMail.co.uk"},
        {"phone": "07700 900123", "country": "GB"},
        {"loyalty_id": "loy-1"},
        {"serial_number": "SN-12345678"},
        {"anonymous_id": "anon-1"},
        {"source": "pos", "record_id": "p-1"},
    ):
        answer = app_client.get("/v1/customers/lookup", params=params)
        assert answer.status_code == 200, (params, answer.text)
        assert answer.json()["customer_id"] == customer["customer_id"]
    same = app_client.get(f"/v1/customers/{customer['customer_id']}")
    assert same.json() == customer
    missing = app_client.get("/v1/customers/lookup", params={"email": "zed.quill@fastmail.co.uk"})
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    two = app_client.get("/v1/customers/lookup", params={"email": "x@y.co", "phone": "1"})
    assert (two.status_code, two.json()["code"]) == (422, "invalid")


def test_a_shared_family_email_is_ambiguous_not_a_guess(
    app_client: TestClient, store: Store, shop: dict[str, Any]
) -> None:
    _send(app_client, store, shop["web"], "/v1/identify", {"userId": "ann", "traits": ANN})
    _send(app_client, store, shop["web"], "/v1/identify", {"userId": "bob", "traits": BOB})
    answer = app_client.get("/v1/customers/lookup", params={"email": ANN["email"]})
    assert (answer.status_code, answer.json()["code"]) == (409, "ambiguous")


def test_every_lookup_checks_its_key(
    app_client: TestClient, store: Store, shop: dict[str, Any]
) -> None:
    """Reads answered without a thread hop still check the key each time: a revoked key is
    refused on its next request, a key without the scope is forbidden."""
    _send(app_client, store, shop["web"], "/v1/identify", {"userId": "ann", "traits": ANN})
    key, secret = create_key(store, "till", ["customers:read"])
    _, stock_only = create_key(store, "stock", ["inventory:read"])
    ask = {"email": ANN["email"]}

    def lookup(secret: str | None) -> tuple[int, str | None]:
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        app_client.headers.pop("Authorization", None)
        answer = app_client.get("/v1/customers/lookup", params=ask, headers=headers)
        return answer.status_code, answer.json().get("code")

    assert lookup(secret) == (200, None)
    assert lookup(stock_only) == (403, "forbidden")
    assert lookup(None) == (401, "unauthorized")
    assert lookup("kn_sk_not-a-key") == (401, "unauthorized")
    assert revoke_key(store, key.id)
    assert lookup(secret) == (401, "unauthorized")


def test_the_lookup_query_is_documented_as_declared_parameters(app_client: TestClient) -> None:
    """The route reads its query itself; OpenAPI must still say what FastAPI says of the
    same parameters declared in a signature."""
    reference = FastAPI()

    @reference.get("/lookup")
    async def lookup(
        email: str | None = None,
        phone: str | None = None,
        loyalty_id: str | None = None,
        serial_number: str | None = None,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        source: str | None = None,
        record_id: str | None = None,
        country: Annotated[
            str | None, Query(description="Country of a national phone number")
        ] = None,
    ) -> None: ...

    expected = reference.openapi()["paths"]["/lookup"]["get"]
    ours = app_client.get("/openapi.json").json()["paths"]["/v1/customers/lookup"]["get"]
    assert ours["parameters"] == expected["parameters"]
    # Errors are answered as {code, message} (api/errors.py), and documented so.
    error = {"$ref": "#/components/schemas/ErrorPublic"}
    assert ours["responses"]["422"]["content"]["application/json"]["schema"] == error


def test_events_pages_and_anonymous_browsing_joins(
    app_client: TestClient, store: Store, shop: dict[str, Any]
) -> None:
    for i in range(5):
        _send(app_client, store, shop["web"], "/v1/page",
              {"anonymousId": "visitor", "name": f"page {i}"})  # fmt: skip
    _send(app_client, store, shop["web"], "/v1/identify",
          {"userId": "w-9", "anonymousId": "visitor", "traits": ANN})  # fmt: skip
    customer = app_client.get("/v1/customers/lookup", params={"user_id": "w-9"}).json()
    seen: list[int] = []
    before = None
    while True:
        params = {"limit": 4} | ({"before": before} if before else {})
        page = app_client.get(f"/v1/customers/{customer['customer_id']}/events", params=params)
        assert page.status_code == 200
        seen += [e["seq"] for e in page.json()["events"] if e["kind"].startswith("segment.")]
        before = page.json()["next_before"]
        if before is None:
            break
    assert len(seen) == 6 and seen == sorted(seen, reverse=True)


def test_links_and_unlinks_apply_at_once_and_feed_the_changes(
    app_client: TestClient, store: Store, shop: dict[str, Any]
) -> None:
    _send(app_client, store, shop["web"], "/v1/identify", {"userId": "ann", "traits": ANN})
    _send(app_client, store, shop["pos"], "/v1/identify",
          {"userId": "r-7", "traits": {"name": "A. Smith", "postcode": "EH1 1YZ"}})  # fmt: skip
    pair = {"a": {"source": "web", "record_id": "ann"}, "b": {"source": "pos", "record_id": "r-7"},
            "reason": "same shopper, confirmed at the till"}  # fmt: skip
    linked = app_client.post("/v1/identity/links", json=pair)
    assert linked.status_code == 200, linked.text
    ids = {c["customer_id"] for c in linked.json()["customers"]}
    assert len(ids) == 1
    changes = app_client.get("/v1/identity/changes").json()
    assert [c["kind"] for c in changes["changes"]] == ["merge"]
    unlinked = app_client.post("/v1/identity/unlinks", json=pair)
    assert unlinked.status_code == 200
    assert len({c["customer_id"] for c in unlinked.json()["customers"]}) == 2
    following = app_client.get("/v1/identity/changes", params={"since": changes["next_since"]})
    assert [c["kind"] for c in following.json()["changes"]] == ["split"]
    # A key that may only read cannot correct identities.
    _, reader = create_key(store, "reader", ["customers:read"])
    refused = app_client.post(
        "/v1/identity/links", json=pair, headers={"Authorization": f"Bearer {reader}"}
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert app_client.get("/openapi.json").json()["paths"]["/v1/customers/lookup"]


def test_an_alias_from_a_write_key_joins_browsing_not_people(
    app_client: TestClient, store: Store, shop: dict[str, Any]
) -> None:
    _send(app_client, store, shop["web"], "/v1/identify", {"userId": "ann", "traits": ANN})
    mallory = {"userId": "mallory", "traits": {"name": "Mallory Brown", "postcode": "EH1 1YZ"}}
    _send(app_client, store, shop["web"], "/v1/identify", mallory)
    _send(app_client, store, shop["web"], "/v1/page", {"anonymousId": "browser-9", "name": "Bags"})
    _send(app_client, store, shop["web"], "/v1/alias", {"previousId": "ann", "userId": "mallory"})
    _send(app_client, store, shop["web"], "/v1/alias",
          {"previousId": "browser-9", "userId": "mallory"})  # fmt: skip
    ann = app_client.get("/v1/customers/lookup", params={"user_id": "ann"}).json()
    found = app_client.get("/v1/customers/lookup", params={"user_id": "mallory"}).json()
    assert ann["customer_id"] != found["customer_id"]
    assert found["anonymous_ids"] == [{"source": "web", "anonymous_id": "browser-9"}]


def test_a_user_known_only_by_her_events_is_a_customer(
    app_client: TestClient, store: Store, shop: dict[str, Any]
) -> None:
    _send(app_client, store, shop["web"], "/v1/track", {"userId": "w-5", "event": "Cart Viewed"})
    found = app_client.get("/v1/customers/lookup", params={"user_id": "w-5", "source": "web"})
    assert found.status_code == 200
    events = app_client.get(f"/v1/customers/{found.json()['customer_id']}/events").json()
    assert [e["payload"]["event"] for e in events["events"]] == ["Cart Viewed"]


def test_markets_read_a_number_that_names_no_country(
    app_client: TestClient, store: Store, store_url: str, shop: dict[str, Any]
) -> None:
    """A till sends a national number and no country: with the retailer's markets the
    follower reads it as the one market it fits, and so does a lookup by it."""
    markets = Settings(database_url=store_url, pool_size=2, follow_events=False, markets="GB,US")
    _, secret = create_key(store, "markets", ["customers:read"])
    body = {"userId": "till-9", "traits": {"firstName": "Mo", "lastName": "Ashe",
                                            "phone": "07911 123456"}}  # fmt: skip
    assert app_client.post("/v1/identify", json=body, auth=(shop["pos"], "")).status_code == 200
    while follow(store, ModelCache(), markets=markets.market_codes).events:
        pass
    asked = {"phone": "07911 123456"}
    refused = app_client.get("/v1/customers/lookup", params=asked)
    assert (refused.status_code, refused.json()["code"]) == (422, "invalid")  # no markets
    with TestClient(create_app(markets)) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        answer = client.get("/v1/customers/lookup", params=asked)
    assert answer.status_code == 200
    assert answer.json()["identifiers"]["phones"] == ["+447911123456"], answer.json()
