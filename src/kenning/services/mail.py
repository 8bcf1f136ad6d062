"""Mail to customers over SMTP (``KENNING_SMTP_URL``): sign-up codes, sent at once, and
repair updates, queued in the outbox in the transaction that records the status and sent
after it commits (each once: a message is claimed by one sender, and marked sent only when
the server took it)."""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import uuid
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from kenning.services.inventory import utcnow
from kenning.services.telemetry import counting_mail
from kenning.store import Store

log = logging.getLogger("kenning.mail")

STATUS_WORDS = {
    "received": "We have received your {product} for repair at {store}.",
    "in_repair": "Your {product} is being repaired.",
    "ready_for_pickup": "Your {product} is repaired and ready for pickup at {store}.",
    "shipped": "Your {product} is repaired and on its way to you.",
    "collected": "You collected your {product} from {store}. Enjoy it!",
}


# How long a sender's claim on a message holds: longer than any send takes (a send times
# out after SEND_TIMEOUT), so only a sender that died leaves one to be taken over.
CLAIM_SECONDS = 300
SEND_TIMEOUT = 10
_EMAIL = re.compile(r"[^\s<>()\[\]{}'\",;:]+@[^\s<>()\[\]{}'\",;:]+")


class MailError(RuntimeError):
    """A message not sent; its text names no recipient (it is logged). ``refused`` when
    the fault is this message's, not the server's (others may well go): the server
    would not take its recipient, or refused it for good (a 5xx answer to its data), or
    it cannot be written as the server speaks (a non-ASCII address to a server without
    SMTPUTF8, a header that cannot be encoded)."""

    def __init__(self, message: str, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused


def masked(text: str) -> str:
    """``text`` with every e-mail address in it hidden ("z***@f***"): for logs and errors."""
    return _EMAIL.sub(lambda m: f"{m.group()[0]}***@{m.group().partition('@')[2][:1]}***", text)


def send_mail(
    smtp_url: str,
    sender: str,
    recipient: str,
    subject: str,
    body: str,
    tls: ssl.SSLContext | None = None,
) -> None:
    """Hand one message to the SMTP server of ``smtp_url``: smtp://host:port (STARTTLS
    whenever the server offers it) or smtps://host:port (TLS from the start). Certificates
    are verified against the system's authorities (``SSL_CERT_FILE`` names others) unless
    ``tls`` says otherwise; a password is never sent over a connection in clear."""
    parts = urlsplit(smtp_url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailError("KENNING_SMTP_URL must be smtp://host:port or smtps://host:port")
    message = EmailMessage()
    try:
        message["From"] = sender
        message["To"] = recipient
        message["Subject"] = subject
        message.set_content(body)
    except ValueError as exc:  # a line break in a header, an address it cannot parse
        raise MailError(f"the message cannot be written: {type(exc).__name__}", True) from exc
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError as exc:
        raise MailError("KENNING_SMTP_URL has no usable port") from exc
    context = tls or ssl.create_default_context()
    encrypted = parts.scheme == "smtps"
    sending = False  # past the server's greeting, TLS and login: what fails is the message's
    try:
        smtp = (
            smtplib.SMTP_SSL(parts.hostname, port, timeout=SEND_TIMEOUT, context=context)
            if parts.scheme == "smtps"
            else smtplib.SMTP(parts.hostname, port, timeout=SEND_TIMEOUT)
        )
        with smtp:
            smtp.ehlo()
            if not encrypted and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
                encrypted = True
            if parts.username:
                if not encrypted:
                    raise MailError(
                        f"{parts.hostname}:{port} offers no STARTTLS; the password is not "
                        "sent in clear (use smtps://)"
                    )
                smtp.login(unquote(parts.username), unquote(parts.password or ""))
            sending = True
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        if not isinstance(exc, OSError | smtplib.SMTPException) and not sending:
            raise  # a ValueError of smtplib's own (ssl's errors are ValueErrors too)
        reason = masked(f"{type(exc).__name__}: {exc}")
        raise MailError(
            f"could not send mail through {parts.hostname}:{port}: {reason}",
            refused=sending and _is_message_s_fault(exc),
        ) from exc


def _is_message_s_fault(exc: BaseException) -> bool:
    """Whether an error of sending one message is that message's for good (another would
    go), rather than the server's or the connection's (a 4xx answer: later, all may go).
    A refused sender is the server's: every message has the same."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPNotSupportedError):
        return True  # SMTPNotSupportedError: a non-ASCII address, a server without SMTPUTF8
    if isinstance(exc, smtplib.SMTPDataError):
        return 500 <= exc.smtp_code < 600
    # UnicodeEncodeError too: a header it cannot encode (not ssl's, also ValueErrors).
    return isinstance(exc, ValueError) and not isinstance(exc, OSError)


def _owner_email(store: Store, source: str, record_id: str) -> str | None:
    """The e-mail of the repair's owner: the customer's most recent e-mail, else the record's."""
    customer = store.customer_of(source, record_id)
    keys = store.customer_records(customer) if customer else [(source, record_id)]
    records = sorted(
        store.get_records(keys), key=lambda r: r.normalised.get("updated_at") or "", reverse=True
    )
    for r in records:
        if r.normalised.get("email"):
            return str(r.raw.get("email") or r.normalised["email"])
    return None


def queue_repair_mail(store: Store, repair_id: str, status: str, at: str, store_id: str) -> bool:
    """Queue the e-mail telling the owner of repair ``repair_id`` of its new status."""
    repair = store.repair(repair_id)
    if repair is None:
        return False
    _, serial_number, source, record_id, repair_store, _ = repair
    recipient = _owner_email(store, source, record_id)
    if recipient is None:
        return False
    shops = {row[0]: f"{row[1]}, {row[2]}" for row in store.activity_stores()}
    owners = store.registrations_of([(source, record_id)])
    sku = next((r[1] for r in owners if r[0] == serial_number), None)
    names = store.product_names([sku]) if sku else {}
    product = names[sku][0] if sku and sku in names else f"product {serial_number}"
    where = shops.get(store_id or repair_store, store_id or repair_store or "our workshop")
    words = STATUS_WORDS.get(status, "Your {product} repair is now: " + status)
    body = (
        words.format(product=product, store=where)
        + f"\n\nRepair {repair_id}, serial number {serial_number}."
    )
    store.queue_mail(
        f"repair:{repair_id}:{status}:{at}",
        recipient,
        f"Your repair: {status.replace('_', ' ')}",
        body,
        at,
    )
    return True


def deliver_mail(
    store: Store,
    smtp_url: str,
    sender: str,
    limit: int = 100,
    claim_seconds: int = CLAIM_SECONDS,
) -> int:
    """Send what the outbox holds; returns how many were sent. Each message is claimed
    before it is sent, so that of several senders (the followers of `kenning serve`) one
    sends it; one a sender claimed and never marked sent (it died) is taken over after
    ``claim_seconds``. A message that fails for a fault of its own (its recipient refused,
    the message refused for good, an address the server cannot take: MailError.refused)
    keeps its claim, so it is tried again only after ``claim_seconds`` while the others
    go; any other failure stops the run, giving that message back (the rest waits for
    the next run)."""
    if not smtp_url:
        return 0
    claimer = uuid.uuid4().hex
    sent = 0
    while sent < limit:
        now = utcnow()
        stale = now - timedelta(seconds=claim_seconds)
        with store.transaction():
            mail = store.claim_mail(claimer, now.isoformat(), stale.isoformat())
        if mail is None:
            break
        try:
            with counting_mail("outbox"):
                send_mail(smtp_url, sender, mail.recipient, mail.subject, mail.body)
        except MailError as exc:
            if exc.refused:
                log.warning("mail %s refused, tried again later: %s", mail.id, exc)
                continue
            with store.transaction():
                store.release_mail(mail.id, claimer)
            raise
        except BaseException:
            with store.transaction():
                store.release_mail(mail.id, claimer)
            raise
        with store.transaction():
            store.mark_mail_sent(mail.id, utcnow().isoformat())
        sent += 1
    return sent
