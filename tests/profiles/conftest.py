"""Profile fixtures: a small generated retailer with its activity, imported and resolved in
the store under test; a real SMTP server that keeps what it receives; the API over it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from profiles_helpers import Inbox, theresa_keys

from kenning.api.app import create_app
from kenning.datagen import DatagenConfig, generate
from kenning.ingest.importer import Importer
from kenning.services.activity import import_activity
from kenning.services.follow import catch_up
from kenning.services.identity import resolve_store
from kenning.services.keys import create_key
from kenning.settings import Settings
from kenning.store import Store


@pytest.fixture(scope="session")
def retailer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("profile-retailer")
    generate(DatagenConfig(people=60, seed=11), out)
    return out


@pytest.fixture
def loaded(store: Store, retailer: Path) -> Store:
    """The store under test holding the retailer's records, customers and activity."""
    Importer(store).import_files(sorted((retailer / "records").glob("*.csv")))
    resolve_store(store)
    catch_up(store)  # index the records for lookups, as the server does
    import_activity(store, retailer)
    return store


@pytest.fixture
def theresa(loaded: Store, retailer: Path) -> str:
    customers = {loaded.customer_of(*key) for key in theresa_keys(retailer)}
    assert len(customers) == 1
    customer = customers.pop()
    assert customer is not None
    return customer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[str, Inbox]]:
    """A real SMTP server on localhost; yields its URL and what it received."""
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", inbox
    finally:
        controller.stop()


@pytest.fixture
def client(loaded: Store, store_url: str, smtp: tuple[str, Inbox]) -> Iterator[TestClient]:
    settings = Settings(database_url=store_url, pool_size=2, follow_events=False, smtp_url=smtp[0])
    app = create_app(settings)
    _, secret = create_key(loaded, "tests", ["customers:write"])
    with TestClient(app) as c:
        c.headers["Authorization"] = f"Bearer {secret}"
        yield c
