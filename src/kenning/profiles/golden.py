"""The golden record: for each attribute, the value that survives among a customer's records,
chosen by configurable rules (source trust order, most recent, most frequent), and its
lineage — which record it came from and when, and how many values it was chosen over."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

RULES = ("trust", "recent", "frequent")
# An attribute and the record fields it is made of (shown as given, grouped by the
# normalised value of the first field listed under KEYS).
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "first_name": ("first_name",),
    "last_name": ("last_name",),
    "email": ("email",),
    "phone": ("phone",),
    "date_of_birth": ("date_of_birth",),
    "address": ("address_line1", "address_line2", "city", "region", "postcode", "country"),
    "loyalty_id": ("loyalty_id",),
}
# Normalised columns that tell two values of an attribute apart (Theresa vs THERESA).
KEYS: dict[str, tuple[str, ...]] = {
    "first_name": ("first_name",),
    "last_name": ("last_name",),
    "email": ("email",),
    "phone": ("phone",),
    "date_of_birth": ("date_of_birth",),
    "address": ("house_number", "street", "postcode", "country"),
    "loyalty_id": ("loyalty_id",),
}
DEFAULT_RULES: dict[str, tuple[str, ...]] = {
    "first_name": ("frequent", "trust", "recent"),
    "last_name": ("frequent", "trust", "recent"),
    "email": ("recent", "frequent", "trust"),
    "phone": ("recent", "frequent", "trust"),
    "date_of_birth": ("trust", "frequent", "recent"),
    "address": ("recent", "trust", "frequent"),
    "loyalty_id": ("recent", "trust", "frequent"),
}
DEFAULT_TRUST = ("loyalty", "web", "pos", "registrations", "email")


class SurvivorshipError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Survivorship:
    """Rules per attribute, each a chain: the first rule decides, the next breaks its ties."""

    trust: tuple[str, ...] = DEFAULT_TRUST
    rules: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_RULES))

    @classmethod
    def parse(cls, trust: str, rules: str) -> Survivorship:
        """From settings: trust ``"loyalty,web,pos"`` and rules
        ``"email:recent+trust,address:trust"`` (attributes not named keep their default)."""
        chosen = dict(DEFAULT_RULES)
        for part in filter(None, (p.strip() for p in rules.split(","))):
            name, _, chain = part.partition(":")
            steps = tuple(s.strip() for s in chain.split("+") if s.strip())
            if name.strip() not in ATTRIBUTES:
                raise SurvivorshipError(f"unknown attribute {name!r} in survivorship rules")
            if not steps or any(s not in RULES for s in steps):
                raise SurvivorshipError(f"rules of {name} must be among {', '.join(RULES)}")
            chosen[name.strip()] = steps
        order = tuple(s.strip() for s in trust.split(",") if s.strip()) or DEFAULT_TRUST
        return cls(order, chosen)


@dataclass(frozen=True, slots=True)
class RecordValues:
    """One source record as the golden record sees it."""

    source: str
    record_id: str
    updated_at: str | None
    raw: Mapping[str, Any]
    normalised: Mapping[str, str | None]


@dataclass(frozen=True, slots=True)
class Candidate:
    value: Any  # a string, or a dict of fields (the address)
    key: tuple[str | None, ...]
    source: str
    record_id: str
    at: str | None


@dataclass(frozen=True, slots=True)
class Lineage:
    value: Any
    source: str
    record_id: str
    at: str | None
    rule: str  # the rule that decided
    seen: int  # records holding this value
    of: int  # records holding any value


def _display(record: RecordValues, attribute: str) -> Any:
    fields = ATTRIBUTES[attribute]
    if attribute == "address":
        if not any(record.raw.get(f) for f in fields) or not record.normalised.get("postcode"):
            return None
        shown = {f: str(record.raw.get(f) or "") for f in fields}
        shown["country"] = str(record.normalised.get("country") or shown["country"])
        return shown
    value = record.raw.get(fields[0])
    if attribute in ("first_name", "last_name") and not value and record.raw.get("full_name"):
        return None  # split names: fall back to the normalised value below
    return value


def candidates(records: Sequence[RecordValues], attribute: str) -> list[Candidate]:
    """Every record's value of ``attribute``, with its grouping key; records without one
    (or whose value was dropped as a placeholder) give none."""
    out = []
    for r in records:
        key = tuple(r.normalised.get(c) for c in KEYS[attribute])
        if all(k is None for k in key):
            continue
        value = _display(r, attribute)
        if value is None and attribute == "address":
            continue
        if value is None or value == "":
            value = r.normalised.get(KEYS[attribute][0])
        if attribute in ("first_name", "last_name") and isinstance(value, str):
            value = value.strip().title() if value.isupper() or value.islower() else value
        out.append(Candidate(value, key, r.source, r.record_id, r.updated_at))
    return out


def _scorers(
    found: Sequence[Candidate], trust: Sequence[str]
) -> dict[str, tuple[Callable[[Candidate], Any], bool]]:
    """Each rule as a sort key and whether larger is better."""
    counts = Counter(c.key for c in found)
    rank = {s: i for i, s in enumerate(trust)}
    return {
        "trust": (lambda c: rank.get(c.source, len(rank)), False),
        "recent": (lambda c: c.at or "", True),
        "frequent": (lambda c: counts[c.key], True),
    }


def survive(
    found: Sequence[Candidate], chain: Sequence[str], trust: Sequence[str]
) -> Lineage | None:
    """The surviving candidate and the rule that chose it: the first of the chain that
    told it apart from the others still tied (``agreed`` when every record agrees)."""
    if not found:
        return None
    scorers = _scorers(found, trust)
    ordered = sorted(found, key=lambda c: (c.source, c.record_id))
    for r in reversed(chain):  # stable sorts, least important rule first
        key, larger = scorers[r]
        ordered = sorted(ordered, key=key, reverse=larger)
    best = ordered[0]
    rule = "agreed"
    tied = [c for c in ordered if c.key != best.key]
    for r in chain:
        if not tied:
            break
        key, _ = scorers[r]
        if any(key(c) != key(best) for c in tied):
            rule = r
            break
    counts = Counter(c.key for c in found)
    return Lineage(best.value, best.source, best.record_id, best.at, rule, counts[best.key],
                   len(found))  # fmt: skip


def golden_record(
    records: Sequence[RecordValues], survivorship: Survivorship
) -> dict[str, Lineage]:
    """Each attribute's surviving value with its lineage (none for what no record holds)."""
    golden: dict[str, Lineage] = {}
    for attribute in ATTRIBUTES:
        chain = survivorship.rules.get(attribute, DEFAULT_RULES[attribute])
        chosen = survive(candidates(records, attribute), chain, survivorship.trust)
        if chosen is not None:
            golden[attribute] = chosen
    return golden


def distinct_addresses(records: Sequence[RecordValues]) -> list[Candidate]:
    """Every address she gave, once each (the most recent copy), newest first: what a
    checkout can offer to prefill."""
    newest: dict[tuple[str | None, ...], Candidate] = {}
    for c in candidates(records, "address"):
        kept = newest.get(c.key)
        if kept is None or (c.at or "") > (kept.at or ""):
            newest[c.key] = c
    return sorted(newest.values(), key=lambda c: c.at or "", reverse=True)
