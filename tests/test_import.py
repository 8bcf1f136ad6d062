"""Importing source files: good rows, updates, repeats, bad rows, failures, the log."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kenning.ingest.importer import Importer
from kenning.ingest.readers import SourceFileError
from kenning.ingest.rebuild import rebuild_records
from kenning.store import Store

HEADER = (
    "source,record_id,first_name,last_name,full_name,email,phone,date_of_birth,country,store_id"
)
ROWS = [
    "pos,1,Theresa,Whitfield,,T.Whitfield@Gmail.com,020 7946 0123,14/03/1981,GB,LON1",
    'pos,2,,,"Mr John A. Smith Jr.",noemail@store.com,0000000000,N/A,UK,LON2',
    "web,1,Bill,O'Brien,,bill.obrien+shop@outlook.com,(215) 555-0134,03/14/1981,US,",
]


def _csv(path: Path, *rows: str, header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_import_normalises_and_keeps_attributes(store: Store, tmp_path: Path) -> None:
    report = Importer(store).import_files([_csv(tmp_path / "a.csv", *ROWS)])
    assert (report.imported, report.updated, report.unchanged, report.rejected) == (3, 0, 0, 0)
    assert store.record_counts() == {"pos": 2, "web": 1}

    theresa = store.get_record("pos", "1")
    assert theresa is not None
    assert theresa.normalised["email"] == "twhitfield@gmail.com"
    assert theresa.normalised["phone"] == "+442079460123"
    assert theresa.normalised["date_of_birth"] == "1981-03-14"
    assert theresa.raw["attributes"] == {"store_id": "LON1"}

    # full_name is split when first/last are missing; placeholders are dropped and counted.
    john = store.get_record("pos", "2")
    assert john is not None
    assert (john.normalised["first_name"], john.normalised["last_name"]) == ("john", "smith")
    assert john.normalised["email"] is None
    assert john.normalised["phone"] is None
    assert john.normalised["country"] == "GB"
    assert report.dropped[("email", "placeholder")] == 1
    assert report.dropped[("phone", "placeholder")] == 1
    assert report.dropped[("date_of_birth", "placeholder")] == 1

    # A US date is month first.
    bill = store.get_record("web", "1")
    assert bill is not None
    assert bill.normalised["date_of_birth"] == "1981-03-14"
    assert bill.normalised["phone"] == "+12155550134"


def test_reimport_updates_never_duplicates(store: Store, tmp_path: Path) -> None:
    importer = Importer(store)
    importer.import_files([_csv(tmp_path / "a.csv", *ROWS)])
    again = importer.import_files([_csv(tmp_path / "a.csv", *ROWS)])
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 3)
    assert store.event_count() == 3

    changed = ROWS[0].replace("T.Whitfield@Gmail.com", "theresa@whitfield.co.uk")
    third = importer.import_files([_csv(tmp_path / "b.csv", changed)])
    assert (third.imported, third.updated, third.unchanged) == (0, 1, 0)
    assert store.record_counts() == {"pos": 2, "web": 1}
    record = store.get_record("pos", "1")
    assert record is not None and record.normalised["email"] == "theresa@whitfield.co.uk"
    assert [e.record_id for e in store.iter_events() if e.source == "pos"] == ["1", "2", "1"]


def test_column_order_does_not_make_an_update(store: Store, tmp_path: Path) -> None:
    first = _csv(
        tmp_path / "a.csv", "pos,1,Ann,Lee", header="source,record_id,first_name,last_name"
    )
    Importer(store).import_files([first])
    reordered = _csv(
        tmp_path / "b.csv", "Lee,Ann,1,pos", header="last_name,first_name,record_id,source"
    )
    assert Importer(store).import_files([reordered]).unchanged == 1


def test_same_record_twice_in_one_file(store: Store, tmp_path: Path) -> None:
    header = "source,record_id,email"
    report = Importer(store, batch_size=10).import_files(
        [
            _csv(
                tmp_path / "a.csv",
                "pos,1,a@shop.com",
                "pos,1,b@shop.com",
                "pos,1,b@shop.com",
                header=header,
            )
        ]
    )
    assert (report.imported, report.updated, report.unchanged) == (1, 1, 1)
    assert store.record_counts() == {"pos": 1}


def test_older_copy_is_stale(store: Store, tmp_path: Path) -> None:
    header = "source,record_id,email,updated_at"
    importer = Importer(store)
    importer.import_files(
        [_csv(tmp_path / "a.csv", "pos,1,new@shop.com,2026-05-01", header=header)]
    )
    report = importer.import_files(
        [_csv(tmp_path / "b.csv", "pos,1,old@shop.com,2025-01-01", header=header)]
    )
    assert report.stale == 1
    record = store.get_record("pos", "1")
    assert record is not None and record.normalised["email"] == "new@shop.com"


def test_bad_rows_are_reported_and_the_rest_imported(store: Store, tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "bad.csv",
        ROWS[0],
        "pos,,Ann,Lee,,,,,,",  # no record_id
        "pos,9,too,few",  # wrong field count
        "Point of Sale!,5,Ann,Lee,,,,,,",  # invalid source name
        ROWS[2],
    )
    report = Importer(store).import_files([path])
    assert report.imported == 2
    assert report.rejected == 3
    reasons = {r.line: r.reason for r in report.rejections}
    assert set(reasons) == {3, 4, 5}
    assert "record_id is missing" in reasons[3]
    assert "expected 10 fields, found 4" in reasons[4]
    assert "invalid source name" in reasons[5]
    assert all(r.file == str(path) for r in report.rejections)


def test_source_option_names_files_without_a_source_column(store: Store, tmp_path: Path) -> None:
    path = _csv(tmp_path / "till.csv", "1,Ann,Lee", header="Customer ID,First Name,Surname")
    report = Importer(store).import_files([path], source="pos-london")
    assert report.imported == 1
    record = store.get_record("pos-london", "1")
    assert record is not None and record.normalised["last_name"] == "lee"

    with pytest.raises(SourceFileError, match="no 'source' column"):
        Importer(store).import_files([path])


def test_failure_half_way_leaves_the_store_as_it_was(store: Store, tmp_path: Path) -> None:
    Importer(store).import_files([_csv(tmp_path / "first.csv", ROWS[0])])
    path = tmp_path / "broken.csv"
    good = "\n".join(f"pos,{i},Ann,Lee,,,,,GB," for i in range(100, 160))
    path.write_bytes((HEADER + "\n" + good + "\n").encode() + b"pos,999,\xff\xfe,Lee,,,,,GB,\n")
    with pytest.raises(SourceFileError, match="--encoding"):
        Importer(store, batch_size=10).import_files([path])
    assert store.record_counts() == {"pos": 1}
    assert store.event_count() == 1


def test_missing_file_imports_nothing(store: Store, tmp_path: Path) -> None:
    good = _csv(tmp_path / "good.csv", *ROWS)
    with pytest.raises(SourceFileError, match="no such file"):
        Importer(store).import_files([good, tmp_path / "missing.csv"])
    assert store.record_counts() == {}


def test_unknown_file_type_is_a_clear_error(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "records.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(SourceFileError, match="unknown file type"):
        Importer(store).import_files([path])


def test_every_format_gives_the_same_records(store: Store, tmp_path: Path) -> None:
    columns = HEADER.split(",")
    import csv
    import io

    rows = [dict(zip(columns, r, strict=True)) for r in csv.reader(io.StringIO("\n".join(ROWS)))]
    jsonl = tmp_path / "a.jsonl.gz"
    with gzip.open(jsonl, "wt", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps({k: v for k, v in row.items() if v}) + "\n")
    parquet = tmp_path / "a.parquet"
    pq.write_table(pa.Table.from_pylist(rows), parquet)

    Importer(store).import_files([_csv(tmp_path / "a.csv", *ROWS)])
    for path in (jsonl, parquet):
        report = Importer(store).import_files([path])
        assert report.unchanged == 3, path


def test_jsonl_numbers_and_bad_lines(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "web.jsonl"
    path.write_text(
        '{"source": "web", "record_id": 17, "phone": 2155550134, "country": "US"}\n'
        "not json\n"
        '["a list"]\n'
        '{"source": "web", "record_id": "18", "first_name": {"nested": 1}}\n',
        encoding="utf-8",
    )
    report = Importer(store).import_files([path])
    assert report.imported == 1 and report.rejected == 3
    record = store.get_record("web", "17")
    assert record is not None and record.normalised["phone"] == "+12155550134"


def test_rebuild_from_the_log_gives_the_same_state(store: Store, tmp_path: Path) -> None:
    importer = Importer(store)
    importer.import_files([_csv(tmp_path / "a.csv", *ROWS)])
    importer.import_files([_csv(tmp_path / "b.csv", ROWS[1].replace("Mr John", "Dr Jon"))])
    before = list(store.iter_records())
    report = rebuild_records(store)
    assert report.imported == 3 and report.updated == 1
    assert list(store.iter_records()) == before


def test_worker_processes_give_the_same_result(tmp_path: Path) -> None:
    from kenning.store import open_store

    lines = [
        f"pos,{i},Ann{i % 7},Lee,,ann{i}@shop.com,020 7946 {i % 10000:04d},,GB,S1"
        for i in range(3000)
    ]
    lines.insert(1500, "pos,,broken,row")
    path = _csv(tmp_path / "many.csv", *lines)
    results = []
    for workers, name in ((0, "one.db"), (2, "two.db")):
        with open_store(f"sqlite:///{tmp_path / name}") as store:
            report = Importer(store, workers=workers, batch_size=250, parallel_from=0).import_files(
                [path]
            )
            results.append(
                (report.imported, report.rejected, report.rejections, list(store.iter_records()))
            )
    assert results[0] == results[1]
    assert results[0][0] == 3000 and results[0][1] == 1
    assert results[0][2][0].line == 1502


def test_markets_read_records_that_name_no_country(store: Store, tmp_path: Path) -> None:
    """A till export names no country; within the retailer's markets a British mobile and an
    American ZIP can each be only one country's, and the birth date is read as there."""
    header = "source,record_id,first_name,last_name,phone,date_of_birth,postcode"
    rows = ["pos,1,Ann,Lee,07911 123456,03/04/1990,", "pos,2,Bo,Ray,,03/04/1990,19146"]
    Importer(store, markets=("GB", "US")).import_files(
        [_csv(tmp_path / "a.csv", *rows, header=header)]
    )
    ann, bo = store.get_record("pos", "1"), store.get_record("pos", "2")
    assert ann is not None and bo is not None
    assert (ann.normalised["country"], ann.normalised["phone"]) == ("GB", "+447911123456")
    assert ann.normalised["date_of_birth"] == "1990-04-03"  # day first in Britain
    assert (bo.normalised["country"], bo.normalised["date_of_birth"]) == ("US", "1990-03-04")
    read_in_markets = list(store.iter_records())

    # Without markets the number means nothing; a rebuild applies a change of markets.
    rebuild_records(store)
    ann = store.get_record("pos", "1")
    assert ann is not None and (ann.normalised["country"], ann.normalised["phone"]) == (None, None)
    rebuild_records(store, markets=("GB", "US"))
    assert list(store.iter_records()) == read_in_markets
