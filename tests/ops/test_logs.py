"""The JSON-lines log of `nidb serve`: one object per line, the request id, the request line
with its route template, and exceptions without their messages."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import logging.config
import re
from collections.abc import Iterator

import pytest

from nidb.api.logs import (
    JsonFormatter,
    JsonLinesHandler,
    RequestIdFilter,
    logging_config,
    request_id_from,
)
from tests import seed
from tests.ops.conftest import CARD, Served


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the JSON formatter writes for every record of every logger, at DEBUG."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def lines_of(stream: io.StringIO) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_well_formed_request_id_is_kept_and_anything_else_replaced() -> None:
    kept = "0f8c2b6e-4a1d-4c7e-9b1a-5d2e7f3a9c10"
    assert request_id_from(kept) == kept
    assert request_id_from("lb.req:20261207T040000-ab12") == "lb.req:20261207T040000-ab12"
    for hostile in (
        None,
        "",
        "short",
        seed.PID,  # a personal ID never passes for a request id
        f"req-{seed.PID}-abcdef",
        f"req-{seed.BHXH}-abcdef",
        "a" * 65,
        "abcdefgh ijklmnop",
        "abcdefghijklmnop\nforged",
    ):
        made = request_id_from(hostile)
        assert re.fullmatch(r"[0-9a-f]{32}", made), hostile


def test_each_request_gets_one_json_line_with_its_id_and_route_template_never_its_path(
    served: Served, json_lines: io.StringIO
) -> None:
    given = "trace-0001-abcdef-0002"
    response = served.http.get(
        f"/can-bo/doi-soat/{seed.PID}?ma={seed.BHXH}", headers={"X-Request-Id": given}
    )
    assert response.headers["x-request-id"] == given
    reply = served.hospital.call("card.check/v1", "KCB", CARD)
    assert reply.status == 200
    made = served.http.get("/healthz", headers={"X-Request-Id": seed.PID}).headers["x-request-id"]
    assert made != seed.PID and re.fullmatch(r"[0-9a-f]{32}", made)
    requests = [line for line in lines_of(json_lines) if line["logger"] == "nidb.http"]
    assert [(line["method"], line["route"], line["status"]) for line in requests] == [
        ("GET", "/can-bo/doi-soat/{item_id}", 303),
        ("POST", "card.check/v1", 200),
        ("GET", "/healthz", 200),
    ]
    assert [line["request_id"] for line in requests][0::2] == [given, made]
    for line in requests:
        assert set(line) == {
            "time",
            "level",
            "logger",
            "message",
            "request_id",
            "method",
            "route",
            "status",
            "outcome",
            "duration_ms",
        }
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
        assert line["level"] == "INFO" and line["duration_ms"] >= 0
    assert requests[1]["outcome"] == "ok" and requests[0]["outcome"] == "3xx"
    text = json.dumps(requests, ensure_ascii=False)  # (the test's own HTTP client logs URLs)
    assert seed.PID not in text and seed.BHXH not in text


def test_an_exception_is_logged_as_its_classes_and_frames_without_its_message(
    json_lines: io.StringIO,
) -> None:
    def read_person() -> None:
        try:
            raise KeyError(seed.PID)
        except KeyError as error:
            raise ValueError(f"no person {seed.PID} named Nguyễn Văn An") from error

    try:
        read_person()
    except ValueError:
        logging.getLogger("nidb.test").exception("reading a person failed")
    (line,) = [line for line in lines_of(json_lines) if line["logger"] == "nidb.test"]
    assert line["level"] == "ERROR" and line["message"] == "reading a person failed"
    assert line["error"] == "ValueError <- KeyError"
    assert any("in read_person" in frame for frame in line["stack"])
    assert seed.PID not in json_lines.getvalue() and "Nguyễn" not in json_lines.getvalue()


def test_the_serve_configuration_quiets_the_libraries_that_echo_values(
    restore_logging: None,
) -> None:
    config = logging_config("DEBUG")
    assert config["root"] == {"level": "DEBUG", "handlers": ["stderr"]}
    assert config["loggers"]["uvicorn.access"]["propagate"] is False
    for name in ("sqlalchemy", "httpx", "multipart", "python_multipart"):
        assert config["loggers"][name]["level"] == "WARNING"
    stream = io.StringIO()
    config["handlers"]["stderr"]["stream"] = stream
    logging.config.dictConfig(config)
    logging.getLogger("sqlalchemy.engine.Engine").info("SELECT … [%s]", seed.PID)
    logging.getLogger("httpx").info("HTTP Request: GET /?id=%s", seed.PID)
    logging.getLogger("nidb.feeds").debug("page applied")
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["logger"] == "nidb.feeds" and line["level"] == "DEBUG"


def test_the_log_level_setting_takes_any_case_and_refuses_unknown_levels() -> None:
    from pydantic import ValidationError

    from nidb.settings import Settings

    assert Settings(log_level="warning").log_level == "WARNING"
    with pytest.raises(ValidationError):
        Settings(log_level="verbose")


def test_the_serve_configuration_writes_request_lines_as_the_formatter_would(
    served: Served, restore_logging: None
) -> None:
    stream = io.StringIO()
    config = logging_config("INFO")
    config["handlers"]["stderr"]["stream"] = stream
    logging.config.dictConfig(config)
    given = "trace-0003-abcdef-0004"
    reply = served.hospital.call("card.check/v1", "KCB", CARD)
    assert reply.status == 200
    served.http.get("/healthz", headers={"X-Request-Id": given})
    # each line is on the stream when its request has been answered (nothing else in flight)
    requests = [line for line in lines_of(stream) if line["logger"] == "nidb.http"]
    assert [(line["route"], line["status"], line["outcome"]) for line in requests] == [
        ("card.check/v1", 200, "ok"),
        ("/healthz", 200, "2xx"),
    ]
    assert requests[1]["request_id"] == given
    formatted = json.loads(
        JsonFormatter().format(
            logging.makeLogRecord(
                {
                    "name": "nidb.http",
                    "levelno": logging.INFO,
                    "levelname": "INFO",
                    "msg": "%s %s %s",
                    "args": ("GET", "/healthz", 200),
                    "request_id": given,
                    "method": "GET",
                    "route": "/healthz",
                    "status": 200,
                    "outcome": "2xx",
                    "duration_ms": 1.5,
                }
            )
        )
    )
    for line in requests:
        assert list(line) == list(formatted)  # the same fields in the same order
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert requests[1]["message"] == formatted["message"] == "GET /healthz 200"


def test_request_lines_of_requests_ending_together_are_written_at_the_end_of_the_loop_turn() -> (
    None
):
    stream = io.StringIO()
    handler = JsonLinesHandler(stream)

    async def turn() -> tuple[str, str]:
        handler.add_request_line('{"n":1}', alone=False)
        handler.add_request_line('{"n":2}', alone=False)
        during = stream.getvalue()
        await asyncio.sleep(0)  # the loop's next turn
        return during, stream.getvalue()

    during, after = asyncio.run(turn())
    assert during == "" and after == '{"n":1}\n{"n":2}\n'
    handler.add_request_line('{"n":3}', alone=False)  # no loop running here: written at once
    handler.emit(logging.makeLogRecord({"name": "nidb.x", "msg": "later", "levelname": "INFO"}))
    lines = stream.getvalue().splitlines()
    assert lines[2] == '{"n":3}' and json.loads(lines[3])["message"] == "later"
