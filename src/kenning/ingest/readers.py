"""Streaming readers for source files: CSV, TSV, JSON Lines and Parquet (optionally gzipped).

A file is read as a stream of chunks, so memory stays flat whatever its size. A text chunk is
a run of whole records as raw text with the line it starts on: cheap to cut (no parsing) and
cheap to hand to a worker process, which parses it. ``parse_chunk`` turns any chunk into
``(line, row)`` items, where ``row`` maps folded column names to values, or
``(line, RowError)`` for a row that cannot be read: one bad row never stops a file.
"""

from __future__ import annotations

import codecs
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


class ParseError(SourceFileError):
    """A file that cannot be read to its end: its ``line`` and why. Raised in worker
    processes too, so it keeps plain arguments (an exception is pickled as its args)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(line, reason)
        self.line = line
        self.reason = reason

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


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


def undecodable_line(path: Path, encoding: str) -> int | None:
    """The first line of a file that is not ``encoding`` text (for the error message: a
    text reader decodes ahead in blocks, so where it failed says little)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    opener = gzip.open if path.suffix == ".gz" else open
    with cast(IO[bytes], opener(path, "rb")) as raw:
        for number, content in enumerate(raw, start=1):
            try:
                decoder.decode(content)
            except UnicodeDecodeError:
                return number
    return None


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


# A quoted field that has not closed after this many characters is an unclosed quote (csv
# would refuse such a field anyway): the file fails there, and memory stays bounded.
MAX_QUOTED = 16 * 1024 * 1024


def _quote_state(content: str, delimiter: str, inside: bool) -> bool:
    """Whether a quoted field is still open at the end of ``content``, as csv reads it.

    Counting quotes is not enough: csv takes a quote in the middle of an unquoted field
    (``5" screen``) as a literal, and only a quote at the start of a field opens one. Only
    the quotes are visited, so a line without any costs one ``find``.
    """
    at = content.find('"')
    while at != -1:
        if inside:
            if content.startswith('"', at + 1):  # "" inside quotes is one literal quote
                at += 1
            else:
                inside = False
        elif at == 0 or content[at - 1] == delimiter:
            inside = True
        at = content.find('"', at + 1)
    return inside


def _text_chunks(path: Path, kind: str, encoding: str, chunk_rows: int) -> Iterator[TextChunk]:
    delimiter = "\t" if kind == "tsv" else ","
    with _open_text(path, encoding) as text:
        columns: tuple[str, ...] = ()
        line = 1
        if kind != "jsonl":
            header_lines = _whole_record(text, delimiter)
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
        # Python's csv reads an unclosed quote as one field holding the rest of the file,
        # and reports at most one bad row: the rows after it would vanish without a word.
        # So the chunker follows the quoting itself and fails the file where a quoted field
        # opens and never closes (or grows past MAX_QUOTED), naming that line.
        inside = False  # inside a quoted field that spans lines
        opened = 0  # the line that quoted field opened on
        quoted = 0  # its characters so far
        content = ""
        for content in text:
            lines.append(content)
            if kind != "jsonl" and (inside or '"' in content):
                was = inside
                inside = _quote_state(content, delimiter, inside)
                if inside:
                    if not was:
                        opened, quoted = line, 0
                    quoted += len(content)
                    if quoted > MAX_QUOTED:
                        raise ParseError(opened, _UNCLOSED)
            line += 1
            if len(lines) >= chunk_rows and not inside:
                yield TextChunk(kind, columns, start, "".join(lines))
                lines, start = [], line
        if inside:
            raise ParseError(opened, _UNCLOSED)
        if kind == "jsonl" and content and not content.endswith("\n"):
            _check_last_json(content, line - 1)
        if lines:
            yield TextChunk(kind, columns, start, "".join(lines))


_UNCLOSED = "a quoted field opens here and never closes (an unclosed quote)"


def _check_last_json(content: str, line: int) -> None:
    """A last line without its newline that is not JSON: the file was cut short."""
    if not content.strip():
        return
    try:
        orjson.loads(content)
    except orjson.JSONDecodeError:
        raise ParseError(line, "the file ends in the middle of a record (truncated?)") from None


def _whole_record(text: IO[str], delimiter: str) -> list[str]:
    """The lines of the first CSV record (a quoted header cell may span lines)."""
    lines: list[str] = []
    inside = False
    size = 0
    for content in text:
        lines.append(content)
        size += len(content)
        inside = _quote_state(content, delimiter, inside)
        if not inside:
            break
        if size > MAX_QUOTED:
            raise ParseError(1, _UNCLOSED)
    if inside:
        raise ParseError(1, _UNCLOSED)
    return lines


def _parquet_chunks(path: Path, chunk_rows: int) -> Iterator[list[ReadItem]]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise SourceFileError(f"{path}: not a readable Parquet file ({exc})") from None
    columns = _fold_header(path, list(parquet.schema_arrow.names))
    number = 0
    batches = parquet.iter_batches(batch_size=chunk_rows)
    while True:
        try:
            batch = next(batches, None)
            if batch is None:
                return
            columns_values = [col.to_pylist() for col in batch.columns]
        except Exception as exc:  # a damaged page: pyarrow's types vary (OSError, ArrowInvalid)
            raise ParseError(number + 1, f"damaged Parquet data ({exc})") from None
        items: list[ReadItem] = []
        for values in zip(*columns_values, strict=True):
            number += 1
            items.append((number, dict(zip(columns, values, strict=True))))
        yield items


def header_columns(path: Path, encoding: str = "utf-8-sig") -> tuple[str, ...] | None:
    """The folded column names a file declares; None for JSON Lines (each row says)."""
    kind = file_format(path)
    if kind == "jsonl":
        return None
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            names = pq.ParquetFile(path).schema_arrow.names
        except Exception as exc:  # pyarrow raises several unrelated types for a bad file
            raise SourceFileError(f"{path}: not a readable Parquet file ({exc})") from None
        return _fold_header(path, list(names))
    with _open_text(path, encoding) as text:
        header_lines = _whole_record(text, "\t" if kind == "tsv" else ",")
    if not header_lines:
        return ()
    try:
        header = next(csv.reader(header_lines, delimiter="\t" if kind == "tsv" else ","))
    except (csv.Error, StopIteration) as exc:
        raise SourceFileError(f"{path}: cannot read the header: {exc}") from None
    return _fold_header(path, header)


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
            items.append(
                (line, _bad_record(line, offset + reader.line_num, f"malformed CSV: {exc}"))
            )
            continue
        if not values:  # a blank line
            continue
        if len(values) != width:
            reason = f"expected {width} fields, found {len(values)}"
            items.append((line, _bad_record(line, offset + reader.line_num, reason)))
            continue
        items.append((line, dict(zip(columns, values, strict=True))))


def _bad_record(line: int, after: int, reason: str) -> RowError:
    """A bad record on one line is one bad row. A bad one across lines is a quote that
    closed in the wrong place: the rows it swallowed are lost, so the file fails."""
    last = after - 1
    if last > line:
        raise ParseError(
            line,
            f"{reason} in a record quoted across lines {line}-{last} (a stray or unclosed quote?)",
        )
    return RowError(reason)


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

        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except Exception:  # not Parquet after all: the import itself says so, with the file
            return None
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
    return max(lines - (1 if kind in ("csv", "tsv") else 0), 0)
