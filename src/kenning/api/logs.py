"""How the server's processes log: lines for people ("text") or one JSON object a line for
log collectors ("json"), e-mail addresses and phone numbers masked in either (a driver's or
a mail server's message may quote them; Kenning's own messages name none).

uvicorn's access log is left off: it prints the raw path with its query string
(``/v1/customers/lookup?email=…``). The request log of api/observability.py takes its
place, naming the route template instead.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Literal

from kenning.domain.redact import scrub

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# What a request's line carries besides its message (see api/observability.py).
REQUEST_FIELDS = ("request_id", "method", "route", "status", "duration_ms")
# Loggers whose lines are always shown, whatever the level: where the server listens.
ANNOUNCER = "kenning.serve"


class ScrubFilter(logging.Filter):
    """Masks e-mail addresses and phone numbers in a record's message and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, a request's fields, and the
    traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in REQUEST_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


def log_config(log_format: LogFormat, level: str) -> dict[str, Any]:
    """A logging.config.dictConfig for a server process (uvicorn's log_config too)."""
    level = level.upper()
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"} if log_format == "json" else {"format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"scrub": {"()": f"{__name__}.ScrubFilter"}},
        "formatters": {"kenning": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "kenning",
                "filters": ["scrub"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
            ANNOUNCER: {"level": "INFO"},
        },
    }
