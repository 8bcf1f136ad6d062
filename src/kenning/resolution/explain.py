"""Why two records are, or are not, one person: every comparison's level and weight.

The same numbers the batch resolver uses for the pair — prior, Bayes factor per comparison,
term-frequency adjustment — so the explanation can never disagree with the decision. A
waterfall chart (self-contained SVG, in HTML or alone) shows the weights adding up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from html import escape
from typing import Any

import numpy as np
import numpy.typing as npt

from kenning.resolution.comparisons import Comparison
from kenning.resolution.features import Features
from kenning.resolution.model import (
    Model,
    compare_all,
    has_identity_evidence,
    is_household,
    level_weights,
    probability,
    tf_adjustment_matrix,
)

# What each comparison looks at, to show the two records' values beside the level.
SHOWN_COLUMNS: dict[str, tuple[str, ...]] = {
    "first_name": ("first_name",),
    "last_name": ("last_name",),
    "date_of_birth": ("date_of_birth",),
    "email": ("email",),
    "phone": ("phone",),
    "address": ("house_number", "street", "unit"),
    "postcode": ("postcode",),
    "city": ("city",),
    "loyalty_id": ("loyalty_id",),
}


@dataclass(frozen=True)
class Step:
    comparison: str
    level: str
    weight: float  # log2 Bayes factor of the level
    tf_adjustment: float  # log2, term frequency of the value (exact levels only)
    left: str
    right: str
    # an identifier several people hold: its own level where both hold it (see
    # comparisons' settle_nulls), no evidence where one does
    shared: bool


@dataclass(frozen=True)
class Explanation:
    prior_weight: float
    steps: list[Step]
    threshold_weight: float
    # Bits the pair needs beyond the threshold because it agrees on names and places only
    # (0 when it shares something one person has: e-mail, phone, birth date, address, card).
    names_only_margin: float = 0.0

    @property
    def household_weight(self) -> float:
        """The part of the evidence a household shares (surname, address, postcode, town,
        a value several of them hold): it cannot outweigh a conflicting birth date, first
        name, card or contact details."""
        return sum(
            max(0.0, s.weight + s.tf_adjustment)
            for s in self.steps
            if is_household(s.comparison, s.level)
        )

    @property
    def needed(self) -> float:
        """The weight at and above which the pair may join one customer."""
        return self.threshold_weight + self.names_only_margin

    @property
    def total(self) -> float:
        return self.prior_weight + sum(s.weight + s.tf_adjustment for s in self.steps)

    @property
    def probability(self) -> float:
        return float(probability(np.array([self.total]))[0])

    def numbers(self) -> dict[str, Any]:
        """The explanation without the records' values (kept apart from them: values
        change, and are read where the records are when shown)."""
        data = asdict(self)
        for step in data["steps"]:
            del step["left"], step["right"]
        return data

    @classmethod
    def from_numbers(
        cls,
        data: Mapping[str, Any],
        a: Mapping[str, str | None],
        b: Mapping[str, str | None],
    ) -> Explanation:
        """An explanation kept as numbers(), with the values of records ``a`` and ``b``."""
        steps = [
            Step(
                **step,
                left=shown_value(a, step["comparison"]),
                right=shown_value(b, step["comparison"]),
            )
            for step in data["steps"]
        ]
        return cls(data["prior_weight"], steps, data["threshold_weight"], data["names_only_margin"])


def _value(features: Features, columns: Sequence[str], i: int) -> str:
    return " ".join(value for c in columns if (value := features.value(c, i)))


def shown_value(record: Mapping[str, str | None], comparison: str) -> str:
    """What a comparison looks at in a record's normalised values, as one text."""
    columns = SHOWN_COLUMNS.get(comparison, (comparison,))
    return " ".join(value for c in columns if (value := record.get(c)))


def explain_pair(
    model: Model,
    comparisons: Sequence[Comparison],
    features: Features,
    a: int,
    b: int,
    threshold_weight: float,
    names_only_margin: float = 0.0,
) -> Explanation:
    left = np.array([min(a, b)], dtype=np.int64)
    right = np.array([max(a, b)], dtype=np.int64)
    return explain_pairs(
        model, comparisons, features, left, right, threshold_weight, names_only_margin
    )[0]


def explain_pairs(
    model: Model,
    comparisons: Sequence[Comparison],
    features: Features,
    left: npt.NDArray[np.int64],
    right: npt.NDArray[np.int64],
    threshold_weight: float,
    names_only_margin: float = 0.0,
) -> list[Explanation]:
    """The explanations of pairs (``left`` < ``right``, record indices), compared at once."""
    levels = compare_all(comparisons, features, left, right)
    tf = tf_adjustment_matrix(model, comparisons, features, left, levels)
    weights = level_weights(model.weight_table(), comparisons, levels)
    identity = has_identity_evidence(comparisons, levels)
    explanations = []
    for p, (a, b) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
        steps = []
        for k, comparison in enumerate(comparisons):
            level = int(levels[p, k])
            columns = SHOWN_COLUMNS.get(comparison.name, (comparison.name,))
            shared_column = "address_key" if comparison.name == "address" else comparison.name
            flags = features.shared.get(shared_column)
            shared = bool(flags is not None and (flags[a] or flags[b]))
            steps.append(
                Step(
                    comparison.name,
                    comparison.levels[level],
                    float(weights[p, k]),
                    float(tf[p, k]),
                    _value(features, columns, a),
                    _value(features, columns, b),
                    shared,
                )
            )
        margin = 0.0 if identity[p] else names_only_margin
        explanations.append(Explanation(model.prior_weight, steps, threshold_weight, margin))
    return explanations


def waterfall_svg(explanation: Explanation, title: str) -> str:
    """The prior and each comparison's weight as bars, running total on a log2-odds axis."""
    bars = [("prior", explanation.prior_weight)] + [
        (f"{s.comparison}: {s.level}", s.weight + s.tf_adjustment) for s in explanation.steps
    ]
    totals = np.cumsum([w for _, w in bars])
    low = min(0.0, float(totals.min()), explanation.needed) - 2
    high = max(0.0, float(totals.max()), explanation.needed) + 2
    width, row, label_w = 760, 26, 220
    height = row * (len(bars) + 3)

    def x(v: float) -> float:
        return label_w + (v - low) / (high - low) * (width - label_w - 20)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<text x="10" y="18" font-weight="bold">{escape(title)}</text>',
    ]
    start = 0.0
    for n, ((label, weight), end) in enumerate(zip(bars, totals.tolist(), strict=True)):
        y = row * (n + 1) + 8
        colour = "#2e7d32" if weight >= 0 else "#c62828"
        x0, x1 = sorted((x(start), x(end)))
        parts.append(f'<text x="10" y="{y + 14}">{escape(label)}</text>')
        parts.append(
            f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1):.1f}" height="{row - 8}" '
            f'fill="{colour}"/>'
        )
        parts.append(f'<text x="{x1 + 4:.1f}" y="{y + 14}">{weight:+.1f}</text>')
        start = end
    y_end = row * (len(bars) + 1) + 8
    parts.append(
        f'<text x="10" y="{y_end + 14}" font-weight="bold">total {explanation.total:+.1f} '
        f"bits, probability {explanation.probability:.4f}</text>"
    )
    for value, colour in ((0.0, "#555"), (explanation.needed, "#1565c0")):
        parts.append(
            f'<line x1="{x(value):.1f}" y1="{row}" x2="{x(value):.1f}" y2="{y_end}" '
            f'stroke="{colour}" stroke-dasharray="4 3"/>'
        )
    parts.append("</svg>")
    return "\n".join(parts)
