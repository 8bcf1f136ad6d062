"""Recognition on sign-up. The web shop sends the e-mail someone signs up or signs in with;
Kenning e-mails a six-digit code to it and answers the same whoever it belongs to, so the
shop learns nothing it did not send. Only the right code, in time and within the attempts
allowed, gives the shop her history: a greeting, her registered products, the addresses she
already gave (to prefill checkout) and her favourite stores."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from kenning.domain.normalise import normalise_email
from kenning.domain.refusals import Refusal
from kenning.profiles.codes import (
    CODES_PER_CLIENT_PER_HOUR,
    MAX_ATTEMPTS,
    MAX_CODES_PER_HOUR,
    code_matches,
    hash_code,
    new_code,
)
from kenning.profiles.golden import distinct_addresses, golden_record
from kenning.profiles.greeting import greeting
from kenning.profiles.traits import favourite_stores, owned_by_category
from kenning.services.customers import lookup
from kenning.services.mail import MailError, send_mail
from kenning.services.profile import ProfileSettings, gather
from kenning.services.trust import verify_claim
from kenning.store import Store
from kenning.store.activity import Verification

log = logging.getLogger("kenning.accounts")

# (recipient, subject, body): how a code leaves; tests and the demo may plug in their own.
# It raises when the code could not be sent (the code is then withdrawn).
Sender = Callable[[str, str, str], None]


@dataclass(frozen=True, slots=True)
class AccountSettings:
    smtp_url: str = ""
    mail_from: str = "Kenning <no-reply@kenning.local>"
    ttl_seconds: int = 600
    profile: ProfileSettings = field(default_factory=ProfileSettings)
    # Codes issued within an hour to one mailbox (however spelt) and at one client's request.
    codes_per_address: int = MAX_CODES_PER_HOUR
    codes_per_client: int = CODES_PER_CLIENT_PER_HOUR


def smtp_sender(settings: AccountSettings) -> Sender:
    def send(recipient: str, subject: str, body: str) -> None:
        if not settings.smtp_url:
            raise Refusal("unavailable", "no mail server configured (KENNING_SMTP_URL)")
        try:
            send_mail(settings.smtp_url, settings.mail_from, recipient, subject, body)
        except MailError as exc:
            log.warning("sign-up code not sent: %s", exc)
            raise Refusal("unavailable", "the code could not be sent; try again later") from exc

    return send


def client_key(client: str) -> str:
    """What is kept of a client's address to ration it: a hash (the address itself is not
    needed, and is personal data)."""
    return hashlib.sha256(client.encode()).hexdigest()[:32]


def _known_customer(store: Store, email: str) -> str:
    """The one customer holding this e-mail, or '' (none, or several: a shared family
    address is nobody's in particular — showing one the other's history is the harm).

    Only an e-mail a vouched-for record holds counts: one imported from a system's files
    or sent by a trusted source. A browser's write key is in every visitor's hands, so a
    forger could send a record with her own e-mail and someone else's name and address,
    have it linked to that customer, and be sent the code."""
    try:
        found = lookup(store, email=email)
    except Refusal:
        return ""
    untrusted, cleaned = store.untrusted_sources(), normalise_email(email).value
    vouched = [r for r in found.records if r["email"] == cleaned and r["source"] not in untrusted]
    return found.customer_id if vouched else ""


def start(
    store: Store,
    email: str,
    settings: AccountSettings,
    now: datetime,
    send: Sender,
    client: str | None = None,
) -> dict[str, Any]:
    """Send a code to ``email``; the answer never says whether the e-mail is known.

    Codes are rationed per mailbox (the normalised address, so that tags and Gmail's dots
    give no more) and per ``client`` (the requester's address; None for callers that are
    not one). The code is recorded, counting against both, before it is sent, and
    withdrawn when sending fails."""
    mailbox = normalise_email(email).value
    if mailbox is None:
        raise Refusal("invalid", f"{email!r} is not a usable e-mail address")
    address = email.strip().lower()
    requester = client_key(client) if client is not None else ""
    verification_id = "av_" + secrets.token_urlsafe(16)
    code = new_code()
    expires = now + timedelta(seconds=settings.ttl_seconds)
    recent = (now - timedelta(hours=1) + timedelta(seconds=settings.ttl_seconds)).isoformat()
    customer_id = _known_customer(store, email)
    with store.transaction():
        store.serialise_signups()  # the count and the new code, together
        if store.codes_to_mailbox_since(mailbox, recent) >= settings.codes_per_address:
            raise Refusal("too_many_requests", "too many codes for this e-mail; try later")
        if requester and store.codes_to_client_since(requester, recent) >= (
            settings.codes_per_client
        ):
            raise Refusal("too_many_requests", "too many codes asked for; try later")
        store.add_verification(
            Verification(
                verification_id,
                customer_id,
                address,
                hash_code(verification_id, code),
                expires.isoformat(),
                0,
                None,
                mailbox,
                requester,
            )
        )
    minutes = max(1, settings.ttl_seconds // 60)
    try:
        send(
            address,
            f"Your code: {code}",
            f"Your verification code is {code}. It is valid for {minutes} minutes.\n\n"
            "If you did not ask for it, ignore this e-mail.",
        )
    except BaseException:
        with store.transaction():
            store.drop_verification(verification_id)  # never sent: it uses up no quota
        raise
    return {"verification_id": verification_id, "expires_at": expires.isoformat()}


def verify(
    store: Store,
    verification_id: str,
    code: str,
    settings: AccountSettings,
    now: datetime,
    visitor: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Check the code; when right, what the shop may now know of her. Each guess is
    counted by one conditional update, so concurrent guesses get no more than the
    attempts allowed, and a right code is used once. ``visitor``: the (source, userId)
    the shop knows her by, whose claim to the e-mail is now proved."""
    if visitor is not None and visitor[0] not in {row.name for row in store.sources()}:
        raise Refusal("not_found", f"no source {visitor[0]!r}")
    with store.transaction():
        found = store.verification(verification_id)
        if found is None:
            raise Refusal("not_found", "no such verification")
        if found.verified_at is not None:
            raise Refusal("conflict", "this code has been used; start again")
        if datetime.fromisoformat(found.expires_at) <= now:
            raise Refusal("expired", "the code has expired; start again")
        attempts = store.take_verification_attempt(verification_id, MAX_ATTEMPTS)
        if attempts is None:
            used = store.verification(verification_id)
            if used is not None and used.verified_at is not None:
                raise Refusal("conflict", "this code has been used; start again")
            raise Refusal("too_many_attempts", "too many wrong codes; start again")
        if not code_matches(verification_id, code, found.code_hash):
            left = MAX_ATTEMPTS - attempts
            raise_later = Refusal("wrong_code", f"wrong code; {left} attempts left")
        elif store.mark_verified(verification_id, now.isoformat()):
            raise_later = None
            if visitor is not None:
                verify_claim(store, *visitor, found.email, now.isoformat(), verification_id)
        else:
            raise_later = Refusal("conflict", "this code has been used; start again")
    if raise_later is not None:
        raise raise_later  # after the commit: the attempt counts
    answer: dict[str, Any] = {"email": found.email, "known": bool(found.customer_id)}
    if found.customer_id:
        answer.update(history(store, found.customer_id, settings.profile))
    return answer


def history(store: Store, customer_id: str, settings: ProfileSettings) -> dict[str, Any]:
    """What a verified shopper's account is given: greeting, products, addresses, stores."""
    data = gather(store, customer_id)
    golden = golden_record(data.records, settings.survivorship)
    first = golden.get("first_name")
    owned = owned_by_category(data.activity)
    stores = favourite_stores(data.activity.orders, data.shops)
    return {
        "customer_id": customer_id,
        "greeting": greeting(
            str(first.value) if first else None,
            owned,
            registered={o.category for o in data.activity.owned},
        ),
        "first_name": first.value if first else None,
        "owned": [
            {"serial_number": o.serial_number, "sku": o.sku, "name": o.name, "category": o.category}
            for o in data.activity.owned
        ],
        "owned_by_category": owned,
        "addresses": [c.value for c in distinct_addresses(data.records)],
        "favourite_stores": [
            {"store_id": s.store_id, "name": s.name, "city": s.city} for s in stores
        ],
    }
