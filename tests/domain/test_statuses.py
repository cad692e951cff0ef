"""Specification of the stored statuses and kinds: verification status and review kind.

Each value is exactly what the register stores, and each has one Vietnamese label.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nidb.domain.review import ReviewKind
from nidb.domain.verification import VerificationStatus


def test_verification_statuses_are_the_values_the_register_writes() -> None:
    assert {s.value for s in VerificationStatus} == {
        "unverified", "verified", "review", "unmatched", "rejected",
    }  # fmt: skip


def test_mismatch_is_not_a_verification_status() -> None:
    with pytest.raises(ValueError):
        VerificationStatus("mismatch")


def test_review_kinds_are_those_the_queue_allows() -> None:
    assert [k.value for k in ReviewKind] == ["verification", "match", "dedupe"]


@pytest.mark.parametrize(
    ("status", "label"),
    [
        ("verified", "Đã xác thực với CSDL quốc gia về dân cư"),
        ("review", "Đang chờ cán bộ xem xét"),
        ("unverified", "Chưa xác thực"),
    ],
)
def test_a_verification_status_has_one_vietnamese_label(status: str, label: str) -> None:
    assert VerificationStatus(status).label == label


def test_a_review_kind_has_one_vietnamese_label() -> None:
    assert ReviewKind.DEDUPE.label == "Trùng mã số BHXH"
    assert ReviewKind("match").label == "Đối sánh xác suất"


@given(st.sampled_from(VerificationStatus))
def test_every_verification_status_round_trips_and_has_a_distinct_label(
    status: VerificationStatus,
) -> None:
    assert VerificationStatus(status.value) is status and status == status.value
    assert status.label.strip() and status.label[0].isupper()
    others = [s.label for s in VerificationStatus if s is not status]
    assert status.label not in others


@given(st.sampled_from(ReviewKind))
def test_every_review_kind_round_trips_and_has_a_distinct_label(kind: ReviewKind) -> None:
    assert ReviewKind(kind.value) is kind
    assert kind.label.strip() and kind.label not in [k.label for k in ReviewKind if k is not kind]


@given(st.text().filter(lambda t: t not in {s.value for s in VerificationStatus}))
def test_any_other_text_is_not_a_verification_status(text: str) -> None:
    with pytest.raises(ValueError):
        VerificationStatus(text)
