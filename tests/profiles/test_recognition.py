"""Recognition on sign-up (no history before the e-mailed code is verified) and repair
updates, both through a real SMTP server."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from profiles_helpers import Inbox, theresa_keys

from kenning.domain.refusals import Refusal
from kenning.profiles.codes import MAX_ATTEMPTS, MAX_CODES_PER_HOUR
from kenning.services import accounts, customers
from kenning.services.follow import follow
from kenning.services.mail import deliver_mail
from kenning.services.matching import ModelCache
from kenning.services.sources import add_source
from kenning.store import Store

EMAIL = "theresa.whitfield@gmail.com"


def _code(inbox: Inbox, to: str) -> str:
    mail = [m for m in inbox.messages if m["To"] == to][-1]
    found = re.search(r"\b(\d{6})\b", str(mail["Subject"]))
    assert found
    return found.group(1)


def test_history_only_after_the_emailed_code(
    client: TestClient, smtp: tuple[str, Inbox], theresa: str
) -> None:
    _, inbox = smtp
    started = client.post("/v1/accounts", json={"email": EMAIL})
    assert started.status_code == 200, started.text
    assert set(started.json()) == {"verification_id", "expires_at"}  # nothing about her
    stranger = client.post("/v1/accounts", json={"email": "zed.quill@fastmail.co.uk"})
    assert set(stranger.json()) == set(started.json())  # known or not: the same answer
    code = _code(inbox, EMAIL)
    vid = started.json()["verification_id"]
    wrong = "000000" if code != "000000" else "111111"
    refused = client.post("/v1/accounts/verify", json={"verification_id": vid, "code": wrong})
    assert (refused.status_code, refused.json()["code"]) == (422, "wrong_code")
    assert set(refused.json()) == {"code", "message"}
    verified = client.post("/v1/accounts/verify", json={"verification_id": vid, "code": code})
    assert verified.status_code == 200, verified.text
    her = verified.json()
    assert her["known"] is True and her["customer_id"] == theresa
    assert her["greeting"].startswith("Hello Theresa, thanks for owning 4 suitcases, 3 laptop bags")
    assert len(her["owned"]) == 7
    assert any(a["postcode"] == "W11 2JD" for a in her["addresses"])
    assert her["favourite_stores"][0]["store_id"] == "S101"
    again = client.post("/v1/accounts/verify", json={"verification_id": vid, "code": code})
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    new = stranger.json()["verification_id"]
    new_code = _code(inbox, "zed.quill@fastmail.co.uk")
    newcomer = client.post("/v1/accounts/verify", json={"verification_id": new, "code": new_code})
    assert newcomer.json()["known"] is False and newcomer.json()["customer_id"] is None


def test_a_forged_web_record_does_not_open_her_history(
    client: TestClient, loaded: Store, smtp: tuple[str, Inbox], theresa: str
) -> None:
    """A browser's write key is anyone's: a record sent with it that copies her name,
    birth date and address, but carries the forger's e-mail, is not linked to her (what an
    untrusted source says is a claim until its e-mail is verified), and that e-mail is not
    hers to sign up with."""
    _, inbox = smtp
    _, web_key = add_source(loaded, "web-shop")
    records = customers.customer(loaded, theresa).records
    hers = {k: next((r[k] for r in records if r[k]), None) for k in records[0]}
    forged = {
        "firstName": hers["first_name"], "lastName": hers["last_name"],
        "birthday": hers["date_of_birth"], "phone": hers["phone"],
        "loyalty_id": hers["loyalty_id"],
        "address": {"postalCode": hers["postcode"], "city": hers["city"]},
        "email": "forger.x@fastmail.co.uk",
    }  # fmt: skip
    sent = client.post("/v1/identify", json={"userId": "forged-1", "traits": forged},
                       auth=(web_key, ""))  # fmt: skip
    assert sent.status_code == 200
    models = ModelCache()
    while follow(loaded, models).events:
        pass
    assert loaded.customer_of("web-shop", "forged-1") not in (None, theresa)
    started = client.post("/v1/accounts", json={"email": "forger.x@fastmail.co.uk"})
    vid = started.json()["verification_id"]
    code = _code(inbox, "forger.x@fastmail.co.uk")
    answer = client.post("/v1/accounts/verify", json={"verification_id": vid, "code": code})
    assert answer.json()["known"] is False and answer.json()["customer_id"] is None


def test_codes_expire_and_attempts_are_limited(loaded: Store, theresa: str) -> None:
    sent: list[str] = []
    settings = accounts.AccountSettings(ttl_seconds=60)
    now = datetime(2026, 11, 1, 12, tzinfo=UTC)

    def send(to: str, subject: str, body: str) -> None:
        sent.append(subject[-6:])

    first = accounts.start(loaded, EMAIL, settings, now, send)
    with pytest.raises(Refusal) as late:
        accounts.verify(loaded, first["verification_id"], sent[-1], settings, now + timedelta(61))
    assert late.value.code == "expired"
    second = accounts.start(loaded, EMAIL, settings, now, send)
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(Refusal):
            accounts.verify(loaded, second["verification_id"], "x", settings, now)
    with pytest.raises(Refusal) as blocked:
        accounts.verify(loaded, second["verification_id"], sent[-1], settings, now)
    assert blocked.value.code == "too_many_attempts"


def test_each_repair_status_emails_the_owner(
    client: TestClient, loaded: Store, smtp: tuple[str, Inbox], theresa: str, retailer: Path
) -> None:
    url, inbox = smtp
    registration = next(k for k in theresa_keys(retailer) if k[0] == "registrations")
    owned = loaded.registrations_of([registration])[0]
    # The repair desk's server: the registrations system, whose files were imported.
    _, key = add_source(loaded, "registrations", trusted=True, same_system=True)
    for n, status in enumerate(("received", "in_repair", "ready_for_pickup", "ready_for_pickup")):
        event = {"type": "track", "userId": registration[1], "event": "Repair Status Changed",
                 "timestamp": f"2026-11-0{2 + min(n, 2)}T10:00:00Z",
                 "properties": {"repair_id": "RP-NEW", "serial_number": owned[0],
                                "status": status, "store_id": "S101"}}  # fmt: skip
        assert client.post("/v1/track", json=event, auth=(key, "")).status_code == 200
    models = ModelCache()
    while follow(loaded, models).events:
        pass
    assert deliver_mail(loaded, url, "Kenning <repairs@example.org>") == 3  # a repeat is not news
    assert deliver_mail(loaded, url, "Kenning <repairs@example.org>") == 0
    mails = [m for m in inbox.messages if "repair" in str(m["Subject"]).lower()]
    assert [m["To"] for m in mails] == [EMAIL] * 3
    ready = bytes(mails[-1].get_payload(decode=True)).decode()
    assert "ready for pickup at London Regent Street" in ready
    p = client.get(f"/v1/customers/{theresa}/profile").json()
    mine = next(r for r in p["repairs"] if r["repair_id"] == "RP-NEW")
    assert (mine["status"], mine["open"]) == ("ready_for_pickup", True)


def test_codes_to_one_address_are_rationed(loaded: Store) -> None:
    settings = accounts.AccountSettings(ttl_seconds=600)
    now = datetime(2026, 11, 1, 12, tzinfo=UTC)
    for _ in range(MAX_CODES_PER_HOUR):
        accounts.start(loaded, "Zed.Quill@fastmail.co.uk", settings, now, lambda *_: None)
    with pytest.raises(Refusal) as stopped:
        accounts.start(loaded, "zed.quill@fastmail.co.uk", settings, now, lambda *_: None)
    assert stopped.value.code == "too_many_requests"
    later = now + timedelta(hours=1)
    assert accounts.start(loaded, "zed.quill@fastmail.co.uk", settings, later, lambda *_: None)
