"""Schemathesis over the API's own OpenAPI document, with an admin key, on both backends:
whatever a client sends, valid or not, the answer is never a server error and has the
documented shape. Bounded (a few examples per operation) to keep the suite quick; the full
run (40 examples per operation, every check) is in docs/benchmarks.md."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from kenning.api.app import create_app
from kenning.services.keys import create_key
from kenning.settings import Settings
from kenning.store import open_store
from kenning.store.postgres import scratch_schema

POSTGRES_URL = os.environ.get("KENNING_TEST_POSTGRES_URL")
EXAMPLES = 5


@pytest.fixture(
    scope="module",
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(
                    POSTGRES_URL is None, reason="KENNING_TEST_POSTGRES_URL not set"
                ),
            ],
        ),
    ],
)
def fuzzed_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, str]]:
    """The app over one store for the whole module (requests build on each other's data),
    and an admin secret key."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'k.db'}"
        else:
            assert POSTGRES_URL is not None
            url = stack.enter_context(scratch_schema(POSTGRES_URL, "kenning_fuzz"))
        with open_store(url) as store:
            _, secret = create_key(store, "fuzz", ["admin"])
        app = create_app(Settings(database_url=url, pool_size=2, follow_events=False))
        stack.callback(app.state.pool.close)
        yield app, secret


@pytest.mark.slow
def test_no_input_gets_a_server_error(fuzzed_api: tuple[Any, str]) -> None:
    """Every operation, with data that fits its schema and data that does not."""
    app, secret = fuzzed_api
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {secret}"}
    checks = [not_a_server_error, content_type_conformance, response_schema_conformance]
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:
        if operation.path == "/readyz":
            continue  # its 503 means "not ready" (no model is trained here), not a failure
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                derandomize=True,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.generate],
            )
            def call(case: Any) -> None:
                case.call_and_validate(headers=headers, checks=checks)

            try:
                call()
            except Unsatisfiable:
                continue  # no invalid request to make (a body that may be anything)
            except Exception as exc:  # a failed check: collect them all, then report
                failures.append(f"{operation.label} ({mode}): {exc}"[:2000])
    assert not failures, "\n\n".join(failures)


def test_the_full_run_is_documented() -> None:
    benchmarks = (Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md").read_text()
    assert "API robustness (schemathesis)" in benchmarks
    assert "--max-examples 40 --seed 1 --checks all" in benchmarks
