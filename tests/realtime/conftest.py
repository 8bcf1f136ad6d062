"""Real-time fixtures: a generated retailer resolved in batch, and an API app over a store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kenning.api.app import create_app
from kenning.datagen import DatagenConfig, generate
from kenning.ingest.importer import Importer
from kenning.services.identity import resolve_store
from kenning.services.keys import create_key
from kenning.settings import Settings
from kenning.store import Store, open_store


@pytest.fixture(scope="session")
def batch_retailer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated retailer imported and resolved in batch, in a SQLite file, with a
    model trained on its records (fewer than a store trains from unasked)."""
    out = tmp_path_factory.mktemp("rt-retailer")
    generate(DatagenConfig(people=120, seed=5, activity=False), out)
    with open_store(f"sqlite:///{out / 'batch.db'}") as store:
        Importer(store).import_files(sorted((out / "records").glob("*.csv")))
        resolve_store(store, retrain=True)
    return out


@pytest.fixture
def app_client(store: Store, store_url: str) -> Iterator[TestClient]:
    """The API over the store under test, following the log only when told (tests call
    follow() themselves, so they never wait on a thread)."""
    app = create_app(Settings(database_url=store_url, pool_size=2, follow_events=False))
    _, secret = create_key(store, "tests", ["customers:write"])
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        yield client
