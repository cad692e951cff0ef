"""The exchange runtime hands back a reply only once its request is in the access log.

The HTTP layer only moves bytes (`ExchangeRuntime.answer_async` on the server's loop); a caller
off the event loop gets the same rule from `ExchangeRuntime.answer`.
"""

from __future__ import annotations

import json

from nidb.accesslog import count_entries, verify_chain
from nidb.exchange.runtime import ExchangeRuntime
from tests.conftest import Exchange
from tests.seed import BHXH

CARD = {"card_code": f"DN401{BHXH}", "full_name": "NGUYỄN VĂN AN", "date_of_birth": "17/03/1985"}


def test_the_reply_comes_back_with_its_access_record_already_written(exchange: Exchange) -> None:
    runtime: ExchangeRuntime = exchange.http.app.state.exchange  # type: ignore[attr-defined]
    client = exchange.client()
    raw = json.dumps(client.envelope("card.check/v1", "KCB", CARD)).encode("utf-8")
    before = count_entries(exchange.engine)

    reply = runtime.answer("card.check/v1", raw)

    assert count_entries(exchange.engine) == before + 1
    checked = client.check(reply.status, json.loads(reply.content))
    assert checked.status == 200 and checked.body["result_code"] == "000"


def test_a_second_answer_to_the_same_message_is_a_logged_replay(exchange: Exchange) -> None:
    runtime: ExchangeRuntime = exchange.http.app.state.exchange  # type: ignore[attr-defined]
    client = exchange.client()
    raw = json.dumps(client.envelope("card.check/v1", "KCB", CARD)).encode("utf-8")
    assert runtime.answer("card.check/v1", raw).status == 200
    runtime.gate.recent._ids.clear()  # as if another worker had seen it: the log must catch it
    before = count_entries(exchange.engine)

    again = runtime.answer("card.check/v1", raw)

    assert again.status == 409
    assert client.check(again.status, json.loads(again.content)).body["error"]["code"] == "E_REPLAY"
    assert count_entries(exchange.engine) == before + 1  # the refusal, logged before the reply
    assert verify_chain(exchange.engine).intact


def test_only_the_services_of_the_catalogue_are_served(exchange: Exchange) -> None:
    runtime: ExchangeRuntime = exchange.http.app.state.exchange  # type: ignore[attr-defined]
    assert runtime.serves("card.check/v1") and not runtime.serves("card.steal/v1")
