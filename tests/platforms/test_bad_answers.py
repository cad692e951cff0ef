"""A platform that answers 200 with something else than its contract: nidb's clients refuse
the answer with a coded error (BAD_ANSWER) instead of failing on a missing key."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse

from nidb.connectors.platforms import (
    CkanClient,
    EmcClient,
    NdxpClient,
    PlatformRefused,
    PortalClient,
)
from tests.platforms.conftest import serve


@pytest.fixture
def liar() -> Iterator[str]:
    """Answers every call with 200: a list, or text, or a CKAN failure marked success=false."""
    app = FastAPI()

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT"])
    async def anything(path: str) -> object:
        if path.startswith("api/3"):
            return JSONResponse({"success": False, "result": {}})
        if path.endswith("batches"):
            return PlainTextResponse("<html>ok</html>")
        return JSONResponse(["not", "an", "object"])

    with serve(app) as server:
        yield server.url


def test_answers_outside_the_contract_are_refused_with_a_code(liar: str) -> None:
    calls: list[Callable[[], object]] = [
        lambda: PortalClient(liar, "k").waiting(),
        lambda: PortalClient(liar, "k").report("X", "received", agency_ref=None, note=None, at=""),
        lambda: NdxpClient(liar, "k").list_services("BHXH", {}),
        lambda: EmcClient(liar, "k").send("b", []),
        lambda: CkanClient(liar, "k").action("package_list"),
    ]
    for call in calls:
        with pytest.raises(PlatformRefused) as refused:
            call()
        assert refused.value.code == "BAD_ANSWER"
        assert "câu trả lời" in refused.value.message_vi and "answer" in refused.value.message_en
