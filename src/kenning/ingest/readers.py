"""Streaming readers for source files: CSV, TSV, JSON Lines and Parquet (optionally gzipped).

A file is read as a stream of chunks, so memory stays flat whatever its size. A text chunk is
a run of whole records as raw text with the line it starts on: cheap to cut (no parsing) and
cheap to hand to a worker process, which parses it. ``parse_chunk`` turns any chunk into
``(line, row)`` items, where ``row`` maps folded column names to values, or
``(line, RowError)`` for a row that cannot be read: one bad row never stops a file.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

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


@dataclass(frozen=True, slots=True)
class TextChunk:
    kind: str  # csv, tsv or jsonl
    columns: tuple[str, ...]  # folded header (empty for jsonl)
    first_line: int
    text: str


# Parquet arrives already parsed, as (row number, row) items.
Chunk = TextChunk | list[ReadItem]


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
    opener = gzip.open if path.suffix == ".gz" else open
    raw = cast(IO[bytes], opener(path, "rb"))
    return io.TextIOWrapper(raw, encoding=encoding, newline="")


def _fold_header(path: Path, header: list[str]) -> tuple[str, ...]:
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
    return tuple(folded)


def _text_chunks(path: Path, kind: str, encoding: str, chunk_rows: int) -> Iterator[TextChunk]:
    delimiter = "\t" if kind == "tsv" else ","
    with _open_text(path, encoding) as text:
        columns: tuple[str, ...] = ()
        line = 1
        if kind != "jsonl":
            header_lines = _whole_record(text)
            if not header_lines:
                return
            try:
                header = next(csv.reader(header_lines, delimiter=delimiter, strict=True))
            except (csv.Error, StopIteration) as exc:
                raise SourceFileError(f"{path}: cannot read the header: {exc}") from None
            columns = _fold_header(path, header)
            line += len(header_lines)
        lines: list[str] = []
        start = line
        odd = False  # inside a quoted field that spans lines
        for content in text:
            lines.append(content)
            line += 1
            if kind != "jsonl" and content.count('"') % 2:
                odd = not odd
            if len(lines) >= chunk_rows and not odd:
                yield TextChunk(kind, columns, start, "".join(lines))
                lines, start = [], line
        if lines:
            yield TextChunk(kind, columns, start, "".join(lines))


def _whole_record(text: IO[str]) -> list[str]:
    """The lines of the first CSV record (a quoted header cell may span lines)."""
    lines: list[str] = []
    odd = False
    for content in text:
        lines.append(content)
        if content.count('"') % 2:
            odd = not odd
        if not odd:
            break
    return lines


def _parquet_chunks(path: Path, chunk_rows: int) -> Iterator[list[ReadItem]]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise SourceFileError(f"{path}: not a readable Parquet file ({exc})") from None
    columns = _fold_header(path, list(parquet.schema_arrow.names))
    number = 0
    for batch in parquet.iter_batches(batch_size=chunk_rows):
        items: list[ReadItem] = []
        for values in zip(*(col.to_pylist() for col in batch.columns), strict=True):
            number += 1
            items.append((number, dict(zip(columns, values, strict=True))))
        yield items


def read_chunks(path: Path, encoding: str = "utf-8-sig", chunk_rows: int = 5000) -> Iterator[Chunk]:
    """A file as a stream of chunks of about ``chunk_rows`` records each."""
    kind = file_format(path)
    if kind == "parquet":
        return _parquet_chunks(path, chunk_rows)
    return _text_chunks(path, kind, encoding, chunk_rows)


def _parse_csv(chunk: TextChunk) -> list[ReadItem]:
    items: list[ReadItem] = []
    columns = chunk.columns
    width = len(columns)
    reader = csv.reader(
        io.StringIO(chunk.text), delimiter="\t" if chunk.kind == "tsv" else ",", strict=True
    )
    offset = chunk.first_line
    while True:
        line = offset + reader.line_num
        try:
            values = next(reader)
        except StopIteration:
            return items
        except csv.Error as exc:
            items.append((line, RowError(f"malformed CSV: {exc}")))
            continue
        if not values:  # a blank line
            continue
        if len(values) != width:
            items.append((line, RowError(f"expected {width} fields, found {len(values)}")))
            continue
        items.append((line, dict(zip(columns, values, strict=True))))


def _parse_jsonl(chunk: TextChunk) -> list[ReadItem]:
    items: list[ReadItem] = []
    for line, content in enumerate(chunk.text.splitlines(), start=chunk.first_line):
        if not content.strip():
            continue
        try:
            value = orjson.loads(content)
        except orjson.JSONDecodeError as exc:
            items.append((line, RowError(f"invalid JSON: {exc}")))
            continue
        if not isinstance(value, dict):
            items.append((line, RowError("expected a JSON object")))
            continue
        row: Row = {}
        for key, item in value.items():
            name = fold_column(key)
            if name in row:
                items.append((line, RowError(f"two keys mean {name!r}")))
                break
            row[name] = item
        else:
            items.append((line, row))
    return items


def parse_chunk(chunk: Chunk) -> list[ReadItem]:
    if isinstance(chunk, list):
        return chunk
    if chunk.kind == "jsonl":
        return _parse_jsonl(chunk)
    return _parse_csv(chunk)


def read_rows(path: Path, encoding: str = "utf-8-sig") -> Iterator[ReadItem]:
    """The rows of one source file, in order, whatever its format."""
    for chunk in read_chunks(path, encoding):
        yield from parse_chunk(chunk)


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
