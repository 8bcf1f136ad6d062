"""What a write key's events may do (README: "What a write key can do").

An untrusted source's write key sits in web pages, so it is anyone's: its events describe
the visitor who sent them and no one else. Such a source's events write only records of
their own making (a record that came by file stays as the file gave it), and what they say
about the visitor is her claim: kept in the record as received, but left out of its
normalised values, which matching, lookups, the golden record and mail read. Once she has
proved the e-mail her record holds (a code sent to it came back, see verify_claim), that
e-mail counts as evidence while the record holds it; nothing else she says ever does (a
name, address or loyalty id proved by no code would let her join anyone whose details she
knows), nor does her word on when it was written. Trusted (server-side) sources keep every
power: what they send is vouched for.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import orjson

from kenning.domain.normalise import normalise_email
from kenning.domain.normalised import NORMALISED_FIELDS
from kenning.domain.records import content_hash
from kenning.domain.refusals import Refusal
from kenning.ingest.prepare import Prepared
from kenning.services.collect import KIND_PREFIX
from kenning.store import Store

log = logging.getLogger("kenning.trust")
RecordKey = tuple[str, str]
# The one value of an untrusted source's record that a code sent to it can prove.
PROVABLE = "email"
# The values of such a record withheld unless proved: all but when it was written.
_IDENTIFYING = tuple(name for name in NORMALISED_FIELDS if name != "updated_at")
# Their place in a prepared record's row: (source, record_id, content_hash, *normalised, raw).
_COLUMN = {name: 3 + NORMALISED_FIELDS.index(name) for name in _IDENTIFYING}
# Fields of a record as received that are not claims about the visitor.
_NOT_CLAIMS = frozenset({"source", "record_id", "updated_at", "attributes"})
# Told apart from the same record with its claims kept, so that verifying one rewrites it.
_MASKED = b"\0claims withheld:"


@dataclass
class Trust:
    """Who may write what, for one run of the follower."""

    untrusted: set[str]
    claimed: set[RecordKey] = field(default_factory=set)  # stored records of their making
    verified: dict[RecordKey, set[tuple[str, str]]] = field(default_factory=dict)

    def may_write(self, key: RecordKey, stored: bool) -> bool:
        """Whether collected events may change the record ``key`` (``stored``: it exists):
        an untrusted source's only when the record is new or its own events wrote it."""
        return key[0] not in self.untrusted or not stored or key in self.claimed

    def withhold_claims(self, prepared: Prepared) -> Prepared:
        """The record with its unverified claims left out of its normalised values (they
        stay in the record as received); a trusted source's record as it is."""
        row, dropped = prepared
        key = (str(row[0]), str(row[1]))
        if key[0] not in self.untrusted:
            return prepared
        proved = self.verified.get(key, set())
        values = list(row)
        withheld = []
        for name in _IDENTIFYING:
            value = values[_COLUMN[name]]
            if value is not None and (name != PROVABLE or (name, str(value)) not in proved):
                values[_COLUMN[name]] = None
                withheld.append(name)
        if not withheld:
            return prepared
        # What is withheld is part of the record's state: proving a claim rewrites it.
        marker = _MASKED + ",".join(withheld).encode()
        values[2] = content_hash(str(values[-1]).encode() + marker)
        return tuple(values), dropped

    def made(self, written: Iterable[Sequence[object]]) -> list[RecordKey]:
        """Of the rows written, the records an untrusted source's events made."""
        return [(str(r[0]), str(r[1])) for r in written if r[0] in self.untrusted]


def trust_for(store: Store, keys: Sequence[RecordKey], stored: Collection[RecordKey]) -> Trust:
    """The trust of a run writing ``keys``, of which ``stored`` exist."""
    untrusted = store.untrusted_sources()
    mine = [key for key in keys if key[0] in untrusted]
    if not mine:
        return Trust(untrusted)
    return Trust(
        untrusted,
        store.claimed_records([key for key in mine if key in stored]),
        store.verified_claims(mine),
    )


def guard_fields(
    store: Store,
    fields: Mapping[RecordKey, dict[str, object]],
    stored: Collection[RecordKey],
    imported: Collection[RecordKey] = (),
) -> tuple[Trust, set[RecordKey]]:
    """The trust of a run, and the records of ``fields`` it must leave alone (records
    that came by file, named by a public key's events). ``imported``: the records the
    run's log says a file wrote; a public key's events made them no longer."""
    untrusted = store.untrusted_sources()
    taken = [key for key in imported if key[0] in untrusted]
    if taken:
        store.remove_claimed_records(store.claimed_records(taken))
    trust = trust_for(store, sorted(fields), stored)
    refused = {key for key in fields if not trust.may_write(key, key in stored)}
    if refused:
        log.warning("%d record(s) of untrusted sources left alone: they came by file", len(refused))
    return trust, refused


def verify_claim(
    store: Store, source: str, record_id: str, email: str, at: str, reference: str
) -> bool:
    """The visitor ``record_id`` of ``source`` proved she holds ``email`` (a code sent to
    it came back; ``reference`` names that proof): from now on it is evidence. Her record
    is resolved again by the follower, through an identify logged on her behalf. Returns
    whether anything changed: nothing for a trusted source (its e-mails need no proof),
    nor for a record that does not claim ``email`` (proving one's own address must not
    put it on someone else's record)."""
    cleaned = normalise_email(email).value
    if cleaned is None:
        raise Refusal("invalid", "not a usable e-mail address")
    if source not in {row.name for row in store.sources()}:
        raise Refusal("not_found", f"no source {source!r}")
    if source not in store.untrusted_sources():
        return False
    if claimed_email(store, source, record_id) != cleaned:
        return False
    with store.transaction():
        store.add_verified_claim(source, record_id, "email", cleaned, at)
        payload = {
            "type": "identify",
            "userId": record_id,
            "traits": {"email": email.strip()},
            "messageId": f"verified:{reference}",
            "timestamp": at,
        }
        store.append_collected(
            [
                (
                    KIND_PREFIX + "identify",
                    source,
                    record_id,
                    None,
                    f"verified:{reference}",
                    orjson.dumps(payload).decode(),
                )
            ]
        )
    return True


def claimed_value(raw: object) -> str | None:
    """An e-mail as a record received it, normalised as verified claims hold it."""
    return normalise_email(str(raw)).value if raw not in (None, "") else None


def claimed_email(store: Store, source: str, record_id: str) -> str | None:
    """The e-mail the stored record claims, normalised; None without one (or a record)."""
    stored = store.get_record(source, record_id)
    return claimed_value(stored.raw.get(PROVABLE)) if stored is not None else None


def unverified_claims(raw: Mapping[str, object], normalised: Mapping[str, str | None]) -> list[str]:
    """The fields of an untrusted source's record (as stored) that are withheld claims:
    all it gives, but for an e-mail that is verified (the only value that counts)."""
    given = [
        name for name, value in sorted(raw.items())
        if name not in _NOT_CLAIMS and isinstance(value, str | int | float) and value != ""
    ]  # fmt: skip
    if normalised.get(PROVABLE) is None:
        return given
    return [name for name in given if name != PROVABLE]
