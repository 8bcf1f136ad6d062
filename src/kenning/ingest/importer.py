"""Import source files into the store: read, validate, normalise, log, upsert.

One import is one transaction: if it fails half-way (a file turns out unreadable or cannot
be parsed to its end, the disk fills up) the store is left exactly as it was. Bad rows do not
fail it: each is reported with its file, line and reason, and the rest is imported; but a file
whose every row is rejected fails the import (a missing column, the wrong file). Every row read
is accounted for: read = imported + updated + unchanged + stale + rejected.

Importing the same record again is idempotent: an identical copy changes nothing, a changed
one updates the record, and a copy older than the stored one (by ``updated_at``) is reported
as stale and ignored.
"""

from __future__ import annotations

import os
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import cast

from kenning.ingest.prepare import Prepared, Rejected, prepare_rows
from kenning.ingest.readers import (
    Chunk,
    ParseError,
    SourceFileError,
    check_readable,
    header_columns,
    parse_chunk,
    read_chunks,
    undecodable_line,
)
from kenning.store.base import (
    RECORD_COLUMNS,
    EventRow,
    ImportRun,
    RecordKey,
    RecordRow,
    RecordState,
    Store,
)

RECORD_UPSERTED = "record.upserted"
# A record the collection API's events made (services/follow.py): replayed like the others,
# but already indexed and resolved when it was written.
RECORD_COLLECTED = "record.collected"
RECORD_KINDS = (RECORD_UPSERTED, RECORD_COLLECTED)
_UPDATED_AT = RECORD_COLUMNS.index("updated_at")


@dataclass(frozen=True, slots=True)
class Rejection:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class ImportReport:
    files: list[str] = field(default_factory=list)
    read: int = 0  # rows read (records; blank lines are not rows)
    imported: int = 0  # new records
    updated: int = 0  # records whose content changed
    unchanged: int = 0  # identical copies of stored records
    stale: int = 0  # copies older than the stored record
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)  # the first `keep` of them
    dropped: Counter[tuple[str, str]] = field(default_factory=Counter)  # (field, verdict)

    @property
    def accepted(self) -> int:
        return self.imported + self.updated + self.unchanged + self.stale

    def accounting(self) -> str:
        """Where every row went, e.g. "2,001 rows read: 1,990 imported, 11 rejected"."""
        parts = [f"{self.imported:,} imported"]
        for name, count in (
            ("updated", self.updated),
            ("unchanged", self.unchanged),
            ("stale", self.stale),
        ):
            if count:
                parts.append(f"{count:,} {name}")
        parts.append(f"{self.rejected:,} rejected")
        rows = "row" if self.read == 1 else "rows"
        return f"{self.read:,} {rows} read: {', '.join(parts)}"

    def dropped_by_field(self) -> dict[str, dict[str, int]]:
        nested: dict[str, dict[str, int]] = {}
        for (name, verdict), count in sorted(self.dropped.items()):
            nested.setdefault(name, {})[verdict] = count
        return nested


def _is_stale(stored: str | None, incoming: str | None) -> bool:
    if stored is None or incoming is None:
        return False
    return datetime.fromisoformat(incoming) < datetime.fromisoformat(stored)


class RecordWriter:
    """Applies prepared records to the store in batches, the same way for files and replays."""

    def __init__(self, store: Store, report: ImportReport, kind: str = RECORD_UPSERTED) -> None:
        self.store = store
        self.report = report
        self.kind = kind

    def write(self, records: Sequence[Prepared], log: bool = True) -> list[RecordRow]:
        """Write what is new or newer; returns the rows written (``log``: with their
        events; without, the caller logs them, see record_events)."""
        if not records:
            return []
        if self._write_all_new(records, log):
            return [row for row, _ in records]
        report = self.report
        keys = cast(list[RecordKey], [(row[0], row[1]) for row, _ in records])
        states = self.store.record_states(keys)
        # Later copies in the same batch see the earlier ones, as if written one by one.
        batch: dict[RecordKey, RecordState] = {}
        rows: list[RecordRow] = []
        for row, dropped in records:
            key = cast(RecordKey, (row[0], row[1]))
            digest, updated_at = cast(str, row[2]), row[_UPDATED_AT]
            state = batch.get(key) or states.get(key)
            if state is not None:
                if state.content_hash == digest:
                    report.unchanged += 1
                    continue
                if _is_stale(state.updated_at, updated_at):
                    report.stale += 1
                    continue
                report.updated += 1
            else:
                report.imported += 1
            self._count_dropped(dropped)
            batch[key] = RecordState(digest, updated_at)
            rows.append(row)
        if log:
            self.store.append_events(record_events(rows, self.kind))
        self.store.upsert_records(rows)
        return rows

    def _write_all_new(self, records: Sequence[Prepared], log: bool) -> bool:
        rows = [row for row, _ in records]
        if not self.store.insert_new_records(rows, record_events(rows, self.kind) if log else []):
            return False
        self.report.imported += len(records)
        for _, dropped in records:
            if dropped:
                self._count_dropped(dropped)
        return True

    def _count_dropped(self, dropped: tuple[tuple[str, str], ...]) -> None:
        for name_verdict in dropped:
            self.report.dropped[name_verdict] += 1


def record_events(rows: Sequence[RecordRow], kind: str) -> list[EventRow]:
    # The event carries the record as received: the row's last column.
    return cast(list[EventRow], [(kind, r[0], r[1], None, r[-1]) for r in rows])


def _prepare_chunk(
    chunk: Chunk, source: str | None, country: str | None, markets: tuple[str, ...]
) -> tuple[list[Prepared], list[Rejected], int]:
    """Parse and prepare one chunk: all the CPU work, none of the store's (runs in workers)."""
    items = parse_chunk(chunk)
    prepared, rejected = prepare_rows(items, source, country, markets)
    return prepared, rejected, len(items)


class Importer:
    """Imports files into a store. Large imports normalise in worker processes while this
    process reads and writes: the store keeps a single writer, the CPU work spreads out."""

    def __init__(
        self,
        store: Store,
        *,
        default_country: str | None = None,
        markets: tuple[str, ...] = (),
        batch_size: int = 5000,
        keep_rejections: int = 1000,
        workers: int | None = None,
        parallel_from: int = 50_000,
        on_reject: Callable[[Rejection], None] | None = None,
    ) -> None:
        self.store = store
        self.default_country = default_country
        self.markets = markets
        self.batch_size = batch_size
        self.keep_rejections = keep_rejections
        self.on_reject = on_reject  # sees every rejection, past the ones the report keeps
        self.workers = min(os.cpu_count() or 1, 4) if workers is None else workers
        self.parallel_from = parallel_from

    def import_files(
        self,
        paths: Iterable[Path],
        *,
        source: str | None = None,
        encoding: str = "utf-8-sig",
        progress: Callable[[int], None] | None = None,
        expected_rows: int | None = None,
    ) -> ImportReport:
        """Import every row of ``paths`` in one transaction; ``progress`` gets rows read.

        ``expected_rows`` (when known) decides whether worker processes are worth starting.
        """
        paths = list(paths)
        for path in paths:
            check_readable(path)
        report = ImportReport(files=[str(p) for p in paths])
        started = datetime.now(UTC)
        writer = RecordWriter(self.store, report)
        parallel = self.workers > 1 and (expected_rows or 0) >= self.parallel_from
        with ExitStack() as stack:
            pool = None
            if parallel:
                # spawn, not fork: a forked child must never share the parent's connection.
                pool = stack.enter_context(get_context("spawn").Pool(self.workers))
            with self.store.transaction():
                for path in paths:
                    self._import_file(path, source, encoding, writer, progress, pool)
                self.store.add_import_run(
                    ImportRun(
                        started_at=started,
                        finished_at=datetime.now(UTC),
                        files=report.files,
                        imported=report.imported,
                        updated=report.updated,
                        unchanged=report.unchanged,
                        stale=report.stale,
                        rejected=report.rejected,
                        dropped=report.dropped_by_field(),
                    )
                )
        return report

    def _import_file(
        self,
        path: Path,
        source: str | None,
        encoding: str,
        writer: RecordWriter,
        progress: Callable[[int], None] | None,
        pool: Pool | None,
    ) -> None:
        name = str(path)
        report = writer.report
        read_before, rejected_before = report.read, report.rejected
        first: list[Rejected] = []  # the file's first rejection, should every row be one
        pending: deque[AsyncResult[tuple[list[Prepared], list[Rejected], int]]] = deque()

        def finish(prepared: list[Prepared], rejected: list[Rejected], read: int) -> None:
            if rejected and not first:
                first.append(rejected[0])
            for line, reason in rejected:
                self._reject(report, name, line, reason)
            report.read += read
            writer.write(prepared)
            if progress:
                progress(read)

        line = 1
        try:
            self._check_columns(path, source, encoding)
            for chunk in read_chunks(path, encoding, self.batch_size):
                line = chunk[-1][0] if isinstance(chunk, list) else chunk.first_line
                if pool is None:
                    finish(*_prepare_chunk(chunk, source, self.default_country, self.markets))
                    continue
                pending.append(
                    pool.apply_async(
                        _prepare_chunk, (chunk, source, self.default_country, self.markets)
                    )
                )
                # Keep every worker busy, and memory bounded, while writing in order.
                if len(pending) > 2 * self.workers:
                    finish(*pending.popleft().get())
            while pending:
                finish(*pending.popleft().get())
        except ParseError as exc:
            raise SourceFileError(f"{path}:{exc.line}: {exc.reason}") from None
        except UnicodeDecodeError as exc:
            line = undecodable_line(path, encoding) or line
            raise SourceFileError(
                f"{path}:{line}: not {encoding} text ({exc.reason}); "
                "name the file's encoding with --encoding"
            ) from None
        except (OSError, EOFError) as exc:
            raise SourceFileError(f"{path}:{line}: cannot read from this line on ({exc})") from None
        read = report.read - read_before
        if read and report.rejected - rejected_before == read:
            line, reason = first[0]
            raise SourceFileError(
                f"{path}:{line}: every row was rejected ({read:,}), the first for: {reason}"
            )

    @staticmethod
    def _check_columns(path: Path, source: str | None, encoding: str) -> None:
        """A file without a column every row needs fails at once, naming the column."""
        columns = header_columns(path, encoding)
        if not columns:  # JSON Lines, or an empty file
            return
        if source is None and "source" not in columns:
            raise ParseError(1, "no 'source' column: add one, or name the source with --source")
        if "record_id" not in columns:
            raise ParseError(1, "no 'record_id' column (or an alias of it such as customer_id)")

    def _reject(self, report: ImportReport, file: str, line: int, reason: str) -> None:
        report.rejected += 1
        rejection = Rejection(file, line, reason)
        if len(report.rejections) < self.keep_rejections:
            report.rejections.append(rejection)
        if self.on_reject is not None:
            self.on_reject(rejection)
