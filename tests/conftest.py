"""Shared fixtures: every store test runs on SQLite, and on PostgreSQL when
KENNING_TEST_POSTGRES_URL names a server (CI sets it)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kenning.store import Store, open_store
from postgres_sessions import NamedPostgres

POSTGRES_URL = os.environ.get("KENNING_TEST_POSTGRES_URL")


def _postgres_schema_url() -> Iterator[str]:
    """A fresh schema per test, dropped afterwards, so tests never see each other's rows."""
    from kenning.store.postgres import scratch_schema

    assert POSTGRES_URL is not None
    with scratch_schema(POSTGRES_URL, "kenning_test") as url:
        yield url


BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(POSTGRES_URL is None, reason="KENNING_TEST_POSTGRES_URL not set"),
        ],
    ),
]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL for an empty store on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kenning.db'}"
    else:
        yield from _postgres_schema_url()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


@pytest.fixture
def named_postgres() -> Iterator[NamedPostgres]:
    """A fresh PostgreSQL schema whose sessions the test can end (see NamedPostgres);
    skipped without KENNING_TEST_POSTGRES_URL."""
    if not POSTGRES_URL:  # unset or empty
        pytest.skip("KENNING_TEST_POSTGRES_URL not set")
    name = f"kenning-test-{uuid.uuid4().hex[:12]}"
    for url in _postgres_schema_url():
        yield NamedPostgres(POSTGRES_URL, f"{url}&application_name={name}", name)
