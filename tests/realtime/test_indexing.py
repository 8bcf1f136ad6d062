"""Indexing every record at once (after a big import, or a rebuild) writes exactly the keys
and big-block counts the follower's runs write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from kenning.cli import cli
from kenning.ingest.importer import Importer
from kenning.resolution.settings import ResolutionSettings
from kenning.services.customers import lookup
from kenning.services.follow import CURSOR, catch_up
from kenning.services.identity import resolve_store
from kenning.services.matching import SETTINGS_NAME
from kenning.store import Store


def _index(store: Store) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    keys = set(store._query("SELECT key, source, record_id FROM record_keys"))
    big = set(store._query("SELECT key, rule, size FROM big_blocks"))
    return keys, big


def _import(store: Store, retailer: Path) -> int:
    report = Importer(store).import_files(sorted((retailer / "records").glob("*.csv")))
    # Blocks of more than three records are big here, so that some are.
    settings = ResolutionSettings(max_block=3)
    store.save_model(SETTINGS_NAME, settings.model_dump(mode="json"))
    return report.imported


def test_at_once_equals_run_by_run(store: Store, batch_retailer: Path) -> None:
    records = _import(store, batch_retailer)
    end = store.last_event_seq()
    assert catch_up(store, bulk_from=end + 1).events == end  # the follower's runs
    by_runs = _index(store)
    assert by_runs[0] and by_runs[1]

    assert store.advance_cursor(CURSOR, end, 0)
    indexed: list[int] = []
    outcome = catch_up(store, bulk_from=1, indexing=indexed.append)
    assert outcome.events == end and store.cursor(CURSOR) == end
    assert sum(indexed) == records
    assert _index(store) == by_runs


def test_indexing_at_once_stops_at_the_first_collected_event(
    store: Store, batch_retailer: Path
) -> None:
    from kenning.domain.segment import parse_batch
    from kenning.services.collect import collect
    from kenning.services.follow import index_backlog
    from kenning.services.inventory import utcnow
    from kenning.services.sources import add_source

    _import(store, batch_retailer)
    imported = store.last_event_seq()
    add_source(store, "web", same_system=True)  # the web shop whose accounts were imported
    messages, _ = parse_batch(
        {"batch": [{"type": "identify", "userId": "u1", "traits": {"email": "a@b.example"}}]},
        utcnow(),
    )
    with store.transaction():
        collect(store, "web", messages)
    assert index_backlog(store, ResolutionSettings(), bulk_from=1) == imported
    assert store.cursor(CURSOR) == imported  # the identify is the follower's to resolve


def test_rebuild_indexes_again(store: Store, batch_retailer: Path) -> None:
    _import(store, batch_retailer)
    catch_up(store)
    resolve_store(store, ResolutionSettings(max_block=3))  # the settings the import saved
    before = _index(store)
    # An e-mail one customer holds (a shared one answers 409).
    email, count = store._query(
        "SELECT r.email, COUNT(DISTINCT c.customer_id) FROM source_records r "
        "JOIN customer_records c ON c.source = r.source AND c.record_id = r.record_id "
        "WHERE r.email IS NOT NULL GROUP BY r.email ORDER BY 2, 1 LIMIT 1"
    )[0]
    assert count == 1
    customer = lookup(store, email=email).customer_id
    store._execute("DELETE FROM record_keys")  # as a change of normalisers would leave them

    result = CliRunner().invoke(cli, ["--db", store.url, "rebuild"])
    assert result.exit_code == 0, result.output
    assert _index(store) == before
    assert lookup(store, email=email).customer_id == customer
