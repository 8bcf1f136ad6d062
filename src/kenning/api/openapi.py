"""The OpenAPI document tells the errors as they are: every error answer is ``{code,
message}`` (ErrorPublic, its codes those of api/errors.py), and each operation lists the
error statuses it can answer with. Decided here from what each operation is, once for the
whole app, rather than in every router:

- a secret key (the bearer scheme): 401 without a valid key, 403 without its scope;
- a write key (collection): 401, and 400 for messages refused;
- a path parameter: 404 when what it names does not exist;
- an ``Idempotency-Key``: 400 without one, 409 when it was used for another request;
- a body (POST, PUT, PATCH): 413 when it is too large, and 409 when the state forbids the
  write (stock, funds, a used code), collection apart;
- any parameter or body: 422 when it is not valid (instead of FastAPI's own shape), and 400
  for a NUL character in the URL (api/limits.py refuses it before any route);
- a write with a secret key: 404, as its body names things (a customer, a record, a
  location) that may not exist;
- sign-up (/v1/accounts…): 429 when too many codes or guesses were asked for;
- every /v1 operation: 503 while the database is unavailable (a restart, a fail-over);
- and what single operations answer besides (_ALSO): a lookup's 409 for a value several
  customers hold, a code's 410 once expired, 503 when no mail server is configured.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from kenning.api.errors import ErrorCode

SCHEMA = "ErrorPublic"
_REF = f"#/components/schemas/{SCHEMA}"
_FASTAPI_SCHEMAS = ("HTTPValidationError", "ValidationError")
_LIMITED_PREFIXES = ("/v1/accounts",)  # sign-up: codes and guesses are rate limited
_WRITES = ("post", "put", "patch")
_ALSO = {
    ("/v1/customers/lookup", "get"): {"409"},
    ("/v1/accounts", "post"): {"503"},
    ("/v1/accounts/verify", "post"): {"410"},
}

_DESCRIPTIONS = {
    "400": "Bad request: the `message` says what is wrong",
    "401": "No key, or an unknown or revoked one",
    "403": "The key lacks the scope this route needs",
    "404": "Not found",
    "409": "Conflict with the current state, or the idempotency key was used for another request",
    "413": "The body is too large",
    "422": "A value is not valid: the `message` names it",
    "410": "Expired: start again",
    "429": "Too many requests: try later",
    "503": "A service Kenning needs is unavailable: try later",
}


class ErrorPublic(BaseModel):
    """Every error answer."""

    code: ErrorCode = Field(description="What went wrong, for programs: stable.")
    message: str = Field(description="What went wrong, for people.")


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> set[str]:
    """The error statuses an operation can answer with (see the module's docstring)."""
    statuses: set[str] = set()
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    if operation.get("security"):
        statuses |= {"401", "403"}
    collection = "collection" in operation.get("tags", ())
    if collection:
        statuses |= {"400", "401"}
    if any(p.get("in") == "path" for p in parameters):
        statuses.add("404")
    if any(p.get("in") == "header" and p.get("name") == "Idempotency-Key" for p in parameters):
        statuses |= {"400", "409"}
    if method in _WRITES:
        statuses |= {"413"} if collection else {"409", "413"}
    if parameters or has_body:
        statuses |= {"400", "422"}
    if method in _WRITES and has_body and operation.get("security"):
        statuses.add("404")
    if path.startswith(_LIMITED_PREFIXES):
        statuses.add("429")
    if path.startswith("/v1/"):
        statuses.add("503")
    return statuses | _ALSO.get((path, method), set())


def _error_content() -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF}}}


def _is_fastapi_error(answer: dict[str, Any]) -> bool:
    schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
    return str(schema.get("$ref", "")).rsplit("/", 1)[-1] in _FASTAPI_SCHEMAS


def document_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Add the error answers to every operation of ``document``, in place."""
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            answers: dict[str, Any] = operation["responses"]
            for status in sorted(error_statuses(path, method, operation)):
                answer = answers.setdefault(status, {"description": _DESCRIPTIONS[status]})
                if status == "422" or _is_fastapi_error(answer):
                    answer["description"] = _DESCRIPTIONS[status]
                    answer["content"] = _error_content()
                answer.setdefault("content", _error_content())
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas[SCHEMA] = ErrorPublic.model_json_schema(ref_template="#/components/schemas/{model}")
    for name in _FASTAPI_SCHEMAS:
        schemas.pop(name, None)  # nothing answers in FastAPI's shape (see api/errors.py)
    return document


def install(app: FastAPI) -> None:
    """Make the app's OpenAPI document (built once, on first use) tell its errors."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
