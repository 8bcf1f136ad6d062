"""Reading source files in chunks: records never split, line numbers stay true."""

from __future__ import annotations

from pathlib import Path

import pytest

from kenning.ingest.readers import RowError, SourceFileError, read_chunks, read_rows


def test_quoted_newlines_never_split_a_record(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    rows = ["record_id,note"]
    for i in range(1, 30):
        rows.append(
            f'{i},"line one\nline two, with ""quotes""\nline three"' if i % 3 else f"{i},short"
        )
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")

    chunks = list(read_chunks(path, chunk_rows=4))
    assert len(chunks) > 3
    items = list(read_rows(path))
    assert [row["record_id"] for _, row in items if not isinstance(row, RowError)] == [
        str(i) for i in range(1, 30)
    ]
    # Record 4 is short; records 1-3 took 3 + 3 + 1 lines after the header on line 1.
    lines = {row["record_id"]: line for line, row in items if not isinstance(row, RowError)}
    assert lines["1"] == 2 and lines["2"] == 5 and lines["3"] == 8 and lines["4"] == 9
    assert all(
        row["note"] == 'line one\nline two, with "quotes"\nline three'
        for _, row in items
        if not isinstance(row, RowError) and int(row["record_id"]) % 3
    )


def test_headers_are_folded_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("Customer ID,First Name,E-mail Address\n1,Ann,a@b.com\n", encoding="utf-8")
    [(line, row)] = list(read_rows(path))
    assert line == 2
    assert row == {"record_id": "1", "first_name": "Ann", "email": "a@b.com"}

    clash = tmp_path / "b.csv"
    clash.write_text("zip,postcode\n1,2\n", encoding="utf-8")
    with pytest.raises(SourceFileError, match="both mean 'postcode'"):
        list(read_rows(clash))


def test_tsv_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.tsv"
    path.write_text("record_id\tlast_name\n1\tLee\n\n2\tO'Neil\n", encoding="utf-8")
    assert [(line, row["last_name"]) for line, row in read_rows(path)] == [  # type: ignore[index]
        (2, "Lee"),
        (4, "O'Neil"),
    ]
