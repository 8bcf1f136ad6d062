"""Import source files into the store: read, validate, normalise, log, upsert.

One import is one transaction: if it fails half-way (a file turns out unreadable, the disk
fills up) the store is left exactly as it was. Bad rows do not fail it: each is reported with
its file, line and reason, and the rest is imported. Importing the same record again is
idempotent: an identical copy changes nothing, a changed one updates the record, and a copy
older than the stored one (by ``updated_at``) is reported as stale and ignored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from kenning.domain.normalised import normalise_record
from kenning.domain.records import RecordError, SourceRecord, build_record, content_hash
from kenning.ingest.readers import RowError, SourceFileError, check_readable, read_rows
from kenning.store.base import EventRow, ImportRun, RecordKey, RecordRow, RecordState, Store

RECORD_UPSERTED = "record.upserted"


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
    """Applies source records to the store in batches, the same way for files and replays."""

    def __init__(self, store: Store, report: ImportReport) -> None:
        self.store = store
        self.report = report

    def write(self, records: Sequence[SourceRecord], log: bool = True) -> None:
        report = self.report
        states = self.store.record_states([r.key for r in records])
        # Later copies in the same batch see the earlier ones, as if written one by one.
        batch: dict[RecordKey, RecordState] = {}
        rows: list[RecordRow] = []
        events: list[EventRow] = []
        for record in records:
            key = record.key
            body = record.canonical_json()
            digest = content_hash(body)
            state = batch.get(key) or states.get(key)
            norm = normalise_record(record)
            if state is not None:
                if state.content_hash == digest:
                    report.unchanged += 1
                    continue
                if _is_stale(state.updated_at, norm.updated_at):
                    report.stale += 1
                    continue
                report.updated += 1
            else:
                report.imported += 1
            for name, verdict in norm.dropped:
                report.dropped[(name, verdict.value)] += 1
            batch[key] = RecordState(digest, norm.updated_at)
            text = body.decode()
            rows.append((key[0], key[1], digest, *norm.values(), text))
            if log:
                events.append((RECORD_UPSERTED, key[0], key[1], None, text))
        self.store.append_events(events)
        self.store.upsert_records(rows)


class Importer:
    def __init__(
        self,
        store: Store,
        *,
        default_country: str | None = None,
        batch_size: int = 5000,
        keep_rejections: int = 1000,
    ) -> None:
        self.store = store
        self.default_country = default_country
        self.batch_size = batch_size
        self.keep_rejections = keep_rejections

    def import_files(
        self,
        paths: Iterable[Path],
        *,
        source: str | None = None,
        encoding: str = "utf-8-sig",
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Import every row of ``paths`` in one transaction; ``progress`` gets rows read."""
        paths = list(paths)
        for path in paths:
            check_readable(path)
        report = ImportReport(files=[str(p) for p in paths])
        started = datetime.now(UTC)
        writer = RecordWriter(self.store, report)
        with self.store.transaction():
            for path in paths:
                self._import_file(path, source, encoding, writer, progress)
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
    ) -> None:
        report = writer.report
        name = str(path)
        batch: list[SourceRecord] = []
        line = read = 0
        try:
            for line, item in read_rows(path, encoding):
                read += 1
                if isinstance(item, RowError):
                    self._reject(report, name, line, str(item))
                    continue
                try:
                    batch.append(build_record(item, source, self.default_country))
                except RecordError as exc:
                    self._reject(report, name, line, str(exc))
                    continue
                if len(batch) >= self.batch_size:
                    writer.write(batch)
                    if progress:
                        progress(read)
                    batch, read = [], 0
        except UnicodeDecodeError as exc:
            raise SourceFileError(
                f"{path}: not {encoding} text after line {line} ({exc.reason}); "
                "name the file's encoding with --encoding"
            ) from None
        except (OSError, EOFError) as exc:
            raise SourceFileError(f"{path}: cannot read after line {line} ({exc})") from None
        writer.write(batch)
        if progress:
            progress(read)

    def _reject(self, report: ImportReport, file: str, line: int, reason: str) -> None:
        report.rejected += 1
        if len(report.rejections) < self.keep_rejections:
            report.rejections.append(Rejection(file, line, reason))
