"""Answers written straight to JSON, for the hot paths whose data already has the shape of
their declared response model (the route declares it with ``response_model=`` so the
OpenAPI document stays the same); a test pins each shape to its model."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response


def json_answer(data: Any, status: int = 200) -> Response:
    """``data`` (dicts, lists, dataclasses) as JSON with orjson, no model in between."""
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")
