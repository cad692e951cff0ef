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

Cost: the request line is written once per request, so in the serve configuration
(`JsonLinesHandler` the only handler) `request_line` builds it straight from its fields, the
same bytes `JsonFormatter` would write, without a `logging.LogRecord` and the logging machinery
(which cost more than the line itself), and the lines of requests that end together are
written in one go. With any other configuration (a test's handler, caplog) the line goes
through `logging` as any record does.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

REQUEST_ID: ContextVar[str | None] = ContextVar("nidb_request_id", default=None)
"""The id of the request being answered in this context (threads of the pool inherit it)."""

_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{16,64}")
_DIGIT_RUN = re.compile(r"[0-9]{9}")
REQUEST_FIELDS = ("method", "route", "status", "outcome", "duration_ms")
REQUEST_LOGGER = "nidb.http"
"""The logger of the request lines (`request_line`)."""

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
    return os.urandom(16).hex()  # as random as uuid4().hex, without building a UUID


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


_second_text: tuple[int, str] = (0, "1970-01-01T00:00:00")


def _utc_text(moment: float) -> str:
    """``moment`` as the log writes it: UTC, ISO 8601 with milliseconds and ``Z``."""
    global _second_text
    second = int(moment)
    if second != _second_text[0]:  # the date and time of day are made once a second
        _second_text = (
            second,
            datetime.fromtimestamp(second, UTC).isoformat(timespec="seconds")[:19],
        )
    return f"{_second_text[1]}.{int((moment - second) * 1000):03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per line; exceptions as class names and frames, without messages."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _utc_text(record.created),
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


class JsonLinesHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The serve configuration's handler: `JsonFormatter` lines on a stream, and the request
    lines of `request_line`, which requests ending together share one write for.

    A request line waits in memory only while other requests are being answered on the same
    event loop, and never past the end of that loop's turn; every other record is written (with
    whatever waits before it) at once.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self.setFormatter(JsonFormatter())  # (a configuration may set its own)
        self._waiting: list[str] = []
        self._drain_on: asyncio.AbstractEventLoop | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            with self.lock:  # type: ignore[union-attr]
                self._write(line)
        except Exception:  # as logging's own handlers do: a broken stream is reported, not raised
            self.handleError(record)

    def add_request_line(self, line: str, alone: bool) -> None:
        """Write ``line`` now if no other request is being answered (``alone``), else at the
        end of this event-loop turn together with the lines of the requests that end in it."""
        loop = asyncio._get_running_loop()
        with self.lock:  # type: ignore[union-attr]
            try:
                if alone or loop is None:
                    self._write(line)
                    return
                self._waiting.append(line)
                if self._drain_on is not loop:
                    self._drain_on = loop
                    loop.call_soon(self.flush)
            except Exception:  # a broken stream must not fail the request
                self._waiting.clear()
                self.handleError(logging.makeLogRecord({"name": REQUEST_LOGGER, "msg": line}))

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._drain_on = None
            if not self._waiting:
                super().flush()
                return
            try:
                self._write(None)
            except Exception:
                self._waiting.clear()
                self.handleError(logging.makeLogRecord({"name": REQUEST_LOGGER, "msg": "flush"}))

    def _write(self, line: str | None) -> None:
        """Write what waits, then ``line``, and flush (the caller holds the lock)."""
        if line is not None:
            self._waiting.append(line)
        text = "\n".join(self._waiting) + "\n"
        self._waiting.clear()
        self.stream.write(text)
        super().flush()


_request_logger = logging.getLogger(REQUEST_LOGGER)


def _request_sink(level: int) -> JsonLinesHandler | None:
    """The handler a request line can be handed to directly: the serve configuration's, when it
    is the only handler the line would reach and nothing else would filter it."""
    root = logging.root
    handlers = root.handlers
    if len(handlers) != 1 or root.filters:
        return None
    handler = handlers[0]
    if type(handler) is not JsonLinesHandler or level < handler.level:
        return None
    if type(handler.formatter) is not JsonFormatter or not _request_logger.isEnabledFor(level):
        return None
    for kept in handler.filters:
        if type(kept) is not RequestIdFilter:
            return None
    logger = _request_logger
    while logger is not root:
        if logger.handlers or logger.filters or not logger.propagate or logger.parent is None:
            return None
        logger = logger.parent
    return handler


def request_line(
    *,
    request_id: str,
    method: str,
    route: str,
    status: int,
    outcome: str,
    duration_ms: float,
    alone: bool = True,
) -> None:
    """Log the line of a request that ended (`nidb.api.observe`): at INFO, or ERROR for a
    5xx. ``alone``: no other request is being answered in this process (see
    `JsonLinesHandler.add_request_line`)."""
    level = logging.ERROR if status >= 500 else logging.INFO
    sink = _request_sink(level)
    fields = {
        "method": method,
        "route": route,
        "status": status,
        "outcome": outcome,
        "duration_ms": duration_ms,
    }
    if sink is None:
        if _request_logger.isEnabledFor(level):
            # made here rather than by log.log(): its search of the stack for the caller costs
            # a tenth of what watching a request costs, for a place known in advance
            record = _request_logger.makeRecord(
                REQUEST_LOGGER,
                level,
                __file__,
                0,
                "%s %s %s",
                (method, route, status),
                None,
                "request_line",
                {"request_id": request_id, **fields},
            )
            _request_logger.handle(record)
        return
    line = {
        "time": _utc_text(time.time()),
        "level": logging.getLevelName(level),
        "logger": REQUEST_LOGGER,
        "message": f"{method} {route} {status}",
        "request_id": request_id,
        **fields,
    }
    sink.add_request_line(orjson.dumps(line, default=str).decode(), alone)


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
                "class": "nidb.api.logs.JsonLinesHandler",
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
