"""Every request, counted and logged: an ASGI middleware that times each request, counts it
by route template and status (GET /metrics), logs one line for it with a request id, and
echoes that id in the ``X-Request-ID`` header.

The line names the route template (``/v1/customers/{customer_id}``), never the raw path or
its query string: those carry what was looked up (``/v1/customers/lookup?email=…``).
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("kenning.requests")

REQUEST_ID_HEADER = b"x-request-id"
# A request id sent by the client (a proxy's) is kept if it is a plain token; anything
# else could smuggle text into logs and headers, and is replaced.
_PLAIN_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
UNMATCHED = "(unmatched)"  # the route of a request no route took (a 404)


class HttpMetrics:
    """An app's request counters: created in no registry (see api/ops.py)."""

    def __init__(self) -> None:
        self.requests = Counter(
            "kenning_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=None,
        )
        self.latency = Histogram(
            "kenning_http_request_duration_seconds",
            "Time from a request's arrival to its answer, by method and route template.",
            ["method", "route"],
            registry=None,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

        # The labelled children, found once each: labels() costs more than counting.
        self._counted: dict[tuple[str, str, int], Counter] = {}
        self._timed: dict[tuple[str, str], Histogram] = {}

    def collectors(self) -> tuple[Counter, Histogram]:
        return self.requests, self.latency

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        counted = self._counted.get((method, route, status))
        if counted is None:
            counted = self._counted[method, route, status] = self.requests.labels(
                method, route, str(status)
            )
        timed = self._timed.get((method, route))
        if timed is None:
            timed = self._timed[method, route] = self.latency.labels(method, route)
        counted.inc()
        timed.observe(seconds)


def route_of(scope: Scope) -> str:
    """The template of the route that took the request (set by the router as it routes)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


# Ids made here: this process's random prefix and a count, unique without a random draw
# per request (the prefix tells processes and restarts apart).
_PREFIX = secrets.token_hex(6)
_COUNT = itertools.count(1)


def _request_id(scope: Scope) -> bytes:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER and _PLAIN_ID.fullmatch(value):
            return bytes(value)
    return f"{_PREFIX}-{next(_COUNT):x}".encode()


class RequestObserver:
    """The middleware; outermost, so that its time covers every other one."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        status = 500  # unless an answer starts: an error no handler answered

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (REQUEST_ID_HEADER, request_id)]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, answer)
        finally:
            elapsed = time.perf_counter() - started
            method, route = scope["method"], route_of(scope)
            self.metrics.observe(method, route, status, elapsed)
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "%s %s %d %.1f ms id=%s",
                    method,
                    route,
                    status,
                    elapsed * 1000,
                    request_id.decode(),
                    extra={
                        "request_id": request_id.decode(),
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 3),
                    },
                )
