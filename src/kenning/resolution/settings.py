"""Resolution settings: data, with retail defaults that work with zero configuration.

They round-trip through JSON (and YAML, which is JSON's superset here), so a data engineer
can keep them in version control next to the retailer's other configuration.
"""

from __future__ import annotations

import math
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, field_validator

from kenning.resolution.blocking import DEFAULT_RULES, BlockingRule
from kenning.resolution.clustering import ConflictPenalties


class ResolutionSettings(BaseModel):
    model_config = {"extra": "forbid"}

    # Candidate pairs: records equal on every column of at least one rule.
    blocking_rules: list[list[str]] = Field(
        default_factory=lambda: [list(rule.columns) for rule in DEFAULT_RULES]
    )
    # A value shared by more records than this forms no block (see blocking.py).
    max_block: int = Field(default=200, ge=2)
    # Match probability at and above which two records may join one customer.
    threshold: float = Field(default=0.95, gt=0.0, lt=1.0)
    # An identifier held by records of this many different first names stops counting.
    shared_threshold: int = Field(default=2, ge=2)
    # Bits beyond the threshold a merge needs to join clusters that disagree on a birth
    # date, a first name or a loyalty card (see clustering.ConflictPenalties).
    penalty_date_of_birth: float = Field(default=25.0, ge=0)
    penalty_first_name: float = Field(default=20.0, ge=0)
    penalty_loyalty_id: float = Field(default=25.0, ge=0)
    penalty_contacts: float = Field(default=20.0, ge=0)
    # Two records that agree on nothing one person has (e-mail, phone, birth date, address,
    # loyalty card), only on names and places, need this probability instead: namesakes in
    # one town are common. None: never join on names and places alone.
    name_only_threshold: float | None = Field(default=0.999, gt=0.0, lt=1.0)
    # `kenning resolve` trains a model of the store's own from this many records; with
    # fewer it resolves with the prior model shipped with Kenning (resolution/prior.py).
    # Below it a model trained on the records alone was up to 0.02 F1 worse than the prior
    # on retail data; from it, within 0.003 there and as good or better on register data,
    # whose shape the store's own model learns: benchmarks/prior_switch.py and
    # docs/benchmarks.md.
    train_from_records: int = Field(default=1_000, ge=0)
    u_pairs: int = Field(default=3_000_000, ge=1000)  # random pairs for u
    em_pairs: int = Field(default=2_000_000, ge=1000)  # candidate pairs sampled for EM
    seed: int = 0
    # Pairs a batch run keeps for a person to review (`kenning review`): those nearest the
    # threshold, which answers teach the model most about.
    review_pairs: int = Field(default=200, ge=0, le=10_000)

    @field_validator("blocking_rules")
    @classmethod
    def _rules_not_empty(cls, rules: list[list[str]]) -> list[list[str]]:
        if not rules or any(not rule for rule in rules):
            raise ValueError("blocking_rules needs at least one rule of at least one column")
        return rules

    def penalties(self) -> ConflictPenalties:
        return ConflictPenalties(
            self.penalty_date_of_birth,
            self.penalty_first_name,
            self.penalty_loyalty_id,
            self.penalty_contacts,
        )

    def rules(self) -> tuple[BlockingRule, ...]:
        return tuple(BlockingRule(tuple(rule)) for rule in self.blocking_rules)

    @property
    def threshold_weight(self) -> float:
        """The threshold as a match weight (log2 odds)."""
        return math.log2(self.threshold / (1 - self.threshold))

    @property
    def name_only_margin(self) -> float:
        """Bits a names-and-places-only pair needs beyond the threshold (inf: never joins)."""
        if self.name_only_threshold is None:
            return math.inf
        p = self.name_only_threshold
        return max(0.0, math.log2(p / (1 - p)) - self.threshold_weight)

    @classmethod
    def load(cls, path: Path) -> ResolutionSettings:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else None
        return cls.model_validate(data) if data is not None else cls.model_validate_json(text)

    def dump(self, path: Path) -> None:
        if path.suffix in (".yaml", ".yml"):
            path.write_text(yaml.safe_dump(self.model_dump(), sort_keys=False), encoding="utf-8")
        else:
            path.write_text(self.model_dump_json(indent=2), encoding="utf-8")
