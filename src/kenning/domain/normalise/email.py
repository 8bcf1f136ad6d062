"""E-mail addresses: syntax, provider-specific canonical forms and filler addresses."""

from __future__ import annotations

import re
from functools import lru_cache

from kenning.domain.normalise.placeholders import is_placeholder_text
from kenning.domain.normalise.result import Cleaned, invalid, missing, ok, placeholder

# Deliberately stricter than RFC 5322: what real mailbox providers hand out, ASCII only.
_SYNTAX = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{2,59})"
)
_WRAPPING = " \t\r\n<>\"'`()[];,"
_LOCAL_SEPARATORS = re.compile(r"[._+/-]")

_GMAIL = frozenset({"gmail.com", "googlemail.com"})
# Providers where "name+tag@" delivers to "name@": the tag is not part of the identity.
_PLUS_DOMAINS = frozenset({
    "icloud.com", "me.com", "mac.com", "msn.com", "protonmail.com", "protonmail.ch", "proton.me",
    "pm.me", "fastmail.com", "fastmail.fm",
})  # fmt: skip
_PLUS_PROVIDER_LABELS = frozenset({"outlook", "hotmail", "live", "fastmail"})  # any TLD

_PLACEHOLDER_DOMAINS = frozenset(
    {"email.com", "domain.com", "mail.test", "none.com", "noemail.com", "nomail.com"}
)
# The name a domain is registered under ("example" in example.co.uk); fillers when it is one
# of these.
_PLACEHOLDER_DOMAIN_NAMES = frozenset(
    {"example", "test", "noemail", "nomail", "noaddress", "none", "invalid", "fake", "nowhere"}
)
_RESERVED_TLDS = frozenset({"test", "example", "invalid", "localhost", "local"})
_BARE_FILLER = _PLACEHOLDER_DOMAIN_NAMES | _RESERVED_TLDS
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "ltd", "plc", "me"})

# Local parts compared with separators removed ("no-reply", "no_reply" → "noreply").
_PLACEHOLDER_LOCALS = frozenset({
    "none", "na", "unknown", "test", "xxx", "declined", "refused", "customer", "email", "noemail",
    "nomail", "noreply", "donotreply", "dontreply", "noaddress", "notprovided", "notgiven",
    "dummy", "fake", "nobody", "null", "asdf", "sample",
})  # fmt: skip
_PLACEHOLDER_LOCAL_PREFIXES = ("noemail", "nomail", "noreply", "donotreply", "noaddress")


def _domain_name(domain: str) -> str:
    """The label a domain is registered under: "example" for mail.example.co.uk."""
    labels = domain.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return labels[-3]
    return labels[-2]


def _is_placeholder(local: str, domain: str) -> bool:
    name = _domain_name(domain)
    if (
        domain in _PLACEHOLDER_DOMAINS
        or name in _PLACEHOLDER_DOMAIN_NAMES
        or domain.rsplit(".", 1)[1] in _RESERVED_TLDS
    ):
        return True
    # Judged without separators or a +tag, so "x.x.x.x" and "noemail+1" are caught too.
    key = _LOCAL_SEPARATORS.sub("", local.partition("+")[0])
    if key in _PLACEHOLDER_LOCALS or key.startswith(_PLACEHOLDER_LOCAL_PREFIXES):
        return True
    if len(key) >= 3 and key.count(key[0]) == len(key):
        return True  # "xxxx@", "0000@"
    # a@a.com, x@xx.com: one-letter mailbox at a made-up looking domain.
    return len(key) == 1 and (name.count(key) == len(name) or len(name) == 1)


def _canonical_local(local: str, domain: str) -> tuple[str, str]:
    if domain in _GMAIL:
        return local.partition("+")[0].replace(".", ""), "gmail.com"
    if domain in _PLUS_DOMAINS or domain.partition(".")[0] in _PLUS_PROVIDER_LABELS:
        return local.partition("+")[0], domain
    return local, domain


@lru_cache(maxsize=32_768)  # one shopper's address recurs across tills, web shop and mailing list
def normalise_email(raw: str | None) -> Cleaned[str]:
    """A canonical mailbox: trimmed, lowercased, with provider aliases folded
    ("J.Smith+shop@googlemail.com" → "jsmith@gmail.com")."""
    if raw is None:
        return missing()
    text = raw.strip(_WRAPPING)
    if "<" in text:  # "Jane Doe <jane@example.org>"
        text = text.rpartition("<")[2].strip(_WRAPPING)
    text = text.lower()
    if text.startswith("mailto:"):
        text = text[7:].strip(_WRAPPING)
    if not text:
        return missing()
    text = text.rstrip(".")  # "jane@example.org." is a trailing full stop, not a root label
    local, at, domain = text.rpartition("@")
    if not at:
        local = text
    if not at or len(text) > 254 or len(local) > 64 or not _SYNTAX.fullmatch(text):
        # Malformed, but "noemail", "no-email@" and "x@test" are still recognisable filler.
        if (
            _LOCAL_SEPARATORS.sub("", local) in _PLACEHOLDER_LOCALS
            or domain in _BARE_FILLER
            or is_placeholder_text(text)
        ):
            return placeholder()
        return invalid()
    if _is_placeholder(local, domain):
        return placeholder()
    local, domain = _canonical_local(local, domain)
    if not local:
        return invalid()  # "+tag@gmail.com", "...@gmail.com"
    return ok(f"{local}@{domain}")


def email_domain(normalised: str) -> str:
    """The domain of a normalised address ("gmail.com"); "" when there is none."""
    _, at, domain = normalised.rpartition("@")
    return domain if at else ""
