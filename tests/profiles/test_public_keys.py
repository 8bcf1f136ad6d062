"""What a public write key can do: its events describe the visitor who sent them, never
someone else (README, "What a write key can do"). The reported attacks, each through an
untrusted source's key, and what a verified claim or a trusted source may still do."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from profiles_helpers import Inbox, theresa_keys

from kenning.api.profile_schemas import ProfilePublic
from kenning.ingest.rebuild import rebuild_records
from kenning.services import customers
from kenning.services.activity import import_activity
from kenning.services.follow import follow
from kenning.services.keys import hash_secret
from kenning.services.mail import deliver_mail
from kenning.services.matching import ModelCache
from kenning.services.sources import WRITE_KEY_PREFIX, add_source
from kenning.store import Store

EMAIL = "theresa.whitfield@gmail.com"
FORGED_ORDER = {
    "order_id": "FORGED-1", "currency": "GBP", "total": 100000.0,
    "products": [{"sku": "SC-ALD-55-GRA", "price": 100000.0, "quantity": 1}],
}  # fmt: skip


def _send(client: TestClient, key: str, path: str, body: dict[str, Any]) -> None:
    answer = client.post(path, json=body, auth=(key, ""))
    assert answer.status_code == 200, answer.text


def _follow(store: Store) -> None:
    models = ModelCache()
    while follow(store, models).events:
        pass


def _profile(client: TestClient, customer_id: str) -> dict[str, Any]:
    answer = client.get(f"/v1/customers/{customer_id}/profile")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert ProfilePublic.model_validate(body).model_dump() == body  # the declared shape
    return body


def _code(inbox: Inbox, to: str) -> str:
    mail = [m for m in inbox.messages if m["To"] == to][-1]
    found = re.search(r"\b(\d{6})\b", str(mail["Subject"]))
    assert found
    return found.group(1)


def test_a_forged_repair_status_moves_no_repair_and_mails_no_one(
    client: TestClient, loaded: Store, smtp: tuple[str, Inbox], theresa: str
) -> None:
    """Attack 1: with a web page's key, `Repair Status Changed` for her repair e-mailed
    her "ready for pickup"."""
    url, inbox = smtp
    repair_id = str(loaded.repairs_of(theresa)[0][0])
    trail = loaded.repair_events_of([repair_id])
    _, web_key = add_source(loaded, "web-shop")
    # The last a repair of the visitor's own making: hers to follow, yet no one is mailed.
    for repair, status in ((repair_id, "ready_for_pickup"), (repair_id, "collected"),
                           ("RP-MALLORY", "ready_for_pickup")):  # fmt: skip
        properties = {"repair_id": repair, "status": status, "store_id": "S101"}
        event = {"userId": "mallory", "event": "Repair Status Changed", "properties": properties}
        _send(client, web_key, "/v1/track", event)
    _follow(loaded)
    assert loaded.repair_events_of([repair_id]) == trail
    assert loaded.pending_mail() == []
    assert deliver_mail(loaded, url, "Kenning <repairs@example.org>") == 0
    assert inbox.messages == []
    assert [r[0] for r in loaded.repairs_of([("web-shop", "mallory")])] == ["RP-MALLORY"]
    assert {r["repair_id"] for r in _profile(client, theresa)["repairs"]} == {
        str(r[0]) for r in loaded.repairs_of(theresa)
    }


def test_a_claimed_email_joins_no_one_and_forged_orders_are_not_hers(
    client: TestClient, loaded: Store, smtp: tuple[str, Inbox], theresa: str
) -> None:
    """Attack 2: an identify with her e-mail joined her customer, and a forged order then
    raised her lifetime spend by £100,000. Until the visitor proves the address."""
    _, inbox = smtp
    before = _profile(client, theresa)["traits"]
    _, web_key = add_source(loaded, "web-shop")
    _send(client, web_key, "/v1/identify", {"userId": "m-1", "traits": {
        "email": EMAIL, "firstName": "Theresa", "phone": "+44 7911 123456"}})  # fmt: skip
    _send(client, web_key, "/v1/track", {
        "userId": "m-1", "event": "Order Completed", "properties": FORGED_ORDER})  # fmt: skip
    _follow(loaded)
    visitor = loaded.customer_of("web-shop", "m-1")
    assert visitor is not None and visitor != theresa
    assert customers.lookup(loaded, email=EMAIL).customer_id == theresa
    assert _profile(client, theresa)["traits"] == before
    # The visitor's own profile shows what she claims and sent, as unverified.
    hers = _profile(client, visitor)
    claims = (("email", EMAIL), ("first_name", "Theresa"), ("phone", "+44 7911 123456"))
    assert hers["unverified"] == [
        {"source": "web-shop", "record_id": "m-1", "field": field, "value": value,
         "verified": False} for field, value in claims
    ]  # fmt: skip
    assert hers["golden"] == {}
    assert [(o["order_id"], o["verified"]) for o in hers["recent_orders"]] == [
        ("FORGED-1", False)]  # fmt: skip
    assert hers["traits"]["orders"] == 0 and hers["traits"]["lifetime_spend"] == {}
    # Kept as she gave it, withheld from what matching reads, also when replayed from the log.
    for replayed in (False, True):
        if replayed:
            rebuild_records(loaded)
        claimed = loaded.get_record("web-shop", "m-1")
        assert claimed is not None and claimed.raw["email"] == EMAIL
        assert claimed.normalised["email"] is None

    # She signs up on the shop and enters the code sent to the address: the claim is proved.
    started = client.post("/v1/accounts", json={"email": EMAIL})
    vid = started.json()["verification_id"]
    proof = {"verification_id": vid, "code": _code(inbox, EMAIL)}
    half = client.post("/v1/accounts/verify", json={**proof, "source": "web-shop"})
    assert half.status_code == 422  # source and user_id come together
    unknown = client.post("/v1/accounts/verify", json={**proof, "source": "nope", "user_id": "m"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")  # code unspent
    verified = client.post(
        "/v1/accounts/verify", json={**proof, "source": "web-shop", "user_id": "m-1"}
    )
    assert verified.status_code == 200, verified.text
    _follow(loaded)
    assert loaded.customer_of("web-shop", "m-1") == theresa
    now = _profile(client, theresa)
    assert now["traits"]["orders"] == before["orders"] + 1
    assert now["recent_orders"][0]["order_id"] == "FORGED-1"
    assert now["recent_orders"][0]["verified"] is True
    # Her e-mail is proved; the name and phone she gave are still only her word.
    assert now["unverified"] == [
        {"source": "web-shop", "record_id": "m-1", "field": field, "value": value,
         "verified": False} for field, value in claims[1:]
    ]  # fmt: skip
    rebuild_records(loaded)
    proved = loaded.get_record("web-shop", "m-1")
    assert proved is not None and proved.normalised["email"] is not None


def test_a_trusted_source_still_links_on_an_email(
    client: TestClient, loaded: Store, theresa: str
) -> None:
    """A server-side system's events are vouched for: today's powers, unchanged."""
    before = _profile(client, theresa)["traits"]
    _, crm_key = add_source(loaded, "crm", trusted=True)
    _send(client, crm_key, "/v1/identify", {
        "userId": "c-1", "traits": {"email": EMAIL, "firstName": "Theresa"}})  # fmt: skip
    _send(client, crm_key, "/v1/track", {
        "userId": "c-1", "event": "Order Completed", "properties": FORGED_ORDER})  # fmt: skip
    _follow(loaded)
    assert loaded.customer_of("crm", "c-1") == theresa
    now = _profile(client, theresa)
    assert now["traits"]["orders"] == before["orders"] + 1
    assert now["recent_orders"][0]["verified"] is True


def test_a_public_key_cannot_rewrite_an_imported_record(
    client: TestClient, loaded: Store, theresa: str, retailer: Path
) -> None:
    """Attack 3: an identify with an imported account's user id, through a source
    named like the imported system, overwrote its e-mail, phone and postcode. Nor do its
    events speak for that record: no order, registration, e-mail event or repair."""
    web = next(k for k in theresa_keys(retailer) if k[0] == "loyalty")  # her account's
    stored = loaded.get_record(*web)
    assert stored is not None
    before = _profile(client, theresa)
    # A public key named like the system (as a store made before such names were refused,
    # or one declared the same system, has): made in the store, the way add_source does.
    web_key = WRITE_KEY_PREFIX + "forged-attack-three"
    assert loaded.add_source("loyalty", web_key[:12], hash_secret(web_key), trusted=False)
    _send(client, web_key, "/v1/page", {"anonymousId": "v-9", "name": "Bags"})
    _send(client, web_key, "/v1/identify", {"userId": web[1], "anonymousId": "v-9", "traits": {
        "email": "mallory@fastmail.co.uk", "phone": "+44 7700 900999",
        "address": {"postalCode": "EH1 1YZ", "city": "Edinburgh"}}})  # fmt: skip
    for event, properties in (
        ("Order Completed", FORGED_ORDER),
        ("Product Registered", {"serial_number": "SC-FORGED-1", "sku": "SC-ALD-55-GRA"}),
        ("Email Opened", {"campaign_id": "CMP-FORGED"}),
        ("Repair Status Changed", {"repair_id": str(loaded.repairs_of(theresa)[0][0]),
                                   "status": "collected"}),
    ):  # fmt: skip
        _send(client, web_key, "/v1/track",
              {"userId": web[1], "event": event, "properties": properties})  # fmt: skip
    _follow(loaded)
    assert loaded.get_record(*web) == stored
    assert loaded.customer_of(*web) == theresa
    after = _profile(client, theresa)
    assert after == before
    assert loaded.anonymous_record("loyalty", "v-9") is None


def test_a_public_key_cannot_take_or_refund_anothers_order(
    client: TestClient, loaded: Store, theresa: str
) -> None:
    """An order id is no secret either: a public key's events change no order another
    record placed."""
    before = _profile(client, theresa)
    order_id = before["recent_orders"][0]["order_id"]
    _, web_key = add_source(loaded, "web-shop")
    products = [{"sku": "SC-ALD-55-GRA", "price": 900.0, "quantity": 1} for _ in range(9)]
    for event, properties in (
        ("Order Completed", {"order_id": order_id, "products": products}),
        ("Order Refunded", {"order_id": order_id, "total": 500.0}),
    ):
        _send(client, web_key, "/v1/track",
              {"userId": "m-2", "event": event, "properties": properties})  # fmt: skip
    _follow(loaded)
    after = _profile(client, theresa)
    assert after["recent_orders"] == before["recent_orders"]
    assert after["traits"] == before["traits"]


def _squat(client: TestClient, key: str, user: str) -> None:
    """A public key names the next order and repair ids before the till and desk do."""
    for event, properties in (
        ("Repair Received", {"repair_id": "RP-NEXT", "serial_number": "SC-M-1",
                             "status": "received", "store_id": "S101"}),
        ("Repair Status Changed", {"repair_id": "RP-NEXT", "status": "ready_for_pickup",
                                   "store_id": "S101"}),
        ("Order Completed", {**FORGED_ORDER, "order_id": "ORD-NEXT"}),
    ):  # fmt: skip
        _send(client, key, "/v1/track", {"userId": user, "event": event, "properties": properties})


def _real(client: TestClient, key: str) -> None:
    """The till and repair desk (trusted) send Theresa's order and repair under those ids."""
    _send(client, key, "/v1/identify", {"userId": "c-1", "traits": {"email": EMAIL}})
    order = {"order_id": "ORD-NEXT", "currency": "GBP", "total": 25.0,
             "products": [{"sku": "SC-ALD-55-GRA", "price": 12.5, "quantity": 2}]}  # fmt: skip
    for event, properties in (
        ("Order Completed", order),
        ("Repair Received", {"repair_id": "RP-NEXT", "serial_number": "SC-T-1",
                             "status": "received", "store_id": "S101"}),
    ):  # fmt: skip
        _send(client, key, "/v1/track", {"userId": "c-1", "event": event, "properties": properties})


def _taken_over(client: TestClient, loaded: Store, theresa: str, before: dict[str, Any],
                smtp: tuple[str, Inbox]) -> None:  # fmt: skip
    url, inbox = smtp
    assert loaded.customer_of("crm", "c-1") == theresa
    assert loaded.order_keys(["ORD-NEXT"]) == {"ORD-NEXT": ("crm", "c-1")}
    assert [r[2:5] for r in loaded.lines_of(["ORD-NEXT"])] == [("SC-ALD-55-GRA", 2, 1250)]
    assert loaded.unvouched_orders(["ORD-NEXT"]) == set()
    now = _profile(client, theresa)
    assert now["traits"]["orders"] == before["orders"] + 1
    order = next(o for o in now["recent_orders"] if o["order_id"] == "ORD-NEXT")
    assert order["verified"] is True
    repair = loaded.repair("RP-NEXT")
    assert repair is not None and (repair[1], repair[2], repair[3]) == ("SCT1", "crm", "c-1")
    assert [e[1] for e in loaded.repair_events_of(["RP-NEXT"])] == ["received"]
    assert "RP-NEXT" in {r["repair_id"] for r in now["repairs"]}
    assert deliver_mail(loaded, url, "Kenning <repairs@example.org>") == 1
    assert [m["To"] for m in inbox.messages] == [EMAIL]
    assert "RP-NEXT" in str(inbox.messages[0].get_payload())


def test_a_trusted_source_takes_over_ids_a_public_key_squatted(
    client: TestClient, loaded: Store, smtp: tuple[str, Inbox], theresa: str
) -> None:
    """Mallory's key names the next order and repair ids first; the till's and desk's
    events for Theresa under those ids then take them over, in a later run."""
    before = _profile(client, theresa)["traits"]
    _, web_key = add_source(loaded, "web-shop")
    _, crm_key = add_source(loaded, "crm", trusted=True)
    _squat(client, web_key, "m-3")
    _follow(loaded)
    assert loaded.order_keys(["ORD-NEXT"]) == {"ORD-NEXT": ("web-shop", "m-3")}
    _real(client, crm_key)
    _follow(loaded)
    _taken_over(client, loaded, theresa, before, smtp)
    assert loaded.repairs_of([("web-shop", "m-3")]) == []
    assert loaded.orders_of([("web-shop", "m-3")]) == []


def test_a_trusted_source_takes_over_ids_squatted_in_the_same_run(
    client: TestClient, loaded: Store, smtp: tuple[str, Inbox], theresa: str
) -> None:
    """The same, when the follower applies the squatter's and the till's events together."""
    before = _profile(client, theresa)["traits"]
    _, web_key = add_source(loaded, "web-shop")
    _, crm_key = add_source(loaded, "crm", trusted=True)
    _squat(client, web_key, "m-3")
    _real(client, crm_key)
    _follow(loaded)
    _taken_over(client, loaded, theresa, before, smtp)


def test_a_public_key_cannot_take_over_a_trusted_order_or_repair(
    client: TestClient, loaded: Store, smtp: tuple[str, Inbox], theresa: str
) -> None:
    """The other way round is refused: the till's order and the desk's repair stay hers."""
    before = _profile(client, theresa)["traits"]
    _, web_key = add_source(loaded, "web-shop")
    _, crm_key = add_source(loaded, "crm", trusted=True)
    _real(client, crm_key)
    _follow(loaded)
    _squat(client, web_key, "m-3")
    _follow(loaded)
    _taken_over(client, loaded, theresa, before, smtp)


def test_an_activity_import_takes_over_ids_a_public_key_squatted(
    client: TestClient, loaded: Store, theresa: str, retailer: Path, tmp_path: Path
) -> None:
    """A file is the retailer's word too: its order and repair under a squatted id win."""
    before = _profile(client, theresa)["traits"]
    _, web_key = add_source(loaded, "web-shop")
    _squat(client, web_key, "m-3")
    _follow(loaded)
    source, record_id = theresa_keys(retailer)[0]
    files = {
        "orders": "order_id,source,record_id,channel,store_id,associate_id,ordered_at,"
        f"currency,total\nORD-NEXT,{source},{record_id},pos,S101,,2026-12-01T10:00:00Z,GBP,25.00",
        "order_lines": "order_id,line_no,sku,quantity,unit_price,serial_number\n"
        "ORD-NEXT,1,SC-ALD-55-GRA,2,12.50,",
        "repairs": "repair_id,serial_number,source,record_id,store_id,received_at\n"
        f"RP-NEXT,SC-T-1,{source},{record_id},S101,2026-12-01T10:00:00Z",
        "repair_events": "repair_id,status,at,store_id\nRP-NEXT,received,2026-12-01T10:00:00Z,S101",
    }
    (tmp_path / "activity").mkdir()
    for name, text in files.items():
        (tmp_path / "activity" / f"{name}.csv").write_text(text + "\n", encoding="utf-8")
    import_activity(loaded, tmp_path)
    assert loaded.order_keys(["ORD-NEXT"]) == {"ORD-NEXT": (source, record_id)}
    assert [r[2:5] for r in loaded.lines_of(["ORD-NEXT"])] == [("SC-ALD-55-GRA", 2, 1250)]
    assert loaded.unvouched_orders(["ORD-NEXT"]) == set()
    assert _profile(client, theresa)["traits"]["orders"] == before["orders"] + 1
    repair = loaded.repair("RP-NEXT")
    assert repair is not None and (repair[2], repair[3]) == (source, record_id)
    assert [e[1] for e in loaded.repair_events_of(["RP-NEXT"])] == ["received"]


MALLORY = "mallory@fastmail.co.uk"


def _prove(client: TestClient, inbox: Inbox, email: str, user_id: str) -> None:
    """The visitor ``user_id`` of web-shop signs up with ``email`` and enters its code."""
    vid = client.post("/v1/accounts", json={"email": email}).json()["verification_id"]
    proof = {"verification_id": vid, "code": _code(inbox, email)}
    answer = client.post(
        "/v1/accounts/verify", json={**proof, "source": "web-shop", "user_id": user_id}
    )
    assert answer.status_code == 200, answer.text


def test_a_verified_email_makes_no_other_claim_evidence(
    client: TestClient, loaded: Store, smtp: tuple[str, Inbox], theresa: str, retailer: Path
) -> None:
    """Mallory proves her own address for her visitor, then identifies it with her e-mail
    and everything else of Theresa's: only the proved e-mail may count, so she joins no
    one, and her word on when she wrote makes nothing of hers the most recent."""
    before = _profile(client, theresa)
    theirs: dict[str, Any] = {}
    for record in loaded.get_records(theresa_keys(retailer)):
        theirs.update({k: v for k, v in record.raw.items() if v not in (None, "")})
    names = ("first_name", "last_name", "date_of_birth", "postcode", "loyalty_id",
             "serial_number")  # fmt: skip
    traits = {name: theirs[name] for name in names if name in theirs}
    assert {"first_name", "last_name", "postcode", "loyalty_id"} <= set(traits)
    _, web_key = add_source(loaded, "web-shop")
    _send(client, web_key, "/v1/identify", {"userId": "m-2", "traits": {"email": MALLORY}})
    _follow(loaded)
    _prove(client, smtp[1], MALLORY, "m-2")
    _follow(loaded)
    _send(client, web_key, "/v1/identify", {"userId": "m-2", "traits": {
        **traits, "email": MALLORY, "updatedAt": "2099-01-01T00:00:00Z"}})  # fmt: skip
    _send(client, web_key, "/v1/track", {
        "userId": "m-2", "event": "Order Completed", "properties": FORGED_ORDER})  # fmt: skip
    _follow(loaded)
    assert loaded.customer_of("web-shop", "m-2") != theresa
    after = _profile(client, theresa)
    assert after["golden"] == before["golden"]
    assert after["traits"] == before["traits"]
    mine = loaded.get_record("web-shop", "m-2")
    assert mine is not None and mine.normalised["email"] is not None
    evidence = {n for n, v in mine.normalised.items() if v is not None}
    assert evidence == {"email", "updated_at"}
    assert not str(mine.normalised["updated_at"]).startswith("2099")


def test_verifying_an_email_proves_no_record_that_does_not_claim_it(
    client: TestClient, loaded: Store, smtp: tuple[str, Inbox], theresa: str
) -> None:
    """A proof of her own address puts it on no record that claims another (or none)."""
    _, web_key = add_source(loaded, "web-shop")
    _send(client, web_key, "/v1/identify", {"userId": "m-3", "traits": {"email": EMAIL}})
    _send(client, web_key, "/v1/identify", {"userId": "m-4", "traits": {"firstName": "T"}})
    _follow(loaded)
    keys = [("web-shop", "m-3"), ("web-shop", "m-4")]
    stored = loaded.get_records(keys)
    for user in ("m-3", "m-4", "m-5"):
        _prove(client, smtp[1], MALLORY, user)
    _follow(loaded)
    assert loaded.verified_claims([*keys, ("web-shop", "m-5")]) == {}
    assert loaded.get_records(keys) == stored
    assert loaded.get_record("web-shop", "m-5") is None
    assert loaded.customer_of("web-shop", "m-3") != theresa


def test_an_order_stops_counting_once_the_verified_email_is_changed(
    client: TestClient, loaded: Store, smtp: tuple[str, Inbox]
) -> None:
    """An untrusted source's order is hers while her record holds the e-mail she proved."""
    _, web_key = add_source(loaded, "web-shop")
    _send(client, web_key, "/v1/identify", {"userId": "m-6", "traits": {"email": MALLORY}})
    _follow(loaded)
    _prove(client, smtp[1], MALLORY, "m-6")
    _send(client, web_key, "/v1/track", {
        "userId": "m-6", "event": "Order Completed", "properties": FORGED_ORDER})  # fmt: skip
    _follow(loaded)
    customer = loaded.customer_of("web-shop", "m-6")
    assert customer is not None
    assert [o["verified"] for o in _profile(client, customer)["recent_orders"]] == [True]
    _send(client, web_key, "/v1/identify", {"userId": "m-6", "traits": {"email": EMAIL}})
    _follow(loaded)
    customer = loaded.customer_of("web-shop", "m-6")
    assert customer is not None
    hers = _profile(client, customer)
    assert [o["verified"] for o in hers["recent_orders"]] == [False]
    assert hers["traits"]["orders"] == 0
