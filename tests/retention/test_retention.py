"""Retention: each kind's items past their period go, in batches, audited; nothing else does,
a dry run removes nothing, and the access log still verifies after its oldest entries went."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select, text
from typer.testing import CliRunner

from nidb.accesslog import AccessRecord, append, chain_head, verify_chain
from nidb.accesslog import chain as chain_module
from nidb.cli import app
from nidb.retention.kinds import BY_KEY, KINDS
from nidb.retention.runner import apply, overview
from nidb.settings import Settings
from nidb.store import models
from nidb.store.models_employers import EmployerMessage
from nidb.store.models_notify import NotifyDelivery
from nidb.store.models_retention import AccessLogCheckpoint
from nidb.store.models_services import Dossier, DossierFile
from nidb.store.models_web import CorrectionEvidence, CorrectionRequest, SignInRequest, WebSession

NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=3650)  # past every default period
RECENT = NOW - timedelta(hours=1)  # within every period
HEADER = "row,column,value,rule,reason\n"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Default periods; the data folder is the test's own."""
    return Settings(data_dir=tmp_path / "data")


def log_entries(engine: Engine, lane: int, when: list[datetime], monkeypatch: Any) -> None:
    """Append one entry per time in ``when`` to ``lane``, each stamped with that time."""
    times = iter(w.isoformat(timespec="microseconds") for w in when)
    with monkeypatch.context() as patch, engine.begin() as conn:
        patch.setattr(chain_module, "_now_text", lambda: next(times))
        append(
            conn,
            [
                AccessRecord(
                    actor="VN/GOV/BYT/BV-01001",
                    service="card.check/v1",
                    result="ok",
                    subject=f"{n:010d}",
                    purpose="KCB",
                    fields="dd",
                )
                for n in range(len(when))
            ],
            lane=lane,
        )


def seed_tables(engine: Engine) -> None:
    """Two items of every table kind: one past its period (key 'old'), one within (key 'new')."""
    with engine.begin() as conn:
        for key, decided in (("old", OLD), ("new", RECENT)):
            request_id = conn.execute(
                insert(CorrectionRequest)
                .values(
                    personal_id="001085012345", field="address", new_value="x", reason=key,
                    status="accepted", decided_at=decided,
                )
                .returning(CorrectionRequest.id)
            ).scalar_one()  # fmt: skip
            conn.execute(
                insert(CorrectionEvidence).values(
                    request_id=request_id, filename=f"{key}.pdf", content_type="application/pdf",
                    size_bytes=4, sha256="0" * 64, content=b"%PDF",
                )
            )  # fmt: skip
            dossier_id = conn.execute(
                insert(Dossier)
                .values(kind="renewal", state="done", closed_at=decided, data={}, checks=[])
                .returning(Dossier.id)
            ).scalar_one()
            conn.execute(
                insert(DossierFile).values(
                    dossier_id=dossier_id, filename=f"{key}.pdf", content_type="application/pdf",
                    size=4, sha256="0" * 64, content=b"%PDF",
                )
            )  # fmt: skip
            expires = OLD if key == "old" else NOW + timedelta(hours=1)
            conn.execute(
                insert(WebSession).values(
                    token_hash=key * 8, kind="citizen", subject="001085012345", data={},
                    csrf_token="c", last_seen_at=expires, expires_at=expires,
                )
            )  # fmt: skip
            conn.execute(
                insert(SignInRequest).values(
                    state=key, nonce="n", code_verifier="v", browser_hash="b", next_path="/",
                    expires_at=expires,
                )
            )  # fmt: skip
            conn.execute(
                insert(EmployerMessage).values(
                    message_id=key, employer_code="0101234567", kid="k", received_at=decided
                )
            )
            conn.execute(
                insert(models.ExtractJob).values(
                    id=key, partner_code="P", service="person.summary/v1", purpose="GQCD",
                    grant_id=1, groups="a", status="done", subjects=1, finished_at=decided,
                )
            )  # fmt: skip
            conn.execute(
                insert(models.ExtractItem).values(job_id=key, position=0, query={"bhxh_code": "1"})
            )
        conn.execute(
            insert(models.Partner).values(code="P", name="Đối tác", kind="agency", rate_limit=10)
        )
        subscription = conn.execute(
            insert(models.Subscription)
            .values(partner_code="P", topic="*", url="http://127.0.0.1:9/", created_by="t")
            .returning(models.Subscription.id)
        ).scalar_one()
        # old delivered (goes), old with a dead delivery (stays: still owed), recent (stays)
        for subject, dispatched, status in (
            ("old", OLD, "delivered"),
            ("owed", OLD, "dead"),
            ("new", RECENT, "delivered"),
        ):
            event = conn.execute(
                insert(models.OutboxEvent)
                .values(topic="t", subject_key=subject, payload={}, dispatched_at=dispatched)
                .returning(models.OutboxEvent.id)
            ).scalar_one()
            conn.execute(
                insert(models.Delivery).values(
                    subscription_id=subscription, event_id=event, subject_key=subject,
                    status=status, next_attempt_at=dispatched,
                )
            )  # fmt: skip
        conn.execute(insert(models.OutboxEvent).values(topic="t", subject_key="undispatched"))
        # e-mails and SMS: old sent (goes), old failed (goes), old pending (stays), recent (stays)
        for key, status, sent in (
            ("old", "sent", OLD),
            ("old-failed", "failed", None),
            ("old-pending", "pending", None),
            ("new", "sent", RECENT),
        ):
            conn.execute(
                insert(NotifyDelivery).values(
                    event_key=f"notification:{key}", channel="email", party_kind="citizen",
                    party_id="001085012345", address="a@example.vn", body="x", status=status,
                    attempts=1, next_attempt_at=sent or OLD, sent_at=sent,
                )
            )  # fmt: skip


def seed_files(settings: Settings) -> dict[str, Path]:
    """Rejected-row files in the data folder: old, new, and an old look-alike that is not ours."""
    folder = settings.data_dir / "imports"
    folder.mkdir(parents=True)
    files = {
        "old": folder / "records.csv.rejected.csv",
        "new": folder / "records-2.csv.rejected.csv",
        "foreign": folder / "notes.rejected.csv",
    }
    for name, path in files.items():
        path.write_text("ghi chú của ai đó\n" if name == "foreign" else HEADER + "2,x,y,z,w\n")
        if name != "new":
            os.utime(path, (OLD.timestamp(), OLD.timestamp()))
    return files


@pytest.fixture
def seeded(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Path]]:
    # lane 0: five old entries then two recent; lane 3: three old entries only (its last stays)
    log_entries(engine, 0, [OLD] * 5 + [RECENT] * 2, monkeypatch)
    log_entries(engine, 3, [OLD] * 3, monkeypatch)
    seed_tables(engine)
    yield seed_files(settings)


EXPECTED_PAST = {
    "access_log": 5 + 2,
    "correction_evidence": 1,
    "dossier_files": 1,
    "web_sessions": 1,
    "sign_in_requests": 1,
    "outbox_events": 1,
    "notify_deliveries": 2,
    "employer_messages": 1,
    "extract_jobs": 1,
    "rejected_files": 1,
}


def counts(engine: Engine) -> dict[str, int]:
    tables = {
        "access_log": models.AccessLogEntry,
        "correction_evidence": CorrectionEvidence,
        "dossier_files": DossierFile,
        "web_sessions": WebSession,
        "sign_in_requests": SignInRequest,
        "outbox_events": models.OutboxEvent,
        "notify_deliveries": NotifyDelivery,
        "employer_messages": EmployerMessage,
        "extract_jobs": models.ExtractJob,
    }
    with engine.connect() as conn:
        return {
            key: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for key, table in tables.items()
        }


def test_every_kind_has_a_period_setting_a_basis_and_a_starting_point() -> None:
    for kind in KINDS:
        assert kind.setting in Settings.model_fields and kind.why_vi and kind.counted_from_vi


def test_show_counts_only_the_items_past_their_period(
    engine: Engine, settings: Settings, seeded: dict[str, Path]
) -> None:
    past = {s.kind.key: s.past for s in overview(engine, NOW, settings)}
    assert past == EXPECTED_PAST


def test_a_dry_run_removes_nothing_and_writes_no_audit(
    engine: Engine, settings: Settings, seeded: dict[str, Path]
) -> None:
    before = counts(engine)
    results = apply(engine, dry_run=True, now=NOW, settings=settings, actor="test:ops")
    assert {r.kind.key: r.removed for r in results} == EXPECTED_PAST
    assert counts(engine) == before
    assert all(path.exists() for path in seeded.values())
    with engine.connect() as conn:
        audited = conn.execute(
            select(func.count()).where(models.AuditEntry.action.like("retention.%"))
        ).scalar_one()
    assert audited == 0


def test_apply_removes_only_what_is_past_its_period_in_batches_and_audits_each_kind(
    engine: Engine, settings: Settings, seeded: dict[str, Path]
) -> None:
    before = counts(engine)
    seen: list[tuple[str, int]] = []
    results = apply(
        engine, batch=2, now=NOW, settings=settings, actor="test:ops",
        progress=lambda kind, n: seen.append((kind.key, n)),
    )  # fmt: skip
    removed = {r.kind.key: r.removed for r in results}
    assert removed == EXPECTED_PAST
    after = counts(engine)
    assert {k: before[k] - after[k] for k in after} == {
        k: v for k, v in EXPECTED_PAST.items() if k != "rejected_files"
    }
    # batches of at most 2, each reported after its commit
    assert all(n <= 2 for _, n in seen) and sum(n for k, n in seen if k == "access_log") == 7
    with engine.connect() as conn:
        kept = set(conn.execute(select(CorrectionEvidence.filename)).scalars())
        subjects = set(conn.execute(select(models.OutboxEvent.subject_key)).scalars())
        jobs = set(conn.execute(select(models.ExtractJob.id)).scalars())
        items = set(conn.execute(select(models.ExtractItem.job_id)).scalars())
        states = set(conn.execute(select(SignInRequest.state)).scalars())
        audit = conn.execute(
            select(models.AuditEntry.action, models.AuditEntry.subject_id, models.AuditEntry.detail)
            .where(models.AuditEntry.action.like("retention.%"))
            .order_by(models.AuditEntry.id)
        ).all()
    assert kept == {"new.pdf"} and jobs == items == {"new"} and states == {"new"}
    assert subjects == {"owed", "new", "undispatched"}
    assert not seeded["old"].exists() and seeded["new"].exists() and seeded["foreign"].exists()
    applied = {
        subject: detail for action, subject, detail in audit if action == "retention.applied"
    }
    started = {
        subject: detail for action, subject, detail in audit if action == "retention.started"
    }
    assert set(applied) == set(started) == set(BY_KEY)
    for key, detail in applied.items():
        assert detail["removed"] == EXPECTED_PAST[key] == started[key]["due"]
        assert detail["days"] == BY_KEY[key].days(settings)
    assert applied["access_log"]["batches"] == 4  # lane 0: 2+2+1 (keeps 2 recent); lane 3: 2


def test_the_access_log_verifies_after_pruning_against_the_heads_kept_before(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_entries(engine, 0, [OLD] * 4 + [RECENT] * 2, monkeypatch)
    log_entries(engine, 3, [OLD] * 3, monkeypatch)
    kept_outside = chain_head(engine)
    with engine.connect() as conn:
        fourth = conn.execute(
            select(models.AccessLogEntry.entry_hash).where(
                models.AccessLogEntry.lane == 0, models.AccessLogEntry.seq == 4
            )
        ).scalar_one()
    apply(engine, kinds=[BY_KEY["access_log"]], now=NOW, settings=settings, actor="t")
    report = verify_chain(engine, kept_outside)
    assert report.intact, report.problems
    assert report.entries == 2 + 1  # lane 3 keeps its last entry: writers continue from it
    with engine.connect() as conn:
        marks = {
            row.lane: (row.seq, row.entry_hash, row.entries_removed)
            for row in conn.execute(select(AccessLogCheckpoint))
        }
    assert marks == {0: (4, fourth, 4), 3: (2, marks[3][1], 2)}
    # an anchor kept at the checkpoint is checked against it; one before it went with the prefix
    assert verify_chain(engine, {0: (4, fourth)}).intact
    assert verify_chain(engine, {0: (2, "f" * 64)}).intact
    assert not verify_chain(engine, {0: (4, "f" * 64)}).intact
    # writing goes on after the prune, and a second prune verifies too
    log_entries(engine, 3, [RECENT], monkeypatch)
    assert verify_chain(engine).intact
    apply(engine, kinds=[BY_KEY["access_log"]], now=NOW, settings=settings, actor="t")
    assert verify_chain(engine).intact and verify_chain(engine).entries == 2 + 1


def test_the_database_lets_only_a_checkpointed_prefix_go_and_checkpoints_only_move_forward(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_entries(engine, 0, [OLD] * 4 + [RECENT] * 2, monkeypatch)
    apply(engine, kinds=[BY_KEY["access_log"]], now=NOW, settings=settings, actor="t")
    for sql in (
        "DELETE FROM access_log WHERE seq = 5",  # past the checkpoint
        "UPDATE access_log SET actor = 'x'",
        "DELETE FROM access_log_checkpoints",
        "UPDATE access_log_checkpoints SET seq = 1",  # backwards: would hide nothing, but lies
    ):
        with (
            pytest.raises(Exception, match=r"append-only|only move forward"),
            engine.begin() as conn,
        ):
            conn.execute(text(sql))
    assert verify_chain(engine).intact
    # past the guard (a superuser drops it), removing the first entry kept is still found
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE access_log DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER access_log_no_delete"))
        conn.execute(text("DELETE FROM access_log WHERE seq = 5"))
    assert {(p.seq, p.kind) for p in verify_chain(engine).problems} == {(6, "gap"), (6, "link")}


def test_a_run_interrupted_between_batches_leaves_a_log_that_verifies_and_a_rerun_finishes(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_entries(engine, 0, [OLD] * 6 + [RECENT], monkeypatch)
    from nidb.accesslog import prune_before

    calls = 0

    def crash_on_second_batch(conn: Any, n: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt

    cutoff = BY_KEY["access_log"].cutoff(settings, NOW)
    with pytest.raises(KeyboardInterrupt):
        prune_before(engine, cutoff, batch=2, on_batch=crash_on_second_batch)
    report = verify_chain(engine)
    assert report.intact and report.entries == 7 - 2  # the first batch stayed removed
    results = apply(engine, kinds=[BY_KEY["access_log"]], now=NOW, settings=settings, actor="t")
    assert results[0].removed == 4 and verify_chain(engine).entries == 1
    assert verify_chain(engine).intact


def test_rejected_files_beside_imported_files_are_found_too(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    source = inbox / "persons.csv"
    rejected = inbox / "persons.csv.rejected.csv"
    rejected.write_text(HEADER + "3,full_name,,REQUIRED,thiếu\n")
    os.utime(rejected, (OLD.timestamp(), OLD.timestamp()))
    with engine.begin() as conn:
        conn.execute(
            insert(models.ImportBatch).values(
                kind="records", source_name=str(source), sha256="0" * 64, rows_read=1,
                rows_inserted=0, rows_updated=0, rows_unchanged=0, rows_rejected=1,
                started_at=OLD, finished_at=OLD,
            )
        )  # fmt: skip
    [result] = apply(engine, kinds=[BY_KEY["rejected_files"]], now=NOW, settings=settings)
    assert result.removed == 1 and not rejected.exists()


def test_the_commands_show_the_periods_and_apply_a_dry_run(
    cli: CliRunner, engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NIDB_DATA_DIR", str(tmp_path))
    log_entries(engine, 0, [OLD] * 3 + [RECENT], monkeypatch)
    shown = cli.invoke(app, ["retention", "show"])
    assert shown.exit_code == 0, shown.output
    for kind in KINDS:
        assert kind.key in shown.output
    assert "NIDB_RETENTION_ACCESS_LOG_DAYS" in shown.output
    dry = cli.invoke(app, ["retention", "apply", "--dry-run", "--kind", "access_log"])
    assert dry.exit_code == 0 and "access_log: sẽ xoá (would remove) 3 mục" in dry.output
    assert verify_chain(engine).entries == 4
    done = cli.invoke(app, ["retention", "apply", "--kind", "access_log", "--batch", "2"])
    assert done.exit_code == 0 and "đã xoá (removed) 3 mục" in done.output
    assert verify_chain(engine).intact and verify_chain(engine).entries == 1
    verified = cli.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0 and "chuỗi bắt đầu từ mốc 0:3:" in verified.output
    bad = cli.invoke(app, ["retention", "apply", "--kind", "nhat_ky"])
    assert bad.exit_code == 2 and "nhat_ky" in bad.output
