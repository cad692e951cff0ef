"""Household health-insurance renewal: checks against the register, pricing, cards on payment."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from nidb.services.errors import FormInvalid, NotEligible
from nidb.services.payments import handle_callback
from nidb.services.renewal import submit_renewal
from nidb.services.views import get_dossier, notifications_for
from nidb.services.workdays import add_months
from nidb.sim.payment.app import canonical, sign
from nidb.store import models
from nidb.store.models_services import Dossier, DossierEvent, Payment
from tests.seed import HEAD, HEAD_CODE, SON, STRANGER, WIFE, WORKER
from tests.seed import TODAY_VN as TODAY

SECRET = "test-secret"


def paid_body(
    reference: str, amount: int, txn: str = "TXN-1", **extra: object
) -> dict[str, object]:
    return {
        "payment_id": "p1",
        "reference": reference,
        "amount": amount,
        "status": "paid",
        "transaction_id": txn,
        "paid_at": "2026-01-01T00:00:00+00:00",
        "timestamp": int(time.time()),
        **extra,
    }


def pending_payment(engine: Engine, dossier_id: int, amount: int) -> str:
    from sqlalchemy import insert

    with engine.begin() as conn:
        conn.execute(
            insert(Payment).values(
                dossier_id=dossier_id, reference=f"NIDB-{dossier_id}-1", amount=amount
            )
        )
    return f"NIDB-{dossier_id}-1"


def test_a_household_renewal_is_priced_by_the_reducing_scale(register: Engine) -> None:
    view = submit_renewal(register, HEAD, [HEAD, WIFE, SON], 12)
    assert view.summary.state == "awaiting_payment"
    premiums = [m["premium"] for m in view.data["members"]]
    # 4.5% × 2,340,000 × 12 = 1,263,600; then 70% and 60% of it
    assert premiums == [1_263_600, 884_520, 758_160]
    assert view.data["total"] == 2_906_280
    assert view.summary.state_due_at is not None and view.summary.province == "01"
    assert [e.to_state for e in view.events] == ["awaiting_payment"]


def test_paying_issues_cards_continuing_the_old_one_or_after_thirty_days(register: Engine) -> None:
    view = submit_renewal(register, HEAD, [HEAD, WIFE, SON], 6)
    reference = pending_payment(register, view.summary.id, view.data["total"])
    body = paid_body(reference, view.data["total"])
    result = handle_callback(register, canonical(body), sign(SECRET, body), secret=SECRET)
    assert (result.outcome, result.dossier_id) == ("paid", view.summary.id)
    with register.connect() as conn:
        cards = {
            c.bhxh_code: c
            for c in conn.execute(
                select(models.HealthCard.__table__).where(
                    models.HealthCard.valid_from > TODAY - timedelta(days=1)
                )
            )
        }
    head_from = TODAY + timedelta(days=11)  # the day after the current card ends
    assert cards[HEAD_CODE].valid_from == head_from
    assert cards[HEAD_CODE].valid_to == add_months(head_from, 6) - timedelta(days=1)
    assert cards[HEAD_CODE].card_code == f"GD401{HEAD_CODE}"
    lapsed = [c for code, c in cards.items() if code != HEAD_CODE]
    assert {c.valid_from for c in lapsed} == {TODAY + timedelta(days=30)}
    after = get_dossier(register, view.summary.id)
    assert after.summary.state == "completed" and after.payments[0]["status"] == "paid"
    assert any("thẻ BHYT mới" in n.text_vi for n in notifications_for(register, HEAD))
    assert any("Thẻ BHYT hộ gia đình" in n.text_vi for n in notifications_for(register, SON))


def test_a_member_covered_by_an_employer_is_refused_and_nothing_is_stored(register: Engine) -> None:
    with pytest.raises(NotEligible) as refused:
        submit_renewal(register, HEAD, [HEAD, WORKER], 12)
    assert refused.value.rule == "COVERED_ELSEWHERE"
    assert "nhóm DN" in refused.value.message_vi and WORKER in refused.value.message_vi
    assert refused.value.field == "members[1]"
    with register.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Dossier)).scalar_one() == 0


@pytest.mark.parametrize(
    ("members", "months", "rule"),
    [
        ([HEAD, "00108000010"], 12, "PERSONAL_ID_FORMAT"),  # 11 digits
        ([HEAD, "001980000101"], 12, "PERSONAL_ID_INCONSISTENT"),  # female 1900s digit, but…
        ([HEAD, HEAD], 12, "MEMBERS_DUPLICATE"),
        ([HEAD], 7, "MONTHS_ALLOWED"),
        ([], 12, "MEMBERS_COUNT"),
    ],
)
def test_bad_renewal_input_is_refused_in_vietnamese_and_stores_nothing(
    register: Engine, members: list[str], months: int, rule: str
) -> None:
    try:
        submit_renewal(register, HEAD, members, months)
    except (FormInvalid, NotEligible) as error:
        assert error.message_vi and error.field
        if rule != "PERSONAL_ID_INCONSISTENT":
            assert error.rule == rule
    else:
        pytest.fail("accepted")
    with register.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Dossier)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(models.AuditEntry)).scalar_one() == 0


def test_a_person_outside_the_household_or_unverified_is_refused(register: Engine) -> None:
    with pytest.raises(NotEligible) as refused:
        submit_renewal(register, HEAD, [HEAD, STRANGER], 3)
    assert refused.value.rule == "NOT_IN_HOUSEHOLD"


def test_a_second_renewal_while_one_waits_for_payment_is_refused(register: Engine) -> None:
    first = submit_renewal(register, HEAD, [HEAD, WIFE], 3)
    with pytest.raises(NotEligible) as refused:
        submit_renewal(register, HEAD, [HEAD], 3)
    assert (
        refused.value.rule == "RENEWAL_PENDING"
        and str(first.summary.id) in refused.value.message_vi
    )


def test_opening_writes_the_event_audit_and_outbox_in_one_go(register: Engine) -> None:
    view = submit_renewal(register, HEAD, [HEAD], 3)
    with register.connect() as conn:
        events = conn.execute(select(DossierEvent.to_state)).scalars().all()
        audits = conn.execute(select(models.AuditEntry.action)).scalars().all()
        topics = conn.execute(select(models.OutboxEvent.topic)).scalars().all()
    assert (
        events == ["awaiting_payment"] and "dossier.opened" in audits and "dossier.opened" in topics
    )
    assert view.summary.version == 1
