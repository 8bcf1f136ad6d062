"""Imports account for every row: a file that cannot be read to its end, or whose every row
is rejected, fails the import with its file and line and leaves the store as it was; bad rows
(a NUL byte among them) are rejected the same way on both backends; nothing prints a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from kenning.cli import cli
from kenning.ingest import readers
from kenning.ingest.importer import Importer
from kenning.ingest.readers import SourceFileError
from kenning.store import Store, open_store

HEADER = "source,record_id,first_name,email"


def _rows(count: int, first: int = 2) -> list[str]:
    """``count`` good rows, the first of them on line ``first``."""
    return [f"pos,{n},Ann,a{n}@example.com" for n in range(first, first + count)]


def _write(path: Path, lines: list[str], header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def _seeded(store: Store, tmp_path: Path) -> tuple[dict[str, int], int]:
    """A store holding one earlier import, and what it holds."""
    Importer(store).import_files([_write(tmp_path / "earlier.csv", ["web,1,Bo,bo@example.com"])])
    return store.record_counts(), store.event_count()


def _unclosed_quote(path: Path) -> Path:
    """2,001 rows; the one on line 7 opens a quote it never closes."""
    rows = _rows(2001)
    rows[5] = 'pos,7,"Ann,a7@example.com'
    return _write(path, rows)


def test_an_unclosed_quote_fails_the_file_at_its_line(store: Store, tmp_path: Path) -> None:
    before = _seeded(store, tmp_path)
    with pytest.raises(SourceFileError, match=r"quote\.csv:7: .*unclosed quote"):
        Importer(store, batch_size=100).import_files([_unclosed_quote(tmp_path / "quote.csv")])
    assert (store.record_counts(), store.event_count()) == before


def test_a_stray_quote_that_swallows_rows_fails_the_file(store: Store, tmp_path: Path) -> None:
    # The quote opened on line 7 is closed by one on line 500: csv reads lines 7-500 as one
    # malformed record, which would lose 493 rows as one rejection.
    rows = _rows(1000)
    rows[5] = 'pos,7,"Ann,a7@example.com'
    rows[498] = 'pos,500,Ann,"a500@example.com"'
    path = _write(tmp_path / "stray.csv", rows)
    before = _seeded(store, tmp_path)
    with pytest.raises(SourceFileError, match=r"stray\.csv:7: .*lines 7-500"):
        Importer(store, batch_size=100).import_files([path])
    assert (store.record_counts(), store.event_count()) == before


def test_a_quoted_field_past_the_limit_fails_without_reading_on(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reader keeps an open quoted field in memory; past the limit it is an unclosed quote,
    # so a huge file with one never has to be held whole.
    monkeypatch.setattr(readers, "MAX_QUOTED", 1000)
    chunks = readers.read_chunks(_unclosed_quote(tmp_path / "quote.csv"), chunk_rows=10_000)
    with pytest.raises(readers.ParseError, match=r"line 7: .*unclosed quote"):
        next(chunks)


def test_quotes_inside_unquoted_fields_are_literal(store: Store, tmp_path: Path) -> None:
    # Only a quote at the start of a field opens one: 5" and O"Neil are text, as csv reads them.
    path = _write(
        tmp_path / "literal.csv",
        ['pos,1,5" screen,a@example.com', 'pos,2,O"Neil,b@example.com', *_rows(3, first=3)],
    )
    report = Importer(store).import_files([path])
    assert (report.read, report.imported, report.rejected) == (5, 5, 0)
    record = store.get_record("pos", "2")
    assert record is not None and record.raw["first_name"] == 'O"Neil'


def test_a_file_without_a_source_column_fails(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path / "till.csv", ["1,Ann", "2,Bob"], header="record_id,first_name")
    before = _seeded(store, tmp_path)
    with pytest.raises(SourceFileError, match=r"till\.csv:1: no 'source' column"):
        Importer(store).import_files([path])
    assert (store.record_counts(), store.event_count()) == before
    # Named on the command line instead, the same file imports.
    assert Importer(store).import_files([path], source="till").imported == 2


def test_a_file_whose_every_row_is_rejected_fails(store: Store, tmp_path: Path) -> None:
    good = _write(tmp_path / "good.csv", _rows(3))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"record_id": "1"}\n{"record_id": "2"}\n', encoding="utf-8")
    before = _seeded(store, tmp_path)
    with pytest.raises(SourceFileError, match=r"bad\.jsonl:1: every row was rejected \(2\)"):
        Importer(store).import_files([good, bad])
    # One import is one transaction: the good file is not half-imported either.
    assert (store.record_counts(), store.event_count()) == before


def test_a_corrupt_parquet_file_fails(store: Store, tmp_path: Path) -> None:
    whole = tmp_path / "whole.parquet"
    pq.write_table(pa.Table.from_pylist([{"source": "pos", "record_id": "1"}]), whole)
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(whole.read_bytes()[:-20])
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"PAR1" + bytes(range(256)) * 4)
    before = _seeded(store, tmp_path)
    for path in (cut, garbage):
        with pytest.raises(SourceFileError, match=f"{path.name}: not a readable Parquet file"):
            Importer(store).import_files([path])
        assert readers.estimate_rows(path) is None
    assert (store.record_counts(), store.event_count()) == before


def test_a_truncated_json_lines_file_fails(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl"
    path.write_text(
        '{"source": "web", "record_id": "1"}\n{"source": "web", "record_id": "2"}\n'
        '{"source": "web", "rec',
        encoding="utf-8",
    )
    with pytest.raises(SourceFileError, match=r"cut\.jsonl:3: .*truncated"):
        Importer(store).import_files([path])
    assert store.record_counts() == {}


def test_bad_encoding_names_the_file_and_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(("\n".join([HEADER, *_rows(5)]) + "\n").encode() + b"pos,9,Ren\xe9e,r@e.com\n")
    with pytest.raises(SourceFileError, match=r"latin\.csv:7: not utf-8-sig text.*--encoding"):
        Importer(store).import_files([path])
    assert store.record_counts() == {}


def test_nul_bytes_are_rejected_rows_on_both_backends(store: Store, tmp_path: Path) -> None:
    csv_path = _write(tmp_path / "nul.csv", ["pos,1,An\x00n,a@example.com", *_rows(2, first=3)])
    jsonl = tmp_path / "nul.jsonl"
    jsonl.write_text(
        json.dumps({"source": "web", "record_id": "1", "notes": {"a": "x\u0000y"}})
        + "\n"
        + json.dumps({"source": "web", "record_id": "2", "first_name": "Bo"})
        + "\n",
        encoding="utf-8",
    )
    report = Importer(store).import_files([csv_path, jsonl])
    assert (report.read, report.imported, report.rejected) == (5, 3, 2)
    assert [str(r) for r in report.rejections] == [
        f"{csv_path}:2: column 'first_name' holds a NUL byte",
        f"{jsonl}:1: column 'notes' holds a NUL byte",
    ]
    assert store.record_counts() == {"pos": 2, "web": 1}


def test_every_row_read_is_accounted_for(store: Store, tmp_path: Path) -> None:
    first = _write(tmp_path / "first.csv", _rows(4))
    Importer(store).import_files([first])
    again = _write(
        tmp_path / "again.csv",
        [
            *_rows(2),  # unchanged
            "pos,4,Anna,a4@example.com",  # updated
            "pos,9,Ann",  # too few fields
            "",  # a blank line is not a row
            *_rows(2, first=20),  # new
        ],
    )
    report = Importer(store).import_files([again])
    assert report.read == 6
    assert report.read == report.accepted + report.rejected
    assert (report.imported, report.updated, report.unchanged, report.rejected) == (2, 1, 2, 1)
    assert report.accounting() == "6 rows read: 2 imported, 1 updated, 2 unchanged, 1 rejected"


def test_a_broken_file_fails_in_worker_processes_too(tmp_path: Path) -> None:
    rows = _rows(400)
    rows[300] = 'pos,302,"Ann,a302@example.com'
    rows[350] = 'pos,352,Ann,"a352@example.com"'
    path = _write(tmp_path / "stray.csv", rows)
    with open_store(f"sqlite:///{tmp_path / 'k.db'}") as store:
        importer = Importer(store, batch_size=50, workers=2, parallel_from=1)
        with pytest.raises(SourceFileError, match=r"stray\.csv:302: .*lines 302-352"):
            importer.import_files([path], expected_rows=400)
        assert store.record_counts() == {}


# ------------------------------------------------------------------------- the command line
def _run(store_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", store_url, *args])
    return result.exit_code, result.output


def _says(output: str, text: str) -> bool:
    """Whether the output holds ``text``, however the terminal wrapped it."""
    return "".join(text.split()) in "".join(output.split())


def test_cli_fails_a_broken_file_with_its_line(store_url: str, tmp_path: Path) -> None:
    quote = _unclosed_quote(tmp_path / "quote.csv")
    nosource = _write(tmp_path / "till.csv", ["1,Ann"], header="record_id,first_name")
    parquet = tmp_path / "bad.parquet"
    parquet.write_bytes(b"PAR1 not really")
    for path, expected in (
        (quote, f"{quote}:7: a quoted field opens here and never closes"),
        (nosource, f"{nosource}:1: no 'source' column"),
        (parquet, f"{parquet}: not a readable Parquet file"),
    ):
        code, output = _run(store_url, "import", str(path))
        assert code == 1, output
        assert _says(output, expected) and "Nothing was imported" in output
        assert "Traceback" not in output
    with open_store(store_url) as store:
        assert store.record_counts() == {} and store.event_count() == 0


def test_cli_prints_where_every_row_went(store_url: str, tmp_path: Path) -> None:
    path = _write(tmp_path / "nul.csv", ["pos,1,An\x00n,a@example.com", *_rows(1999, first=3)])
    code, output = _run(store_url, "import", str(path))
    assert code == 0, output
    assert "2,000 rows read: 1,999 imported, 1 rejected" in output
    assert _says(output, f"rejected {path}:2: column 'first_name' holds a NUL byte")
    assert "Traceback" not in output
    with open_store(store_url) as store:
        assert store.record_counts() == {"pos": 1999}


# ------------------------------------------------------------------- the other file importers
LOCATIONS = "id,name,kind,market,latitude,longitude,pickup,ship_capacity"
ORDERS = "order_id,source,record_id,channel,store_id,associate_id,ordered_at,currency,total"


def _file(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_reference_files_that_cannot_be_read_fail_with_their_line(
    store_url: str, tmp_path: Path
) -> None:
    locations = _file(
        tmp_path / "locations.csv",
        LOCATIONS,
        "LDN,London,store,GB,51.5,-0.14,yes,20",
        'MAN,"Manchester,store,GB,53.5,-2.2,yes,20',
        "WH,Warehouse,warehouse,GB,52.2,-1.1,,",
    )
    stock = _file(tmp_path / "stock.csv", "sku,location,on_hand", 'BAG-1,"LDN,4', "BAG-2,LDN,1")
    prices = tmp_path / "prices.csv"
    prices.write_bytes(b"sku,market,currency,price\nBAG-1,GB,GBP,10\nBAG-2,GB,GBP,\xa310\n")
    for args, expected in (
        (("locations", "import", str(locations)), f"{locations}:3: a quoted field opens here"),
        (("import-stock", str(stock)), f"{stock}:2: a quoted field opens here"),
        (("prices", "import", str(prices)), f"{prices}:3: not utf-8-sig text"),
    ):
        code, output = _run(store_url, *args)
        assert code == 1, output
        assert _says(output, expected) and "Traceback" not in output
    with open_store(store_url) as store:
        assert store.stock_rows(["BAG-1", "BAG-2"]) == []
    # The locations file fixed, the same stock file still fails: nothing half-written.
    _file(locations, LOCATIONS, "LDN,London,store,GB,51.5,-0.14,yes,20")
    assert _run(store_url, "locations", "import", str(locations))[0] == 0
    assert _run(store_url, "import-stock", str(stock))[0] == 1
    with open_store(store_url) as store:
        assert store.stock_rows(["BAG-1", "BAG-2"]) == []


def test_reference_rows_with_nul_or_extra_fields_are_rejected(
    store_url: str, tmp_path: Path
) -> None:
    locations = _file(tmp_path / "locations.csv", LOCATIONS, "LDN,London,store,GB,51.5,-0.14")
    assert _run(store_url, "locations", "import", str(locations))[0] == 0
    stock = _file(
        tmp_path / "stock.csv",
        "sku,location,on_hand",
        "BAG-\x001,LDN,4",  # a NUL: PostgreSQL cannot store it, so neither backend does
        "BAG-2,LDN,1,extra",  # a field too many
        "BAG-3,LDN,2",
    )
    code, output = _run(store_url, "import-stock", str(stock))
    assert code == 0, output
    assert _says(output, "3 rows read: 1 stock levels written, 2 rejected.")
    assert _says(output, "line 2: holds a NUL byte")
    assert _says(output, "line 3: expected 3 fields, found 4")
    assert "Traceback" not in output
    with open_store(store_url) as store:
        assert [row[:3] for row in store.stock_rows(["BAG-3"])] == [("BAG-3", "LDN", 2)]


def test_a_reference_file_whose_every_row_is_rejected_fails(store_url: str, tmp_path: Path) -> None:
    stock = _file(tmp_path / "stock.csv", "sku,location,on_hand", "BAG-1,NOWHERE,4", "BAG-2,X,1")
    code, output = _run(store_url, "import-stock", str(stock))
    assert code == 1, output
    assert _says(output, f"{stock}: every row was rejected (2); the first, line 2: unknown")
    assert "Nothing was imported" in output and "Traceback" not in output


def _activity(tmp_path: Path, *orders: str) -> Path:
    folder = tmp_path / "retailer"
    (folder / "activity").mkdir(parents=True)
    _file(folder / "activity" / "orders.csv", ORDERS, *orders)
    _file(
        folder / "activity" / "returns.csv", "order_id,sku,returned_at,amount", "O1,S,2024-01-02,5"
    )
    return folder


def test_activity_files_fail_or_reject_with_their_line(store_url: str, tmp_path: Path) -> None:
    good = "O{n},pos,{n},store,LDN,A1,2024-01-01T10:00:00+00:00,GBP,12.50"
    broken = _activity(
        tmp_path / "broken", good.format(n=1), 'O2,pos,2,"store,LDN,A1,2024,GBP,1', good.format(n=3)
    )
    code, output = _run(store_url, "import-activity", str(broken))
    assert code == 1, output
    assert _says(output, f"{broken / 'activity' / 'orders.csv'}:3: a quoted field opens here")
    assert "Nothing was imported" in output and "Traceback" not in output
    with open_store(store_url) as store:
        assert store.activity_count("activity_orders") == 0
        assert store.activity_count("activity_returns") == 0

    rows = _activity(
        tmp_path / "rows",
        good.format(n=1),
        "O2,pos,2,store,LDN,A1,2024-01-01T10:00:00+00:00,GBP,1,extra",
        good.format(n=3),
    )
    code, output = _run(store_url, "import-activity", str(rows))
    assert code == 0, output
    assert _says(output, "4 rows read: 3 given, 1 rejected")
    assert _says(output, f"{rows / 'activity' / 'orders.csv'}:3: expected 9 fields, found 10")
    with open_store(store_url) as store:
        assert store.activity_count("activity_orders") == 2

    # A file without a column every row needs: each row is rejected, so the import fails.
    missing = _activity(tmp_path / "missing", good.format(n=1))
    _file(missing / "activity" / "returns.csv", "order_id,sku,returned_at", "O1,S,2024-01-02")
    code, output = _run(store_url, "import-activity", str(missing))
    assert code == 1, output
    assert _says(output, "every row was rejected (1); the first,")
    assert _says(output, "returns.csv:2: no 'amount' column")


def test_rejects_file_holds_every_rejected_row(tmp_path: Path) -> None:
    # 1,500 bad rows: more than the report keeps (1,000), all counted and all written.
    rows = [*_rows(10), *(f"pos,{n},too,many,fields" for n in range(100, 1600))]
    path = _write(tmp_path / "bad.csv", rows)
    rejects = tmp_path / "rejects.tsv"
    code, output = _run(
        f"sqlite:///{tmp_path / 'k.db'}", "import", str(path), "--rejects", str(rejects)
    )
    assert code == 0, output
    assert _says(output, "1,510 rows read: 10 imported, 1,500 rejected")
    lines = rejects.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "file\tline\treason" and len(lines) == 1501
    assert lines[-1] == f"{path}\t1511\texpected 4 fields, found 5"
