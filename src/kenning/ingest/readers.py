"""Streaming readers for source files: CSV, JSON Lines and Parquet (optionally gzipped).

Each reader yields ``(line, row)`` where ``row`` maps folded column names to values, or
``(line, RowError)`` for a row that cannot be read, so one bad row never stops a file.
Files are read as streams: memory stays flat whatever their size.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from kenning.domain.records import fold_column

# Real exports hold long free-text columns (notes, addresses); the csv default is 128 KiB.
csv.field_size_limit(16 * 1024 * 1024)

SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet")


class SourceFileError(Exception):
    """A file that cannot be imported at all (missing, unreadable, wrong format)."""


class RowError(Exception):
    """One row that cannot be read; the rest of the file goes on."""


Row = dict[str, Any]
ReadItem = tuple[int, Row | RowError]


def file_format(path: Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return {".ndjson": ".jsonl", ".json": ".jsonl"}.get(suffix, suffix).lstrip(".")
    raise SourceFileError(
        f"{path}: unknown file type; expected one of {', '.join(SUFFIXES)} (optionally .gz)"
    )


def check_readable(path: Path) -> None:
    """Fail before anything is imported if a file is missing or unreadable."""
    if not path.exists():
        raise SourceFileError(f"{path}: no such file")
    if not path.is_file():
        raise SourceFileError(f"{path}: not a file")
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise SourceFileError(f"{path}: cannot read ({exc.strerror})") from None
    file_format(path)


def _open_text(path: Path, encoding: str) -> IO[str]:
    raw: IO[bytes] = gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")  # noqa: SIM115
    return io.TextIOWrapper(raw, encoding=encoding, newline="")


def _fold_header(path: Path, header: list[str]) -> list[str]:
    folded = [fold_column(name) for name in header]
    seen: dict[str, str] = {}
    for original, name in zip(header, folded, strict=True):
        if not name:
            raise SourceFileError(f"{path}: the header has an empty column name")
        if name in seen:
            raise SourceFileError(
                f"{path}: columns {seen[name]!r} and {original!r} both mean {name!r}"
            )
        seen[name] = original
    return folded


def read_csv(path: Path, encoding: str = "utf-8-sig", delimiter: str = ",") -> Iterator[ReadItem]:
    with _open_text(path, encoding) as text:
        reader = csv.reader(text, delimiter=delimiter, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise SourceFileError(f"{path}: cannot read the header: {exc}") from None
        columns = _fold_header(path, header)
        width = len(columns)
        while True:
            line = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield line, RowError(f"malformed CSV: {exc}")
                continue
            if not values:  # blank line
                continue
            if len(values) != width:
                yield line, RowError(f"expected {width} fields, found {len(values)}")
                continue
            yield line, dict(zip(columns, values, strict=True))


def read_jsonl(path: Path, encoding: str = "utf-8") -> Iterator[ReadItem]:
    with _open_text(path, encoding) as text:
        for line, content in enumerate(text, start=1):
            if not content.strip():
                continue
            try:
                value = orjson.loads(content)
            except orjson.JSONDecodeError as exc:
                yield line, RowError(f"invalid JSON: {exc}")
                continue
            if not isinstance(value, dict):
                yield line, RowError("expected a JSON object")
                continue
            row: Row = {}
            for key, item in value.items():
                name = fold_column(key)
                if name in row:
                    yield line, RowError(f"two keys mean {name!r}")
                    break
                row[name] = item
            else:
                yield line, row


def read_parquet(path: Path, batch_size: int = 10_000) -> Iterator[ReadItem]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise SourceFileError(f"{path}: not a readable Parquet file ({exc})") from None
    columns = _fold_header(path, list(parquet.schema_arrow.names))
    row_number = 0
    for batch in parquet.iter_batches(batch_size=batch_size):
        for values in zip(*(col.to_pylist() for col in batch.columns), strict=True):
            row_number += 1
            yield row_number, dict(zip(columns, values, strict=True))


def read_rows(path: Path, encoding: str = "utf-8-sig") -> Iterator[ReadItem]:
    """The rows of one source file, in order, whatever its format."""
    kind = file_format(path)
    if kind == "parquet":
        return read_parquet(path)
    if kind == "jsonl":
        return read_jsonl(path, encoding)
    return read_csv(path, encoding, delimiter="\t" if kind == "tsv" else ",")


def estimate_rows(path: Path) -> int | None:
    """Rows in a file, for a progress bar's total; None when it cannot be told cheaply."""
    kind = file_format(path)
    if path.suffix == ".gz":
        return None
    if kind == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
    return max(lines - (1 if kind in ("csv", "tsv") else 0), 0)
