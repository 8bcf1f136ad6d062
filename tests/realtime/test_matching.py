"""The real-time matcher's keys agree with the batch features'."""

from __future__ import annotations

import csv
from pathlib import Path

from kenning.domain.normalised import NORMALISED_FIELDS, normalise_record
from kenning.domain.records import build_record
from kenning.resolution.blocking import DEFAULT_RULES, record_keys
from kenning.resolution.features import IDENTIFIERS, build_features
from kenning.resolution.pipeline import RecordTable
from kenning.services.matching import identifier_keys


def test_identifier_keys_from_values_equal_the_features_keys(batch_retailer: Path) -> None:
    rows = []
    with (batch_retailer / "records" / "pos.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            norm = normalise_record(build_record(row)).values()
            rows.append(
                ((row["source"], row["record_id"]), dict(zip(NORMALISED_FIELDS, norm, strict=True)))
            )
    table = RecordTable.from_rows(rows, NORMALISED_FIELDS)
    _, keys, names = record_keys(build_features(table.columns), DEFAULT_RULES)
    expected = {k for k, name in zip(keys.tolist(), names, strict=True) if name in IDENTIFIERS}
    assert expected and set(identifier_keys(values for _, values in rows)) == expected
