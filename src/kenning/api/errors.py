"""One error shape for every failure: ``{"code": ..., "message": ...}``."""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kenning.domain.refusals import Refusal
from kenning.store import is_unavailable, unavailable_errors
from kenning.store.refused_values import REFUSED_VALUE_ERRORS

log = logging.getLogger("kenning.api")

# Refusal code -> HTTP status.
STATUS = {
    "invalid": 422,
    "validation_error": 422,
    "not_found": 404,
    "insufficient_stock": 409,
    "coupon_exhausted": 409,
    "insufficient_funds": 409,
    "conflict": 409,
    "idempotency_mismatch": 409,
    "idempotency_key_required": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "invalid_request": 400,
    "too_large": 413,
    "ambiguous": 409,
    "wrong_code": 422,
    "expired": 410,
    "too_many_attempts": 429,
    "too_many_requests": 429,
    "unavailable": 503,
}
_HTTP_CODES = {
    400: "invalid_request",  # a body FastAPI could not parse
    404: "not_found",
    405: "method_not_allowed",
    401: "unauthorized",
    413: "too_large",  # api/limits.py
}
# Every code an error answer carries (the OpenAPI document's enum, see api/openapi.py):
# STATUS's, and those of the HTTP errors and the unexpected one below.
ErrorCode = Literal[
    "invalid",
    "validation_error",
    "not_found",
    "insufficient_stock",
    "coupon_exhausted",
    "insufficient_funds",
    "conflict",
    "idempotency_mismatch",
    "idempotency_key_required",
    "unauthorized",
    "forbidden",
    "invalid_request",
    "too_large",
    "ambiguous",
    "wrong_code",
    "expired",
    "too_many_attempts",
    "too_many_requests",
    "unavailable",
    "method_not_allowed",
    "http_error",
    "internal",
]


def error(status: int, code: str, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)


async def _refusal(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Refusal)
    return error(STATUS.get(exc.code, 400), exc.code, exc.message)


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for problem in exc.errors():
        where = ".".join(str(p) for p in problem.get("loc", ()) if p != "body")
        parts.append(f"{where}: {problem.get('msg', 'invalid')}" if where else problem["msg"])
    return error(422, "validation_error", "; ".join(parts) or "invalid request")


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    answer = error(exc.status_code, code, str(exc.detail))
    answer.headers.update(exc.headers or {})  # a 405's Allow
    return answer


async def _refused_value(_: Request, exc: Exception) -> JSONResponse:
    # Input the checks at the door let through and the database would not take: the
    # client's error, but logged (by kind only: values may be personal) so a check is added.
    log.warning("the database refused a value: %s", type(exc).__name__)
    return error(422, "invalid", "a value is out of range or cannot be stored")


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return error(500, "internal", "an unexpected error occurred; it has been logged")


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    if not is_unavailable(exc):
        return await _unexpected(request, exc)
    # The database went away under the request (a restart, a fail-over): its transaction
    # rolled back, the pool replaces the connection, and the client's retry will work.
    # The driver's first line says what happened; it names no customer.
    log.warning("database unavailable: %s", str(exc).partition("\n")[0])
    answer = error(503, "unavailable", "the database is unavailable; try again shortly")
    answer.headers["Retry-After"] = "1"
    return answer


def install(app: FastAPI) -> None:
    app.add_exception_handler(Refusal, _refusal)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    for unavailable in unavailable_errors():
        app.add_exception_handler(unavailable, _unavailable)
    for refused in REFUSED_VALUE_ERRORS:
        app.add_exception_handler(refused, _refused_value)
    app.add_exception_handler(Exception, _unexpected)
