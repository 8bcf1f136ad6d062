"""Recognition on sign-up. The web shop sends the e-mail someone signs up or signs in with;
Kenning e-mails a six-digit code to it and answers the same whoever it belongs to, so the
shop learns nothing it did not send. Only the right code, in time and within the attempts
allowed, gives the shop her history: a greeting, her registered products, the addresses she
already gave (to prefill checkout) and her favourite stores."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from kenning.domain.normalise import normalise_email
from kenning.domain.refusals import Refusal
from kenning.profiles.codes import (
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
from kenning.services.mail import send_mail
from kenning.services.profile import ProfileSettings, gather
from kenning.services.trust import verify_claim
from kenning.store import Store
from kenning.store.activity import Verification

# (recipient, subject, body): how a code leaves; tests and the demo may plug in their own.
Sender = Callable[[str, str, str], None]


@dataclass(frozen=True, slots=True)
class AccountSettings:
    smtp_url: str = ""
    mail_from: str = "Kenning <no-reply@kenning.local>"
    ttl_seconds: int = 600
    profile: ProfileSettings = field(default_factory=ProfileSettings)


def smtp_sender(settings: AccountSettings) -> Sender:
    def send(recipient: str, subject: str, body: str) -> None:
        if not settings.smtp_url:
            raise Refusal("unavailable", "no mail server configured (KENNING_SMTP_URL)")
        send_mail(settings.smtp_url, settings.mail_from, recipient, subject, body)

    return send


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
    store: Store, email: str, settings: AccountSettings, now: datetime, send: Sender
) -> dict[str, Any]:
    """Send a code to ``email``; the answer never says whether the e-mail is known."""
    cleaned = normalise_email(email).value
    if cleaned is None:
        raise Refusal("invalid", f"{email!r} is not a usable e-mail address")
    address = email.strip().lower()
    verification_id = "av_" + secrets.token_urlsafe(16)
    code = new_code()
    expires = now + timedelta(seconds=settings.ttl_seconds)
    recent = (now - timedelta(hours=1) + timedelta(seconds=settings.ttl_seconds)).isoformat()
    with store.transaction():
        if store.codes_sent_since(address, recent) >= MAX_CODES_PER_HOUR:
            raise Refusal("too_many_requests", "too many codes for this e-mail; try later")
        store.add_verification(
            Verification(
                verification_id,
                _known_customer(store, email),
                address,
                hash_code(verification_id, code),
                expires.isoformat(),
                0,
                None,
            )
        )
    minutes = max(1, settings.ttl_seconds // 60)
    send(
        address,
        f"Your code: {code}",
        f"Your verification code is {code}. It is valid for {minutes} minutes.\n\n"
        "If you did not ask for it, ignore this e-mail.",
    )
    return {"verification_id": verification_id, "expires_at": expires.isoformat()}


def verify(
    store: Store,
    verification_id: str,
    code: str,
    settings: AccountSettings,
    now: datetime,
    visitor: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Check the code; when right, what the shop may now know of her. ``visitor``: the
    (source, userId) the shop knows her by, whose claim to the e-mail is now proved."""
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
        if found.attempts >= MAX_ATTEMPTS:
            raise Refusal("too_many_attempts", "too many wrong codes; start again")
        store.count_verification_attempt(verification_id)
        if not code_matches(verification_id, code, found.code_hash):
            left = MAX_ATTEMPTS - found.attempts - 1
            raise_later = Refusal("wrong_code", f"wrong code; {left} attempts left")
        else:
            raise_later = None
            store.mark_verified(verification_id, now.isoformat())
            if visitor is not None:
                verify_claim(store, *visitor, found.email, now.isoformat(), verification_id)
    if raise_later is not None:
        raise raise_later
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
