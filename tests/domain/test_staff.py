"""Specification of staff roles and the one table of what each may do."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nidb.domain.staff import (
    StaffAction,
    StaffRole,
    can,
    roles_allowed,
    second_factor_required,
)


def test_roles_are_the_values_staff_accounts_and_tokens_store() -> None:
    assert [r.value for r in StaffRole] == ["reviewer", "approver", "auditor", "admin"]


@pytest.mark.parametrize(
    ("role", "label"),
    [
        ("reviewer", "Cán bộ thẩm định"),
        ("approver", "Cán bộ phê duyệt"),
        ("auditor", "Kiểm toán viên"),
        ("admin", "Quản trị hệ thống"),
    ],
)
def test_a_role_has_one_vietnamese_label(role: str, label: str) -> None:
    assert StaffRole(role).label == label


def test_only_reviewers_and_admins_decide_review_items() -> None:
    assert roles_allowed(StaffAction.DECIDE_REVIEW_ITEM) == (StaffRole.REVIEWER, StaffRole.ADMIN)


def test_an_approver_may_neither_read_nor_decide_the_review_queue() -> None:
    assert not can("approver", StaffAction.READ_REVIEW_QUEUE)
    assert not can("approver", StaffAction.DECIDE_REVIEW_ITEM)


def test_auditors_read_the_queue_and_corrections_but_decide_nothing() -> None:
    assert can("auditor", StaffAction.READ_REVIEW_QUEUE)
    assert can("auditor", StaffAction.READ_CORRECTIONS)
    assert can("auditor", StaffAction.READ_ACCESS_LOG)
    decisions = (
        StaffAction.DECIDE_REVIEW_ITEM,
        StaffAction.DECIDE_CORRECTION,
        StaffAction.CHECK_DOSSIER,
        StaffAction.DECIDE_DOSSIER,
    )
    assert not any(can("auditor", action) for action in decisions)


def test_reviewers_check_dossiers_and_approvers_decide_them_admins_neither() -> None:
    assert roles_allowed(StaffAction.CHECK_DOSSIER) == (StaffRole.REVIEWER,)
    assert roles_allowed(StaffAction.DECIDE_DOSSIER) == (StaffRole.APPROVER,)
    assert not can("admin", StaffAction.CHECK_DOSSIER)
    assert not can("admin", StaffAction.DECIDE_DOSSIER)


def test_only_auditors_and_admins_read_the_access_log() -> None:
    assert roles_allowed("access.read") == (StaffRole.AUDITOR, StaffRole.ADMIN)


def test_an_unknown_action_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        can("admin", "review.approve")


@given(st.sampled_from(StaffAction), st.sampled_from(StaffRole))
def test_can_and_roles_allowed_agree(action: StaffAction, role: StaffRole) -> None:
    assert can(role, action) == (role in roles_allowed(action))
    assert can(role.value, action.value) == can(role, action)


@given(st.sampled_from(StaffAction))
def test_whoever_may_decide_may_also_read(action: StaffAction) -> None:
    reads = {
        StaffAction.DECIDE_REVIEW_ITEM: StaffAction.READ_REVIEW_QUEUE,
        StaffAction.DECIDE_CORRECTION: StaffAction.READ_CORRECTIONS,
        StaffAction.MANAGE_EMPLOYER_ACCOUNTS: StaffAction.READ_EMPLOYER_ACCOUNTS,
    }
    if action in reads:
        assert set(roles_allowed(action)) <= set(roles_allowed(reads[action]))


@given(
    st.text().filter(lambda t: t not in {r.value for r in StaffRole}),
    st.sampled_from(StaffAction),
)
def test_an_unknown_role_may_do_nothing(role: str, action: StaffAction) -> None:
    assert not can(role, action)


def test_admins_and_approvers_must_have_a_second_factor_the_others_are_offered_it() -> None:
    required = {role for role in StaffRole if second_factor_required(role)}
    assert required == {StaffRole.ADMIN, StaffRole.APPROVER}


@given(st.text(max_size=12))
def test_the_setting_requires_it_of_everyone_and_an_unknown_role_always_needs_it(
    role: str,
) -> None:
    assert second_factor_required(role, everyone=True)
    if role not in {r.value for r in StaffRole}:
        assert second_factor_required(role)
