"""Mail from the outbox is sent once by one of several senders, through a real SMTP server,
over STARTTLS when offered or implicit TLS (smtps://), and no log names a recipient."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from profiles_helpers import Inbox

from concurrent_clients import all_at_once
from kenning.services.follow import follow_and_mail
from kenning.services.mail import MailError, deliver_mail, send_mail
from kenning.services.matching import ModelCache
from kenning.settings import Settings
from kenning.store import Store

FROM = "Kenning <repairs@example.org>"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OverlappingInbox(Inbox):
    """Holds the first message until a second sender's message arrives (for a few seconds
    at most), so that two senders are surely sending at the same time."""

    def __init__(self) -> None:
        super().__init__()
        self.second = asyncio.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.messages) == 1:
            with suppress(TimeoutError):
                await asyncio.wait_for(self.second.wait(), timeout=5)
        else:
            self.second.set()
        return answer


class RefusingInbox(Inbox):
    """Refuses the recipients in ``refused``."""

    def __init__(self, *refused: str) -> None:
        super().__init__()
        self.refused = set(refused)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refused:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@contextmanager
def _serve(handler: Any, **tls: Any) -> Iterator[str]:
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **tls)
    controller.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        controller.stop()


def _queue(store: Store, n: int) -> None:
    at = "2026-11-02T10:00:00+00:00"
    with store.transaction():
        for i in range(n):
            store.queue_mail(f"repair:R{i}:ready:{at}", f"owner.{i}@fastmail.co.uk",
                             f"Your repair R{i}: ready", "Ready for pickup.", at)  # fmt: skip


def test_two_followers_send_each_queued_mail_once(store: Store, store_url: str) -> None:
    inbox = OverlappingInbox()
    with _serve(inbox) as where:
        url = f"smtp://{where}"
        _queue(store, 12)
        settings = Settings(database_url=store_url, smtp_url=url, mail_from=FROM)
        all_at_once(store_url, 2, lambda own: follow_and_mail(own, ModelCache(), settings))
        assert deliver_mail(store, url, FROM) == 0  # nothing left
    delivered = Counter(str(m["Subject"]) for m in inbox.messages)
    assert len(delivered) == 12
    assert set(delivered.values()) == {1}


def test_many_senders_at_once_send_each_mail_once(store: Store, store_url: str) -> None:
    inbox = Inbox()
    with _serve(inbox) as where:
        _queue(store, 30)
        sent = all_at_once(store_url, 6, lambda own: deliver_mail(own, f"smtp://{where}", FROM))
    assert sum(sent) == 30
    assert sorted(Counter(str(m["Subject"]) for m in inbox.messages).values()) == [1] * 30


def test_a_crashed_sender_s_claim_expires(store: Store) -> None:
    inbox = Inbox()
    with _serve(inbox) as where:
        url = f"smtp://{where}"
        _queue(store, 2)
        now = datetime.now(UTC).isoformat()
        with store.transaction():  # a sender claims both, then dies
            for _ in range(2):
                assert store.claim_mail("dead", now, now)
        assert deliver_mail(store, url, FROM) == 0  # still theirs
        assert deliver_mail(store, url, FROM, claim_seconds=0) == 2  # long enough: taken over
    assert len(inbox.messages) == 2


def test_a_refused_recipient_holds_up_no_other_mail_and_no_log_names_her(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = RefusingInbox("owner.0@fastmail.co.uk")
    with _serve(inbox) as where, caplog.at_level(logging.DEBUG):
        url = f"smtp://{where}"
        _queue(store, 3)
        assert deliver_mail(store, url, FROM) == 2  # the others went
        assert deliver_mail(store, url, FROM) == 0  # the refused one waits a while
        inbox.refused.clear()
        assert deliver_mail(store, url, FROM, claim_seconds=0) == 1  # then is tried again
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("kenning"))
    assert "refused" in ours  # (the test's SMTP server logs her address: not ours)
    assert "owner.0" not in ours and "fastmail" not in ours
    assert sorted(m["To"] for m in inbox.messages)[0] == "owner.0@fastmail.co.uk"


def test_mail_waits_while_the_server_is_down(
    store: Store, store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    port = _free_port()
    url = f"smtp://127.0.0.1:{port}"
    _queue(store, 2)
    with pytest.raises(MailError) as failed:
        deliver_mail(store, url, FROM)
    assert "owner" not in str(failed.value)
    settings = Settings(database_url=store_url, smtp_url=url, mail_from=FROM)
    with caplog.at_level(logging.WARNING, logger="kenning"):
        follow_and_mail(store, ModelCache(), settings)  # logs, does not fail
    assert "mail not sent" in caplog.text and "owner" not in caplog.text
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert deliver_mail(store, url, FROM) == 2  # given back, not lost
    finally:
        controller.stop()
    assert len(inbox.messages) == 2


# ----------------------------------------------------------------- TLS
@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture(scope="module")
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    """A client that trusts the test's own certificate authority, and verifies as usual."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def _mail(url: str, tls: ssl.SSLContext | None = None) -> None:
    send_mail(url, FROM, "zed.quill@fastmail.co.uk", "Your code: 123456", "123456", tls=tls)


def test_smtp_uses_starttls_when_offered(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    inbox = Inbox()
    with _serve(inbox, tls_context=server_tls, require_starttls=True) as where:
        _mail(f"smtp://{where}", client_tls)
    assert [m["To"] for m in inbox.messages] == ["zed.quill@fastmail.co.uk"]


def test_smtp_without_starttls_still_sends() -> None:
    inbox = Inbox()
    with _serve(inbox) as where:
        _mail(f"smtp://{where}")
    assert len(inbox.messages) == 1


def test_smtps_is_implicit_tls(server_tls: ssl.SSLContext, client_tls: ssl.SSLContext) -> None:
    inbox = Inbox()
    with _serve(inbox, ssl_context=server_tls) as where:
        _mail(f"smtps://{where}", client_tls)
    assert len(inbox.messages) == 1


def test_certificates_are_verified_by_default(server_tls: ssl.SSLContext) -> None:
    inbox = Inbox()
    with (
        _serve(inbox, tls_context=server_tls, require_starttls=True) as starttls,
        _serve(inbox, ssl_context=server_tls) as implicit,
    ):
        for url in (f"smtp://{starttls}", f"smtps://{implicit}"):
            with pytest.raises(MailError) as refused:
                _mail(url)
            assert "zed.quill" not in str(refused.value)
    assert inbox.messages == []


def test_a_password_is_never_sent_in_clear() -> None:
    with _serve(Inbox()) as where, pytest.raises(MailError) as refused:
        _mail(f"smtp://kenning:secret@{where}")
    assert "STARTTLS" in str(refused.value)


def test_the_operator_names_a_private_authority_with_ssl_cert_file(
    ca: trustme.CA,
    server_tls: ssl.SSLContext,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    inbox = Inbox()
    with _serve(inbox, tls_context=server_tls, require_starttls=True) as where:
        _mail(f"smtp://{where}")
    assert len(inbox.messages) == 1


class RejectingInbox(Inbox):
    """Rejects for good (554 at DATA) every message whose subject holds ``rejected``."""

    def __init__(self, rejected: str) -> None:
        super().__init__()
        self.rejected = rejected

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.rejected.encode() in envelope.content:
            return "554 5.7.1 message rejected as spam"
        return await super().handle_DATA(server, session, envelope)


def test_a_message_rejected_for_good_holds_up_no_other_mail(store: Store) -> None:
    inbox = RejectingInbox("Your repair R0:")
    with _serve(inbox) as where:
        url = f"smtp://{where}"
        _queue(store, 3)
        assert deliver_mail(store, url, FROM) == 2  # the others went
        assert deliver_mail(store, url, FROM) == 0  # the rejected one waits a while
    assert sorted(str(m["Subject"]) for m in inbox.messages) == [
        "Your repair R1: ready",
        "Your repair R2: ready",
    ]


@pytest.mark.parametrize(
    "recipient",
    [
        pytest.param("zoë@bücher.example", id="non-ascii-without-smtputf8"),
        pytest.param("owner@example.org\nBcc: all@example.org", id="line-break"),
    ],
)
def test_a_message_that_cannot_be_sent_as_written_holds_up_no_other_mail(
    store: Store, recipient: str
) -> None:
    inbox = Inbox()
    at = "2026-11-02T10:00:00+00:00"
    with _serve(inbox, enable_SMTPUTF8=False) as where:
        with store.transaction():
            store.queue_mail("repair:R0:ready", recipient, "Your repair R0", "Ready.", at)
        _queue(store, 2)
        assert deliver_mail(store, f"smtp://{where}", FROM) == 2
    assert len(inbox.messages) == 2
