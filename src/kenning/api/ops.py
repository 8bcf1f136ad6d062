"""What operators' probes and scrapers call, without a key: GET /healthz (the process
answers), GET /readyz (it can do its work: database, schema, model, follower lag) and GET
/metrics (Prometheus). None of them shows personal data: figures and check names only.

Metrics come from one registry per app (tests build many apps in one process): the app's
request counters, the process's counters (services/telemetry.py) and, at scrape time, what
the store says (follower lag, dead letters) and the pool's use. When `kenning serve` runs
the followers and workers as processes of their own it sets PROMETHEUS_MULTIPROC_DIR, and
the counters of every process are added up from there (prometheus-client's multiprocess
mode); the pool's figures are those of the process that answered the scrape.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from kenning.api.observability import HttpMetrics
from kenning.services.follow import CURSOR
from kenning.services.identity import MODEL_NAME
from kenning.services.matching import ModelCache, describe_model
from kenning.services.telemetry import PROCESS_COUNTERS
from kenning.store import Store
from kenning.store.migrations import MIGRATIONS
from kenning.store.pool import StorePool

router = APIRouter(tags=["operations"])
# The schema version this code expects: the last migration's.
SCHEMA_VERSION = max(migration.version for migration in MIGRATIONS)


class Health(BaseModel):
    status: Literal["ok"]


class Check(BaseModel):
    ok: bool
    detail: str


class FollowerCheck(Check):
    lag_events: int | None = None
    lag_seconds: float | None = None
    max_lag_seconds: float


class Checks(BaseModel):
    database: Check
    migrations: Check
    model: Check
    follower: FollowerCheck


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: Checks


@dataclass(frozen=True, slots=True)
class Lag:
    events: int  # log entries after the follower's cursor
    seconds: float  # age of the oldest of them (0 when there are none)


def _utc(stamp: str) -> datetime:
    at = datetime.fromisoformat(stamp)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def follower_lag(store: Store, now: datetime | None = None) -> Lag:
    """How far the follower is behind the log, in entries and in seconds."""
    cursor, last = store.cursor(CURSOR), store.last_event_seq()
    if last <= cursor:
        return Lag(0, 0.0)
    oldest = store.events_after(cursor, last, 1)
    if not oldest:
        return Lag(last - cursor, 0.0)
    age = ((now or datetime.now(UTC)) - _utc(oldest[0].recorded_at)).total_seconds()
    return Lag(last - cursor, max(0.0, age))


def readiness(store: Store, models: ModelCache, max_lag_seconds: float) -> Readiness:
    """Each check, in the order they depend on each other."""
    version = store.schema_version()  # also proves the database answers
    database = Check(ok=True, detail="reachable")
    migrations = Check(
        ok=version == SCHEMA_VERSION,
        detail=f"schema version {version}, this code expects {SCHEMA_VERSION}",
    )
    in_use = models.get(store, MODEL_NAME)
    model = Check(
        ok=in_use is not None,
        detail="no usable identity model: run `kenning resolve`"
        if in_use is None
        else f"in use: {describe_model(in_use)}",
    )
    lag = follower_lag(store)
    follower = FollowerCheck(
        ok=lag.seconds <= max_lag_seconds,
        detail=f"{lag.events} log entries not yet followed, the oldest {lag.seconds:.1f} s old",
        lag_events=lag.events,
        lag_seconds=round(lag.seconds, 3),
        max_lag_seconds=max_lag_seconds,
    )
    checks = Checks(database=database, migrations=migrations, model=model, follower=follower)
    ready = all((database.ok, migrations.ok, model.ok, follower.ok))
    return Readiness(status="ready" if ready else "not_ready", checks=checks)


def _unreachable(exc: Exception, max_lag_seconds: float) -> Readiness:
    # The exception's text may name hosts and users: only its kind is shown.
    unchecked = "not checked: the database is unreachable"
    return Readiness(
        status="not_ready",
        checks=Checks(
            database=Check(ok=False, detail=f"unreachable ({type(exc).__name__})"),
            migrations=Check(ok=False, detail=unchecked),
            model=Check(ok=False, detail=unchecked),
            follower=FollowerCheck(ok=False, detail=unchecked, max_lag_seconds=max_lag_seconds),
        ),
    )


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is alive and answers (touches no database): for liveness probes."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: see the failing checks"}},
)
async def readyz(request: Request) -> JSONResponse:
    """Whether this server can do its work: the database answers, its schema is this
    code's, an identity model is trained, and the follower is less than
    KENNING_READY_MAX_LAG_SECONDS behind the event log. 503 when not."""
    state = request.app.state
    max_lag = float(state.settings.ready_max_lag_seconds)

    def check() -> Readiness:
        try:
            with state.pool.store() as store:
                return readiness(store, state.models, max_lag)
        except Exception as exc:
            return _unreachable(exc, max_lag)

    found = await run_in_threadpool(check)
    return JSONResponse(found.model_dump(), status_code=200 if found.status == "ready" else 503)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
)
async def metrics(request: Request) -> Response:
    """Prometheus metrics: requests by route and status with latency, events accepted,
    follower lag, dead letters, resolution decisions, mail sent and failed, pool use."""
    registry: CollectorRegistry = request.app.state.metrics_registry
    body = await run_in_threadpool(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


class StoreCollector(Collector):
    """What the store and the pool say at scrape time."""

    def __init__(self, pool: StorePool) -> None:
        self._pool = pool

    def collect(self) -> Iterator[Metric]:
        yield from self._pool_use()
        try:
            with self._pool.store() as store:
                lag = follower_lag(store)
                dead = getattr(store, "count_dead_letters", None)  # where the store keeps them
                dead_letters = int(dead()) if callable(dead) else None
        except Exception:
            yield GaugeMetricFamily(
                "kenning_store_up", "Whether the database answered this scrape.", value=0
            )
            return
        yield GaugeMetricFamily(
            "kenning_store_up", "Whether the database answered this scrape.", value=1
        )
        yield GaugeMetricFamily(
            "kenning_follower_lag_events",
            "Event log entries the follower has not applied yet.",
            value=lag.events,
        )
        yield GaugeMetricFamily(
            "kenning_follower_lag_seconds",
            "Age of the oldest event log entry the follower has not applied yet.",
            value=lag.seconds,
        )
        if dead_letters is not None:
            yield GaugeMetricFamily(
                "kenning_dead_letters",
                "Events the follower could not apply, set aside (`kenning events failed`).",
                value=dead_letters,
            )

    def _pool_use(self) -> Iterator[Metric]:
        in_use: Any = getattr(self._pool, "in_use", None)
        if callable(in_use):
            yield GaugeMetricFamily(
                "kenning_pool_connections_in_use",
                "Database connections lent to requests now, in the process answering.",
                value=int(in_use()),
            )
        yield GaugeMetricFamily(
            "kenning_pool_connections_max",
            "Database connections the pool may lend at once, in the process answering.",
            value=int(self._pool.size),
        )


def multiprocess_dir() -> str | None:
    """The folder of prometheus-client's multiprocess mode, when this process counts there
    (the variable was set before prometheus-client was imported, see `kenning serve`)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    counting_there = values.ValueClass is not values.MutexValue
    return directory if directory and counting_there and Path(directory).is_dir() else None


def metrics_registry(pool: StorePool, http: HttpMetrics) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_dir()
    if directory:
        MultiProcessCollector(registry, directory)  # type: ignore[no-untyped-call]
    else:
        for collector in (*PROCESS_COUNTERS, *http.collectors()):
            registry.register(collector)
    registry.register(StoreCollector(pool))
    return registry


def install(app: FastAPI, pool: StorePool) -> HttpMetrics:
    """Add the routes and the app's metrics registry; returns the request counters for
    the middleware (see api/observability.py)."""
    http = HttpMetrics()
    app.state.metrics_registry = metrics_registry(pool, http)
    app.include_router(router)
    return http
