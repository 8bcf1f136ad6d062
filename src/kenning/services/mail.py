"""Mail to customers over SMTP (``KENNING_SMTP_URL``): sign-up codes, sent at once, and
repair updates, queued in the outbox in the transaction that records the status and sent
after it commits (each once: a message is marked sent only when the server took it)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from urllib.parse import urlsplit

from kenning.domain.redact import scrub
from kenning.services.inventory import utcnow
from kenning.services.telemetry import counting_mail
from kenning.store import Store

STATUS_WORDS = {
    "received": "We have received your {product} for repair at {store}.",
    "in_repair": "Your {product} is being repaired.",
    "ready_for_pickup": "Your {product} is repaired and ready for pickup at {store}.",
    "shipped": "Your {product} is repaired and on its way to you.",
    "collected": "You collected your {product} from {store}. Enjoy it!",
}


class MailError(RuntimeError):
    pass


def send_mail(smtp_url: str, sender: str, recipient: str, subject: str, body: str) -> None:
    """Hand one message to the SMTP server of ``smtp_url`` (smtp://host:port)."""
    parts = urlsplit(smtp_url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailError(f"KENNING_SMTP_URL must be smtp://host:port, not {smtp_url!r}")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(body)
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    client = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    try:
        with client(parts.hostname, port, timeout=10) as smtp:
            if parts.username:
                smtp.login(parts.username, parts.password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        # The server's answer may quote the recipient; this message is logged.
        reason = f"could not send mail through {parts.hostname}:{port}: {exc}"
        raise MailError(scrub(reason)) from exc


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


def deliver_mail(store: Store, smtp_url: str, sender: str, limit: int = 100) -> int:
    """Send what the outbox holds; returns how many were sent. Stops at the first failure
    (the rest waits for the next run)."""
    if not smtp_url:
        return 0
    sent = 0
    for mail in store.pending_mail(limit):
        with counting_mail("outbox"):
            send_mail(smtp_url, sender, mail.recipient, mail.subject, mail.body)
        store.mark_mail_sent(mail.id, utcnow().isoformat())
        sent += 1
    return sent
