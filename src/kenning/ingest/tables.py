"""Plain CSV tables (locations, stock, price books, observations, activity) read strictly.

Rows come with their true line. A row that cannot be read is a ``RowError`` the caller
reports as rejected; a file that cannot be read to its end fails with its file and line
(``SourceFileError``), before the caller writes anything, so nothing is lost silently.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from kenning.ingest.readers import RowError, SourceFileError, undecodable_line

TableRow = tuple[int, dict[str, str] | RowError]

_UNCLOSED = "a quoted field opens here and never closes (an unclosed quote)"


def table_rows(path: Path, encoding: str = "utf-8-sig") -> Iterator[TableRow]:
    """The header first, as ``(1, {name: name})`` with names trimmed and lower-cased, then
    each row as ``(line, {name: trimmed value})`` or ``(line, RowError)``.

    A row shorter than the header reads its missing trailing cells as empty (spreadsheets
    trim them); a longer one, or one holding a NUL byte, is a RowError. csv in strict mode
    raises at the end of the file inside an unclosed quote, and a field past its size limit,
    so an unclosed quote is found without reading the rest of the file into one row: both,
    and any malformed record that spans lines (a quote closed in the wrong place swallowed
    the rows between), fail the file at the line the record starts on.
    """
    line = 1
    try:
        with path.open(encoding=encoding, newline="") as handle:
            reader = csv.reader(handle, strict=True)
            names: list[str] | None = None
            while True:
                line = reader.line_num + 1
                try:
                    values = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    if reader.line_num > line or "unexpected end of data" in str(exc):
                        raise SourceFileError(f"{path}:{line}: {_UNCLOSED} ({exc})") from None
                    if names is None:
                        raise SourceFileError(
                            f"{path}:{line}: cannot read the header: {exc}"
                        ) from None
                    yield line, RowError(f"malformed CSV: {exc}")
                    continue
                if not values:  # a blank line
                    continue
                if names is None:
                    names = [value.strip().lower() for value in values]
                    yield 1, {name: name for name in names}
                    continue
                if len(values) > len(names):
                    reason = f"expected {len(names)} fields, found {len(values)}"
                    if reader.line_num > line:
                        raise SourceFileError(
                            f"{path}:{line}: {reason} across lines (a stray quote?)"
                        )
                    yield line, RowError(reason)
                    continue
                if any("\x00" in value for value in values):
                    yield line, RowError("holds a NUL byte")
                    continue
                row = dict.fromkeys(names, "")
                row.update(zip(names, (value.strip() for value in values), strict=False))
                yield line, row
            if names is None:
                yield 1, {}
    except UnicodeDecodeError as exc:
        line = undecodable_line(path, encoding) or line
        raise SourceFileError(f"{path}:{line}: not {encoding} text ({exc.reason})") from None
    except OSError as exc:
        raise SourceFileError(f"{path}: cannot read ({exc.strerror or exc})") from None


def all_rejected(path: Path, read: int, rejected: list[str]) -> SourceFileError | None:
    """The error for a file whose every row was rejected (the wrong file, a missing column),
    for the caller to raise before writing; None when any row was good."""
    if read and len(rejected) == read:
        return SourceFileError(
            f"{path}: every row was rejected ({read:,}); the first, {rejected[0]}"
        )
    return None
