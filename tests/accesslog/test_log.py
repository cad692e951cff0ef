"""The access log is a hash chain: any edit, removal or reordering is found by `audit verify`."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from nidb.accesslog import AccessLog, AccessRecord, chain_head, verify_chain
from nidb.cli import app


def write(engine: Engine, count: int, log: AccessLog | None = None) -> None:
    own = log or AccessLog(engine)
    try:
        for n in range(count):
            own.record(
                AccessRecord(
                    actor="VN/GOV/BYT/BV-01001",
                    service="card.check/v1",
                    result="ok",
                    subject=f"{n:010d}",
                    purpose="KCB",
                    fields="card",
                )
            )
    finally:
        if log is None:
            own.close()


def tamper(engine: Engine, sql: str) -> None:
    """What someone with database superuser rights could do: drop the guard, change rows."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE access_log DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS access_log_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS access_log_no_delete"))
        conn.execute(text(sql))


def problems(engine: Engine) -> set[tuple[int, str]]:
    return {(p.seq, p.kind) for p in verify_chain(engine).problems}


def test_an_untouched_log_verifies(engine: Engine) -> None:
    write(engine, 25)
    report = verify_chain(engine)
    assert report.intact and report.entries == 25 and report.heads[0][0] == 25


def test_the_database_refuses_updates_and_deletes(engine: Engine) -> None:
    write(engine, 2)
    statements = ["UPDATE access_log SET actor = 'x'", "DELETE FROM access_log"]
    if engine.dialect.name == "postgresql":
        statements.append("TRUNCATE access_log")
    for sql in statements:
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))


def test_an_edited_entry_is_found(engine: Engine) -> None:
    write(engine, 10)
    tamper(engine, "UPDATE access_log SET actor = 'VN/GOV/KHAC/X' WHERE seq = 4")
    assert problems(engine) == {(4, "hash")}


def test_a_removed_entry_is_found(engine: Engine) -> None:
    write(engine, 10)
    tamper(engine, "DELETE FROM access_log WHERE seq = 6")
    assert problems(engine) == {(7, "gap"), (7, "link")}


def test_reordered_entries_are_found(engine: Engine) -> None:
    write(engine, 10)
    # swap the contents of 3 and 5 (each keeps its own hash, so the links break)
    tamper(engine, "UPDATE access_log SET seq = -3 WHERE seq = 3")
    tamper(engine, "UPDATE access_log SET seq = 3 WHERE seq = 5")
    tamper(engine, "UPDATE access_log SET seq = 5 WHERE seq = -3")
    found = problems(engine)
    assert {3, 5} <= {seq for seq, _ in found}


def test_a_rewritten_chain_or_a_cut_tail_is_found_against_the_kept_head(engine: Engine) -> None:
    write(engine, 10)
    heads = chain_head(engine)
    tamper(engine, "DELETE FROM access_log WHERE seq > 8")
    assert verify_chain(engine).intact  # the rest of the chain is consistent...
    assert not verify_chain(engine, heads).intact  # ...but the head kept elsewhere is gone


def test_concurrent_writers_in_several_processes_keep_one_chain(engine: Engine) -> None:
    logs = [AccessLog(engine), AccessLog(engine)]  # as two worker processes would
    threads = [threading.Thread(target=write, args=(engine, 40, logs[n % 2])) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for log in logs:
        log.close()
    report = verify_chain(engine)
    assert report.intact and report.entries == 240
    if engine.dialect.name == "postgresql":  # two processes' writers: two lanes, no waiting
        assert sorted(report.heads) == [0, 1]


def test_a_message_id_is_claimed_once(engine: Engine) -> None:
    log = AccessLog(engine)
    try:
        entry = AccessRecord(actor="a", service="card.check/v1", result="ok", message_id="m-1")
        assert log.record(entry) is True
        assert log.record(entry) is False
    finally:
        log.close()
    assert verify_chain(engine).entries == 1


def test_a_replay_inside_a_batch_refuses_only_that_entry(engine: Engine) -> None:
    # the second writer already knows its lane's head, so it first bets that no id in the
    # batch is taken; the unique index refuses the bet and the batch is written the careful way
    first, second = AccessLog(engine), AccessLog(engine)
    try:
        entry = AccessRecord(actor="a", service="card.check/v1", result="ok", message_id="m-1")
        assert first.record(entry) is True
        assert second.record(AccessRecord(actor="b", service="card.check/v1", result="ok"))
        batch = [
            AccessRecord(actor="b", service="card.check/v1", result="ok", message_id=m)
            for m in ("m-2", "m-1", "m-3", "m-2")
        ]
        futures = [second.submit(record) for record in batch]
        assert [f.result(30) for f in futures] == [True, False, True, False]
    finally:
        first.close()
        second.close()
    report = verify_chain(engine)
    assert report.intact and report.entries == 4
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT message_id FROM access_log")).scalars()
        assert sorted(m or "-" for m in ids) == ["-", "m-1", "m-2", "m-3"]


def test_audit_verify_command_reports_tampering_with_exit_code_1(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NIDB_DATABASE_URL", database_url)
    from nidb.settings import get_settings

    get_settings.cache_clear()
    write(engine, 5)
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "nguyên vẹn" in ok.output
    head = runner.invoke(app, ["audit", "head"]).output.strip()
    assert runner.invoke(app, ["audit", "verify", "--head", head]).exit_code == 0
    tamper(engine, "UPDATE access_log SET fields = 'identity' WHERE seq = 2")
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1 and "can thiệp" in broken.output
    get_settings.cache_clear()
