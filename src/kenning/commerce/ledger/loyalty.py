"""Loyalty: points earned on an order by earn rules (points per currency unit, by channel or
category), bonus campaigns (dated multipliers and flat bonuses) and the customer's tier,
itself given by their spend over a rolling window. Integers throughout: points are whole,
percentages are whole percent, and every division rounds down (never a point too many).

The programme is data: it round-trips through ``to_dict`` / ``programme_from_dict``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from kenning.commerce.ledger.errors import LedgerError
from kenning.commerce.ledger.postings import exponent


@dataclass(frozen=True, slots=True)
class EarnRule:
    """``points_per_unit`` points per whole currency unit (per £1) of the lines it matches;
    None for channel or category matches any. The most specific matching rule applies."""

    points_per_unit: int
    channel: str | None = None
    category: str | None = None

    def matches(self, channel: str, category: str | None) -> bool:
        return (self.channel is None or self.channel == channel) and (
            self.category is None or self.category == category
        )

    @property
    def specificity(self) -> int:
        return 2 * (self.category is not None) + (self.channel is not None)


@dataclass(frozen=True, slots=True)
class Campaign:
    """Between ``starts_at`` (included) and ``ends_at`` (excluded), matching lines earn
    ``multiplier_percent`` of their points (200: double), and a matching order gets
    ``bonus_points`` once. Of several campaigns on a line the best multiplier applies."""

    name: str
    starts_at: str
    ends_at: str
    multiplier_percent: int = 100
    bonus_points: int = 0
    channel: str | None = None
    category: str | None = None

    def live(self, at: str) -> bool:
        return self.starts_at <= at < self.ends_at


@dataclass(frozen=True, slots=True)
class Tier:
    """Reached with ``min_spend`` (minor units) over the rolling window; earns
    ``earn_percent`` of the base points (150: half as much again)."""

    name: str
    min_spend: int
    earn_percent: int = 100


@dataclass(frozen=True, slots=True)
class Programme:
    rules: tuple[EarnRule, ...] = (EarnRule(1),)
    campaigns: tuple[Campaign, ...] = ()
    tiers: tuple[Tier, ...] = ()
    tier_window_days: int = 365
    points_expire_days: int | None = 365  # earned points expire after; None: never

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def programme_from_dict(data: Mapping[str, Any]) -> Programme:
    try:
        programme = Programme(
            rules=tuple(EarnRule(**r) for r in data.get("rules", ({"points_per_unit": 1},))),
            campaigns=tuple(Campaign(**c) for c in data.get("campaigns", ())),
            tiers=tuple(Tier(**t) for t in data.get("tiers", ())),
            tier_window_days=int(data.get("tier_window_days", 365)),
            points_expire_days=data.get("points_expire_days", 365),
        )
    except TypeError as exc:
        raise LedgerError("invalid", f"not a loyalty programme: {exc}") from None
    return check_programme(programme)


def check_programme(programme: Programme) -> Programme:
    if any(rule.points_per_unit < 0 for rule in programme.rules):
        raise LedgerError("invalid", "points per unit cannot be negative")
    for campaign in programme.campaigns:
        if campaign.multiplier_percent < 0 or campaign.bonus_points < 0:
            raise LedgerError("invalid", f"campaign {campaign.name}: negative multiplier or bonus")
        if campaign.ends_at <= campaign.starts_at:
            raise LedgerError("invalid", f"campaign {campaign.name} ends before it starts")
    names = [tier.name for tier in programme.tiers]
    if len(set(names)) != len(names) or any(t.min_spend < 0 for t in programme.tiers):
        raise LedgerError("invalid", "tiers need distinct names and spend thresholds of 0 or more")
    if programme.tier_window_days <= 0:
        raise LedgerError("invalid", "the tier window must be at least a day")
    if programme.points_expire_days is not None and programme.points_expire_days <= 0:
        raise LedgerError("invalid", "points must last at least a day (or never expire)")
    return programme


@dataclass(frozen=True, slots=True)
class EarnLine:
    sku: str
    amount: int  # what the customer paid for the line, in minor units
    category: str | None = None


@dataclass(frozen=True, slots=True)
class LineEarn:
    sku: str
    base: int  # points from the earn rule
    points: int  # after the tier and the best campaign
    campaign: str | None


@dataclass(frozen=True, slots=True)
class Earned:
    points: int
    tier: str | None
    lines: tuple[LineEarn, ...]
    bonuses: tuple[tuple[str, int], ...] = field(default=())  # (campaign, points)


def tier_for(tiers: Sequence[Tier], spend: int) -> Tier | None:
    """The highest tier whose threshold ``spend`` reaches (None: below every tier)."""
    reached = [tier for tier in tiers if spend >= tier.min_spend]
    return max(reached, key=lambda tier: tier.min_spend, default=None)


def _rule(rules: Sequence[EarnRule], channel: str, category: str | None) -> EarnRule | None:
    matching = [rule for rule in rules if rule.matches(channel, category)]
    return max(matching, key=lambda rule: rule.specificity, default=None)


def earn(
    programme: Programme,
    lines: Sequence[EarnLine],
    *,
    channel: str,
    currency: str,
    at: str,
    spend: int = 0,
) -> Earned:
    """Points an order earns: each line by its most specific rule, times the tier's and the
    best live campaign's percentages, plus the bonuses of live campaigns for the channel.
    ``spend`` is the customer's rolling spend before this order (it sets the tier)."""
    tier = tier_for(programme.tiers, spend)
    tier_percent = tier.earn_percent if tier else 100
    per_unit = 10 ** exponent(currency)
    live = [c for c in programme.campaigns if c.live(at)]
    earned: list[LineEarn] = []
    for line in lines:
        if line.amount < 0:
            raise LedgerError("invalid", f"line {line.sku}: negative amount")
        rule = _rule(programme.rules, channel, line.category)
        base = 0 if rule is None else line.amount * rule.points_per_unit // per_unit
        best = max(
            (
                c
                for c in live
                if c.multiplier_percent != 100
                and EarnRule(0, c.channel, c.category).matches(channel, line.category)
            ),
            key=lambda c: c.multiplier_percent,
            default=None,
        )
        campaign_percent = best.multiplier_percent if best else 100
        points = base * tier_percent * campaign_percent // 10_000
        earned.append(LineEarn(line.sku, base, points, best.name if best else None))
    categories = {line.category for line in lines}
    bonuses = tuple(
        (c.name, c.bonus_points)
        for c in live
        if c.bonus_points
        and (c.channel is None or c.channel == channel)
        and (c.category is None or c.category in categories)
    )
    total = sum(line.points for line in earned) + sum(points for _, points in bonuses)
    return Earned(total, tier.name if tier else None, tuple(earned), bonuses)
