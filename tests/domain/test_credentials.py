"""The sign-in rule shared by staff and employer accounts (nidb.domain.credentials)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from nidb.domain.credentials import (
    LOCKOUT,
    MAX_FAILURES,
    after_failure,
    locked_message,
    minutes_left,
    password_problems,
)

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_the_fifth_wrong_attempt_in_a_row_locks_for_fifteen_minutes() -> None:
    count = 0
    for _ in range(MAX_FAILURES - 1):
        failures = after_failure(count, NOW)
        assert not failures.locked
        count = failures.failed_attempts
    locked = after_failure(count, NOW)
    assert locked.locked and locked.locked_until == NOW + LOCKOUT
    assert locked.failed_attempts == 0  # after the lock, five more attempts
    assert minutes_left(locked.locked_until, NOW) == 15


def test_a_naive_time_from_sqlite_is_read_as_utc() -> None:
    naive = (NOW + timedelta(minutes=3)).replace(tzinfo=None)
    assert minutes_left(naive, NOW) == 3


def test_the_message_names_the_minutes_in_vietnamese() -> None:
    assert locked_message(7).endswith("Vui lòng thử lại sau 7 phút.")


@given(st.integers(min_value=-3600, max_value=3600))
def test_minutes_left_is_positive_exactly_while_locked_and_never_understates(
    seconds: int,
) -> None:
    minutes = minutes_left(NOW + timedelta(seconds=seconds), NOW)
    assert (minutes > 0) == (seconds > 0)
    if seconds > 0:
        assert (minutes - 1) * 60 < seconds <= minutes * 60


@given(st.integers(min_value=0, max_value=MAX_FAILURES - 1))
def test_the_counter_never_passes_the_limit(count: int) -> None:
    failures = after_failure(count, NOW)
    assert 0 <= failures.failed_attempts < MAX_FAILURES
    assert failures.locked == (count + 1 >= MAX_FAILURES)


@given(st.text(min_size=12).filter(lambda p: p.isascii()))
def test_a_password_containing_the_account_name_is_refused(tail: str) -> None:
    problems = password_problems("ta0001a", "TA0001A" + tail)
    assert ("Mật khẩu không được chứa tên đăng nhập.", "must not contain the username") in problems
