"""On PostgreSQL the server answers card checks and writes the access log on its event loop.

The answers must be those of the synchronous path, the chain must hold, a message id must still
be claimed once across the event-loop and thread writers, and a dropped database connection
must cost at most a retry, never an entry.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date

import pytest
from sqlalchemy import Engine, text

from nidb.accesslog import AccessLog, AccessRecord, verify_chain
from nidb.accesslog.pgasync import AsyncAccessLog
from nidb.exchange.cardcheck import card_check, card_check_async
from nidb.exchange.pgasync import AsyncCardReader
from nidb.store.pgasync import asyncpg_dsn
from tests.conftest import Exchange
from tests.seed import BHXH, TODAY, insured_person, register


@pytest.fixture
def pg(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("the event-loop path is PostgreSQL's; SQLite keeps the synchronous one")
    return engine


def entry(message_id: str | None, actor: str = "VN/GOV/BYT/BV-01001") -> AccessRecord:
    return AccessRecord(actor=actor, service="card.check/v1", result="ok", message_id=message_id)


def test_the_server_checks_cards_on_its_event_loop(exchange: Exchange) -> None:
    if exchange.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    reply = exchange.client().call(
        "card.check/v1",
        "KCB",
        {"card_code": f"DN401{BHXH}", "full_name": "Nguyễn Văn An", "date_of_birth": "1985-03-17"},
    )
    assert reply.status == 200 and reply.body["result_code"] == "000"
    runtime = exchange.http.app.state.exchange  # type: ignore[attr-defined]
    writer = runtime.log.loop_writer
    assert writer is not None and writer.lane >= 0  # written there
    assert runtime.cards is not None and runtime.cards.opened >= 1  # read there
    assert verify_chain(exchange.engine).intact


@pytest.mark.parametrize(
    ("card_code", "full_name", "birth", "gender", "expected"),
    [
        (f"DN401{BHXH}", "Nguyễn Văn An", "1985-03-17", "M", "000"),
        (BHXH, "NGUYỄN VĂN AN", "1985-03-17", None, "000"),
        (f"DN401{BHXH}", "Trần Văn An", "1985-03-17", None, "060"),
        (f"DN401{BHXH}", "Nguyễn Văn An", "1986-03-17", None, "070"),
        (f"DN401{BHXH}", "Nguyễn Văn An", "1985-03-17", "F", "080"),
        (f"HT301{BHXH}", "Nguyễn Văn An", "1985-03-17", None, "054"),
        ("DN4019999999999", "Nguyễn Văn An", "1985-03-17", None, "050"),
        ("not-a-card", "Nguyễn Văn An", "1985-03-17", None, "051"),
    ],
)
def test_the_event_loop_answer_is_the_synchronous_answer(
    pg: Engine, card_code: str, full_name: str, birth: str, gender: str | None, expected: str
) -> None:
    insured_person(pg)
    today = date.today()
    with pg.connect() as conn:
        sync = card_check(conn, card_code, full_name, birth, gender, today)

    async def on_the_loop() -> object:
        reader = AsyncCardReader(asyncpg_dsn(pg))
        try:
            return await card_check_async(reader, card_code, full_name, birth, gender, today)
        finally:
            await reader.close()

    assert asyncio.run(on_the_loop()) == sync
    assert sync.result == expected


def test_checks_arriving_together_share_one_statement_and_get_their_own_cards(pg: Engine) -> None:
    """Under load the reader looks up the codes waiting together in one statement; each check
    must still get the answer the synchronous path gives for its own card."""
    insured_person(pg)
    other = "0123456780"
    with register(pg) as reg:
        reg.person(other, "Lê Thị Bình", "1990-07-02", "F", record_id="R2")
        reg.card(
            other,
            "HT",
            level=3,
            valid_from=date(TODAY.year - 2, 1, 1),
            valid_to=date(TODAY.year - 1, 12, 31),
        )
        reg.card(
            other,
            "HT",
            level=3,
            valid_from=date(TODAY.year, 1, 1),
            valid_to=date(TODAY.year, 12, 31),
            status="suspended",
        )
    today = date.today()
    checks = [
        (f"DN401{BHXH}", "Nguyễn Văn An", "1985-03-17", "M"),
        (f"HT301{other}", "Lê Thị Bình", "1990-07-02", "F"),
        (other, "Lê Văn Bình", "1990-07-02", None),
        ("DN4019999999999", "Nguyễn Văn An", "1985-03-17", None),
        (BHXH, "Trần Văn An", "1985-03-17", None),
    ] * 6
    with pg.connect() as conn:
        expected = [card_check(conn, *check, today) for check in checks]

    async def on_the_loop() -> tuple[list[object], int]:
        reader = AsyncCardReader(asyncpg_dsn(pg), size=1)
        try:
            answers = await asyncio.gather(
                *(card_check_async(reader, *check, today) for check in checks)
            )
            return list(answers), reader.statements
        finally:
            await reader.close()

    answers, statements = asyncio.run(on_the_loop())
    assert answers == expected
    assert {a.result for a in answers} == {"000", "120", "050", "060"}
    assert statements < len(checks)  # 30 checks of 4 codes (and one refused before the query)


def test_a_message_id_is_claimed_once_across_both_writers(pg: Engine) -> None:
    threaded = AccessLog(pg)
    try:
        assert threaded.record(entry("m-1")) is True
    finally:
        threaded.close()

    async def write() -> list[bool]:
        log = AsyncAccessLog(asyncpg_dsn(pg), linger=0.005)
        try:
            assert await log.submit(entry(None)) is True  # the lane and its head are known now
            batch = [log.submit(entry(m)) for m in ("m-2", "m-1", "m-3", "m-2")]
            return list(await asyncio.gather(*batch))
        finally:
            await log.close()

    assert asyncio.run(write()) == [True, False, True, False]
    report = verify_chain(pg)
    assert report.intact and report.entries == 4


@pytest.mark.parametrize("gone", [False, True], ids=["while-going", "gone"])
def test_dropped_connections_cost_a_retry_not_an_entry(pg: Engine, gone: bool) -> None:
    """The server's "terminating connection" may be read mid-query (AdminShutdownError) or the
    connection found closed (ConnectionDoesNotExistError): both must be retried."""
    insured_person(pg)

    def kill_other_backends() -> int:
        with pg.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'"
                )
            ).rowcount
            for _ in range(200 if gone else 0):  # until the killed sessions have ended
                left = conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                    )
                ).scalar_one()
                if not left:
                    break
                time.sleep(0.01)
            return killed

    async def run() -> list[str]:
        dsn = asyncpg_dsn(pg)
        log, reader = AsyncAccessLog(dsn), AsyncCardReader(dsn, size=1)
        try:
            assert await log.submit(entry("a-1")) is True
            first = await card_check_async(
                reader, BHXH, "Nguyễn Văn An", "1985-03-17", None, date.today()
            )
            assert await asyncio.to_thread(kill_other_backends) >= 2  # the writer's, the reader's
            assert await log.submit(entry("a-2")) is True  # reconnected, lane reclaimed
            # ten at once on one connection slot: the one that finds the connection dead
            # opens a new one, the others wait for the slot; nobody waits for ever
            again = await asyncio.wait_for(
                asyncio.gather(
                    *(
                        card_check_async(
                            reader, BHXH, "Nguyễn Văn An", "1985-03-17", None, date.today()
                        )
                        for _ in range(10)
                    )
                ),
                timeout=30,
            )
            assert reader.opened == 1
            return [first.result, *{answer.result for answer in again}]
        finally:
            await log.close()
            await reader.close()

    assert asyncio.run(run()) == ["000", "000"]
    report = verify_chain(pg)
    assert report.intact and report.entries == 2


def test_closing_writes_what_was_queued(pg: Engine) -> None:
    async def run() -> list[asyncio.Future[bool]]:
        log = AsyncAccessLog(asyncpg_dsn(pg), linger=0.05)
        futures = [log.submit(entry(f"c-{n}")) for n in range(50)]
        await log.close()
        with pytest.raises(RuntimeError):
            log.submit(entry("late"))
        return futures

    futures = asyncio.run(run())
    assert all(f.done() and f.result() is True for f in futures)
    assert verify_chain(pg).entries == 50
