"""Sign-up under abuse: the limits count the mailbox (whatever spelling of it) and the
client, hold under concurrent requests on both backends, and a code that could not be
sent does not count."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from concurrent_clients import all_at_once
from kenning.api.app import create_app
from kenning.domain.refusals import Refusal
from kenning.profiles.codes import MAX_ATTEMPTS, MAX_CODES_PER_HOUR
from kenning.services import accounts
from kenning.services.keys import create_key
from kenning.services.mail import MailError
from kenning.settings import Settings
from kenning.store import Store

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
SETTINGS = accounts.AccountSettings(ttl_seconds=600)
# One Gmail mailbox, spelt as a forger would to get more codes for it.
SPELLINGS = [
    "theresa.whitfield@gmail.com",
    "Theresa.Whitfield+1@gmail.com",
    "theresawhitfield@gmail.com",
    "t.h.e.r.e.s.a.whitfield+shop@googlemail.com",
    "THERESA.WHITFIELD+2@GMAIL.COM",
    "theresa.w.hitfield@gmail.com",
    "theresawhit.field+x@googlemail.com",
]


def _quiet(to: str, subject: str, body: str) -> None:
    pass


def _start(store: Store, email: str, client: str | None = None) -> str:
    try:
        accounts.start(store, email, SETTINGS, NOW, _quiet, client=client)
        return "sent"
    except Refusal as refusal:
        return refusal.code


def test_tags_dots_and_case_share_one_mailbox_s_codes(store: Store) -> None:
    outcomes = [_start(store, email) for email in SPELLINGS]
    assert outcomes == ["sent"] * MAX_CODES_PER_HOUR + ["too_many_requests"] * 2


def test_tags_share_the_mailbox_at_providers_that_fold_them(store: Store) -> None:
    spellings = [f"zed.quill+{n}@fastmail.com" for n in range(MAX_CODES_PER_HOUR + 1)]
    outcomes = [_start(store, email) for email in spellings]
    assert outcomes[-1] == "too_many_requests"
    # Elsewhere a tag may be a mailbox of its own: only case is folded.
    assert _start(store, "zed.quill+1@example-shop.co.uk") == "sent"
    assert _start(store, "Zed.Quill@example-shop.co.uk") == "sent"


def test_one_client_is_rationed_across_addresses(store: Store) -> None:
    limited = accounts.AccountSettings(codes_per_client=3)

    def start(email: str, client: str) -> str:
        try:
            accounts.start(store, email, limited, NOW, _quiet, client=client)
            return "sent"
        except Refusal as refusal:
            return refusal.code

    mine = [start(f"someone.{n}@fastmail.co.uk", "203.0.113.7") for n in range(4)]
    assert mine == ["sent", "sent", "sent", "too_many_requests"]
    assert start("someone.9@fastmail.co.uk", "198.51.100.2") == "sent"  # another client


def test_the_client_limit_is_the_api_s_setting(store: Store, store_url: str) -> None:
    """The client is the shopper the shop's server asks for (its `client_ip`), not the
    shop's server itself: one shopper is rationed, the others are not held up by her."""
    settings = Settings(
        database_url=store_url,
        pool_size=2,
        follow_events=False,
        signup_codes_per_client=2,
    )
    app = create_app(settings, mail_sender=_quiet)
    _, secret = create_key(store, "tests", ["customers:write"])
    auth = {"Authorization": f"Bearer {secret}"}
    with TestClient(app, client=("203.0.113.7", 5000), headers=auth) as shop:

        def ask(email: str, client_ip: str | None) -> int:
            body = {"email": email, **({"client_ip": client_ip} if client_ip else {})}
            return shop.post("/v1/accounts", json=body).status_code

        codes = [ask(f"a.{n}@fastmail.co.uk", "198.51.100.2") for n in range(3)]
        assert codes == [200, 200, 429]
        refused = shop.post(
            "/v1/accounts", json={"email": "b@fastmail.co.uk", "client_ip": "198.51.100.2"}
        )
        assert refused.json()["code"] == "too_many_requests"
        assert ask("b@fastmail.co.uk", "2001:db8::7") == 200  # another shopper
        # The shop's own server is no client: its requests for many shoppers go on.
        assert [ask(f"c.{n}@fastmail.co.uk", None) for n in range(3)] == [200, 200, 200]
        bad = shop.post("/v1/accounts", json={"email": "d@fastmail.co.uk", "client_ip": "x"})
        assert bad.status_code == 422


def test_fifty_concurrent_requests_for_one_address_issue_five_codes(
    store: Store, store_url: str
) -> None:
    sent: list[str] = []
    lock = threading.Lock()

    def send(to: str, subject: str, body: str) -> None:
        with lock:
            sent.append(to)

    def request(own: Store) -> str:
        try:
            accounts.start(own, "Zed.Quill@fastmail.co.uk", SETTINGS, NOW, send)
            return "sent"
        except Refusal as refusal:
            return refusal.code

    outcomes = all_at_once(store_url, 50, request)
    assert outcomes.count("sent") == MAX_CODES_PER_HOUR
    assert outcomes.count("too_many_requests") == 50 - MAX_CODES_PER_HOUR
    assert len(sent) == MAX_CODES_PER_HOUR


def test_fifty_concurrent_wrong_guesses_are_checked_five_times(
    store: Store, store_url: str
) -> None:
    codes: list[str] = []
    started = accounts.start(
        store, "zed.quill@fastmail.co.uk", SETTINGS, NOW, lambda _, s, __: codes.append(s[-6:])
    )
    vid = started["verification_id"]
    wrong = "000000" if codes[0] != "000000" else "111111"

    def guess(own: Store) -> str:
        try:
            accounts.verify(own, vid, wrong, SETTINGS, NOW)
            return "verified"
        except Refusal as refusal:
            return refusal.code

    outcomes = all_at_once(store_url, 50, guess)
    assert outcomes.count("wrong_code") == MAX_ATTEMPTS
    assert outcomes.count("too_many_attempts") == 50 - MAX_ATTEMPTS
    found = store.verification(vid)
    assert found is not None and found.attempts == MAX_ATTEMPTS
    with pytest.raises(Refusal) as spent:
        accounts.verify(store, vid, codes[0], SETTINGS, NOW)
    assert spent.value.code == "too_many_attempts"


def test_a_code_verifies_once_under_concurrent_use(store: Store, store_url: str) -> None:
    codes: list[str] = []
    started = accounts.start(
        store, "zed.quill@fastmail.co.uk", SETTINGS, NOW, lambda _, s, __: codes.append(s[-6:])
    )

    def use(own: Store) -> str:
        try:
            accounts.verify(own, started["verification_id"], codes[0], SETTINGS, NOW)
            return "verified"
        except Refusal as refusal:
            return refusal.code

    outcomes = all_at_once(store_url, 20, use)
    assert outcomes.count("verified") == 1
    assert outcomes.count("verified") + outcomes.count("conflict") == 20


def test_a_failed_send_does_not_use_up_the_quota(store: Store) -> None:
    def broken(to: str, subject: str, body: str) -> None:
        raise MailError("the mail server is down")

    for _ in range(MAX_CODES_PER_HOUR + 2):
        with pytest.raises(MailError):
            accounts.start(store, "zed.quill@fastmail.co.uk", SETTINGS, NOW, broken)
    outcomes = [_start(store, "zed.quill@fastmail.co.uk") for _ in range(MAX_CODES_PER_HOUR + 1)]
    assert outcomes == ["sent"] * MAX_CODES_PER_HOUR + ["too_many_requests"]


def test_a_mail_server_that_is_down_is_a_503_and_costs_no_code(
    store: Store, store_url: str
) -> None:
    import socket

    with socket.socket() as s:  # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        dead = f"smtp://127.0.0.1:{s.getsockname()[1]}"
    settings = Settings(database_url=store_url, pool_size=2, follow_events=False, smtp_url=dead)
    _, secret = create_key(store, "tests", ["customers:write"])
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {secret}"}) as c:
        for _ in range(MAX_CODES_PER_HOUR + 1):
            down = c.post("/v1/accounts", json={"email": "zed.quill@fastmail.co.uk"})
            assert down.status_code == 503, down.text
            assert down.json()["code"] == "unavailable"
            assert "zed.quill" not in down.json()["message"]
    assert _start(store, "zed.quill@fastmail.co.uk") == "sent"
