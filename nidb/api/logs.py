"""The log of `nidb serve`: JSON lines on stderr, each with the request it belongs to.

One line per record: ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger``,
``message``, ``request_id`` (while a request is being answered), and on the request line that
`nidb.api.observe.Observe` writes when a request ends: ``method``, ``route`` (the route
template or partner service, never the raw path), ``status``, ``outcome`` (the refusal code
or ``ok`` of a partner message, else the status class) and ``duration_ms``.

No personal data: the request line names no path, query string or body; an exception is
written as its class names and the code locations it passed through (``error``, ``stack``),
never its message or its local values (a database error's message repeats the SQL parameters);
and the libraries that would echo SQL parameters or URLs (SQLAlchemy's engine, httpx, the form
parser) are held at WARNING whatever ``NIDB_LOG_LEVEL`` says.
"""

from __future__ import annotations

import logging
import re
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import orjson

REQUEST_ID: ContextVar[str | None] = ContextVar("nidb_request_id", default=None)
"""The id of the request being answered in this context (threads of the pool inherit it)."""

_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{16,64}")
_DIGIT_RUN = re.compile(r"[0-9]{9}")
REQUEST_FIELDS = ("method", "route", "status", "outcome", "duration_ms")

QUIET_LIBRARIES = (
    "sqlalchemy",  # at INFO the engine logs every statement with its parameters
    "httpx",  # at INFO, every URL called (a citizen's ID in a query string)
    "httpcore",
    "multipart",  # at DEBUG, form fields as they are parsed
    "python_multipart",
    "asyncio",
    "hpack",
    "urllib3",
)
"""Loggers held at WARNING: below it they write values of requests and statements."""


def request_id_from(header: str | None) -> str:
    """The incoming ``X-Request-Id`` if it is well formed, else a new id (32 hex digits).

    Well formed: 16 to 64 letters, digits and ``. _ : -``, with no run of 9 digits or more, so
    that no personal ID, BHXH code or card number passes for a request id and reaches the log.
    """
    if header and _WELL_FORMED.fullmatch(header) and not _DIGIT_RUN.search(header):
        return header
    return uuid4().hex


def _stack(error: BaseException) -> list[str]:
    """Where ``error`` went through: ``file:line in function`` per frame, no source text."""
    frames = traceback.extract_tb(error.__traceback__)
    return [
        f"{frame.filename.rsplit('/', 2)[-1]}:{frame.lineno} in {frame.name}" for frame in frames
    ]


def _error_chain(error: BaseException) -> str:
    """The classes of ``error`` and its causes (``OperationalError <- ConnectionRefusedError``)."""
    names, seen = [], set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        names.append(type(current).__name__)
        current = current.__cause__ or current.__context__
    return " <- ".join(names)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; exceptions as class names and frames, without messages."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            line["request_id"] = request_id
        for field in REQUEST_FIELDS:
            if hasattr(record, field):
                line[field] = getattr(record, field)
        if record.exc_info and record.exc_info[1] is not None:
            line["error"] = _error_chain(record.exc_info[1])
            line["stack"] = _stack(record.exc_info[1])
        return orjson.dumps(line, default=str).decode()


class RequestIdFilter(logging.Filter):
    """Stamp every record with the id of the request being answered (if any)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = REQUEST_ID.get()
        return True


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """The `logging.config.dictConfig` of `nidb serve` (uvicorn's ``log_config``, applied in
    every worker): everything to stderr as JSON lines; uvicorn's own access log off (each
    request has our line, without its path); the chatty libraries at WARNING."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "json",
                "filters": ["request_id"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
            **{name: {"level": "WARNING"} for name in QUIET_LIBRARIES},
        },
    }
