"""One-time SI and unemployment claims: checks, amounts, staff decisions, concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from nidb.services.claims import submit_one_time_claim, submit_unemployment_claim
from nidb.services.decisions import decide
from nidb.services.errors import ConcurrentDecision, FormInvalid, NotEligible, TransitionRefused
from nidb.services.forms import MAX_UPLOAD_BYTES, check_upload
from nidb.services.views import (
    get_dossier,
    list_for_person,
    list_for_scope,
    notifications_for,
    overdue,
)
from nidb.services.workdays import add_months
from nidb.store import models
from nidb.store.models_services import Dossier, DossierFile
from tests.seed import LAID_OFF, LAID_OFF_CODE, LEFT, LEFT_CODE, STRANGER
from tests.seed import TODAY_VN as TODAY

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n"


def count(engine: Engine, table: type) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_one_time_claim_is_checked_priced_and_approved_into_a_benefit(register: Engine) -> None:
    view = submit_one_time_claim(register, LEFT, "no_contribution_12_months", "0123 4567 89")
    assert view.summary.state == "submitted" and view.checks_passed, view.checks
    # 12 months in 2012-2013 (1 year × 1.5) + the months since 2014 (2 per year, odd months rounded)
    months_after = view.data["months"] - 24
    half_years = 2 * (months_after // 12) + (
        0 if months_after % 12 == 0 else 1 if months_after % 12 <= 6 else 2
    )
    assert view.data["amount"] == 8_000_000 * (6 * 2 + 4 * half_years) // 4
    assert view.summary.province == "79"  # the employer's: no card
    checked = decide(
        register, view.summary.id, "check", actor="staff:reviewer1", role="reviewer", version=1
    )
    approved = decide(
        register,
        view.summary.id,
        "approve",
        actor="staff:approver1",
        role="approver",
        version=checked.summary.version,
    )
    assert approved.summary.state == "approved"
    with register.connect() as conn:
        benefit = conn.execute(
            select(models.Benefit.__table__).where(models.Benefit.bhxh_code == LEFT_CODE)
        ).one()
    assert (benefit.kind, benefit.lump_sum) == ("one_time", view.data["amount"])
    assert [e.to_state for e in approved.events] == ["submitted", "checked", "approved"]
    assert [e.actor for e in approved.events][1:] == ["staff:reviewer1", "staff:approver1"]
    assert any("được duyệt" in n.text_vi for n in notifications_for(register, LEFT))
    with register.connect() as conn:
        audits = (
            conn.execute(
                select(models.AuditEntry.action).where(models.AuditEntry.subject_type == "dossier")
            )
            .scalars()
            .all()
        )
        topics = conn.execute(select(models.OutboxEvent.topic)).scalars().all()
    assert audits == ["dossier.opened", "dossier.checked", "dossier.approved"]
    assert {"dossier.opened", "dossier.checked", "dossier.approved"} <= set(topics)


def test_a_claim_failing_a_check_can_only_be_refused_with_a_reason(register: Engine) -> None:
    view = submit_one_time_claim(register, LAID_OFF, "no_contribution_12_months", "123456789")
    failed = {c["code"] for c in view.checks if not c["ok"]}
    assert failed == {"GAP_12_MONTHS"}  # contributed last month
    with pytest.raises(NotEligible) as refused:
        decide(register, view.summary.id, "approve", actor="a", role="approver", version=1)
    assert "GAP_12_MONTHS" in refused.value.message_vi
    with pytest.raises(FormInvalid):
        decide(register, view.summary.id, "refuse", actor="a", role="approver", version=1, note="")
    done = decide(
        register,
        view.summary.id,
        "refuse",
        actor="a",
        role="approver",
        version=1,
        note="Chưa đủ 12 tháng nghỉ việc",
    )
    assert done.summary.state == "refused"
    assert count(register, models.Benefit) == 0


def test_two_approvers_deciding_at_once_one_wins_the_other_is_told(register: Engine) -> None:
    view = submit_one_time_claim(register, LEFT, "no_contribution_12_months", "123456789")
    checked = decide(register, view.summary.id, "check", actor="r", role="reviewer", version=1)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(who: str, action: str) -> None:
        barrier.wait()
        try:
            decide(
                register,
                view.summary.id,
                action,
                actor=who,
                role="approver",
                version=checked.summary.version,
                note="lý do",
            )
            outcomes.append("won")
        except ConcurrentDecision as error:
            assert "người khác" in error.message_vi
            outcomes.append("lost")
        except TransitionRefused:
            outcomes.append("lost")  # read after the winner committed: the state moved on

    threads = [
        threading.Thread(target=approve, args=("a1", "approve")),
        threading.Thread(target=approve, args=("a2", "refuse")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["lost", "won"]
    final = get_dossier(register, view.summary.id)
    assert final.summary.version == checked.summary.version + 1
    assert len(final.events) == 3
    assert count(register, models.Benefit) == (1 if final.summary.state == "approved" else 0)


def test_a_stale_version_is_refused_even_without_a_race(register: Engine) -> None:
    view = submit_one_time_claim(register, LEFT, "no_contribution_12_months", "123456789")
    decide(register, view.summary.id, "check", actor="r", role="reviewer", version=1)
    with pytest.raises(ConcurrentDecision):
        decide(register, view.summary.id, "refuse", actor="a", role="approver", version=1, note="x")


def test_roles_follow_the_transition_table(register: Engine) -> None:
    view = submit_one_time_claim(register, LEFT, "no_contribution_12_months", "123456789")
    with pytest.raises(TransitionRefused):
        decide(register, view.summary.id, "approve", actor="r", role="reviewer", version=1)
    with pytest.raises(TransitionRefused):
        decide(
            register,
            view.summary.id,
            "cancel",
            actor=f"citizen:{LAID_OFF}",
            role="citizen",
            version=1,
        )
    cancelled = decide(
        register, view.summary.id, "cancel", actor=f"citizen:{LEFT}", role="citizen", version=1
    )
    assert cancelled.summary.state == "cancelled" and cancelled.summary.state_due_at is None


def test_an_unemployment_claim_gets_sixty_percent_for_three_months(register: Engine) -> None:
    ended = (TODAY.replace(day=1) - timedelta(days=1)).isoformat()  # last day of last month
    view = submit_unemployment_claim(register, LAID_OFF, ended, "9876543210")
    assert view.checks_passed, view.checks
    assert view.data["monthly_amount"] == 6_000_000  # 60% of 10,000,000
    assert view.data["duration_months"] == 3  # 40 months: 3 for 12–36, the 4 more are not 12
    checked = decide(register, view.summary.id, "check", actor="r", role="reviewer", version=1)
    decide(
        register,
        view.summary.id,
        "approve",
        actor="a",
        role="approver",
        version=checked.summary.version,
    )
    with register.connect() as conn:
        benefit = conn.execute(
            select(models.Benefit.__table__).where(models.Benefit.bhxh_code == LAID_OFF_CODE)
        ).one()
    start = TODAY + timedelta(days=15)
    assert (benefit.kind, benefit.monthly_amount, benefit.start_date) == (
        "unemployment",
        6_000_000,
        start,
    )
    assert benefit.end_date == add_months(start, 3) - timedelta(days=1)


def test_unemployment_while_still_contributing_fails_its_check(register: Engine) -> None:
    ended = add_months(TODAY, -3).isoformat()
    view = submit_unemployment_claim(register, LAID_OFF, ended, "9876543210")
    assert {c["code"] for c in view.checks if not c["ok"]} >= {"NOT_WORKING"}


@pytest.mark.parametrize(
    ("call", "field", "rule"),
    [
        (
            lambda e: submit_one_time_claim(e, "12345", "emigrating", "123456"),
            "personal_id",
            "PERSONAL_ID_FORMAT",
        ),
        (lambda e: submit_one_time_claim(e, LEFT, "lottery", "123456"), "ground", "GROUND_UNKNOWN"),
        (
            lambda e: submit_one_time_claim(e, LEFT, "emigrating", "123456"),
            "attachment",
            "ATTACHMENT_REQUIRED",
        ),
        (
            lambda e: submit_one_time_claim(e, LEFT, "no_contribution_12_months", "12ab"),
            "bank_account",
            "BANK_ACCOUNT_FORMAT",
        ),
        (
            lambda e: submit_one_time_claim(
                e, LEFT, "no_contribution_12_months", "123456", note="<script>alert(1)</script>"
            ),
            "note",
            "TEXT_MARKUP",
        ),
        (
            lambda e: submit_unemployment_claim(e, LAID_OFF, "2999-01-01", "123456"),
            "termination_date",
            "DATE_FUTURE",
        ),
        (
            lambda e: submit_unemployment_claim(e, LAID_OFF, "2024-02-30", "123456"),
            "termination_date",
            "DATE_IMPOSSIBLE",
        ),
        (
            lambda e: submit_unemployment_claim(e, STRANGER, "2024-02-01", "123456"),
            "personal_id",
            "NO_BHXH_CODE",
        ),
    ],
)
def test_bad_claim_input_gets_a_vietnamese_message_and_stores_nothing(
    register: Engine, call, field: str, rule: str
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((FormInvalid, NotEligible)) as refused:
        call(register)
    assert (refused.value.field, refused.value.rule) == (field, rule)
    assert refused.value.message_vi
    assert count(register, Dossier) == 0 and count(register, models.AuditEntry) == 0


def test_uploads_are_checked_by_content_and_size(register: Engine) -> None:
    with pytest.raises(FormInvalid) as too_big:
        check_upload("giay.pdf", PDF + b"0" * MAX_UPLOAD_BYTES)
    assert too_big.value.rule == "FILE_TOO_LARGE" and "tối đa 5 MB" in too_big.value.message_vi
    with pytest.raises(FormInvalid) as wrong:
        check_upload("giay.pdf", b"MZ\x90\x00 an executable")
    assert wrong.value.rule == "FILE_TYPE"
    with pytest.raises(FormInvalid):
        check_upload("<img src=x>.pdf", PDF)
    upload = check_upload("giay-xac-nhan.pdf", PDF)
    view = submit_one_time_claim(register, LEFT, "emigrating", "123456789", attachment=upload)
    assert view.files == ["giay-xac-nhan.pdf"] and count(register, DossierFile) == 1


def test_lists_by_person_and_scope_and_overdue(register: Engine) -> None:
    from datetime import UTC, datetime

    view = submit_one_time_claim(register, LEFT, "no_contribution_12_months", "123456789")
    assert [d.id for d in list_for_person(register, LEFT)] == [view.summary.id]
    assert [d.id for d in list_for_scope(register, "79")] == [view.summary.id]
    assert list_for_scope(register, "01") == []
    assert overdue(register) == []
    later = datetime.now(UTC) + timedelta(days=30)
    late = overdue(register, "79", now=later)
    assert [d.id for d in late] == [view.summary.id] and late[0].overdue
