"""The employer's account: payments in, charges settled oldest first, months paid for workers.

Order of settlement (our choice, stated because reference/domain-research.md confirms none):
oldest month first; within a month the principal (the month's contributions, then the
adjustments it carries) before the late interest it carries. Principal first because the
worker's months count as paid only when their contributions are settled (benefits and the card
depend on them) and because interest accrues on unpaid principal only, so settling principal
first stops it growing; interest left unpaid is still a debt of that month and is reminded.
Law on Social Insurance 2024 Art. 40 is to be checked for an order that binds; if it puts
interest first, the change is ``_KIND_ORDER`` alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, text

from nidb.contributions.bulk import increment_by_id, set_by_id
from nidb.store.audit import write_audit, write_event
from nidb.store.drivers import append_rows

__all__ = [
    "MonthDue",
    "PaymentResult",
    "allocate",
    "allocate_many",
    "months_due",
    "paid_through",
    "record_payment",
]

TOPIC_PAYMENT = "contributions.payment"
"""Outbox topic: money reached an employer's account (payload: amount, settled, left)."""
ACTION_PAYMENT = "contributions.payment"
"""Audit action: a payment was recorded and allocated."""

_KIND_ORDER = "CASE kind WHEN 'due' THEN 0 WHEN 'adjustment' THEN 1 ELSE 2 END"


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """A recorded payment (``duplicate`` when its source and reference were seen before)."""

    payment_id: int
    employer_code: str
    amount: int
    settled: int
    duplicate: bool


@dataclass(slots=True)
class _OpenCharge:
    id: int
    month: date
    left: int


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def allocate(conn: Connection, employer_code: str) -> int:
    """Settle the employer's open charges from its unallocated money; returns the amount settled.

    Runs in the caller's transaction. Charges oldest month first, principal before interest;
    money in the order it was paid.
    """
    return allocate_many(conn, [employer_code])


def _in(prefix: str, values: Sequence[str]) -> tuple[str, dict[str, str]]:
    names = {f"{prefix}{i}": v for i, v in enumerate(values)}
    return ", ".join(f":{n}" for n in names), names


def allocate_many(conn: Connection, employers: Sequence[str]) -> int:
    """``allocate`` for many employers with a few statements per thousand of them (the writes
    in bulk: nidb.contributions.bulk)."""
    total = 0
    for start in range(0, len(employers), 1_000):
        part = list(employers[start : start + 1_000])
        names, params = _in("e", part)
        charges: dict[str, list[_OpenCharge]] = {}
        for cid, employer, month, left in conn.execute(
            text(
                "SELECT id, employer_code, month, amount - settled FROM contribution_charges "
                f"WHERE employer_code IN ({names}) AND settled < amount "
                f"ORDER BY employer_code, month, {_KIND_ORDER}"
            ),
            params,
        ):
            charges.setdefault(str(employer), []).append(
                _OpenCharge(int(cid), _as_date(month), int(left))
            )
        allocations: list[tuple[int, int, int, date]] = []
        settled: dict[int, int] = {}
        left_over: list[tuple[int, int]] = []
        for pid, employer, paid_on, unallocated in conn.execute(
            text(
                "SELECT id, employer_code, paid_on, unallocated FROM contribution_payments "
                f"WHERE employer_code IN ({names}) AND unallocated > 0 "
                "ORDER BY employer_code, paid_on, id"
            ),
            params,
        ):
            money = int(unallocated)
            for charge in charges.get(str(employer), []):
                if money == 0:
                    break
                if charge.left == 0:
                    continue
                take = min(money, charge.left)
                charge.left -= take
                money -= take
                total += take
                settled[charge.id] = settled.get(charge.id, 0) + take
                allocations.append(
                    (int(pid), charge.id, take, max(_as_date(paid_on), charge.month))
                )
            if money != int(unallocated):
                left_over.append((int(pid), money))
        append_rows(
            conn,
            "contribution_allocations",
            ("payment_id", "charge_id", "amount", "settled_on"),
            allocations,
        )
        increment_by_id(conn, "contribution_charges", "settled", sorted(settled.items()))
        set_by_id(conn, "contribution_payments", "unallocated", left_over)
    return total


def record_payment(
    conn: Connection,
    *,
    employer_code: str,
    source: str,
    reference: str,
    amount: int,
    paid_on: date,
    actor: str,
) -> PaymentResult:
    """Record money for an employer and settle its charges, in the caller's transaction.

    Idempotent by (source, reference): the same payment told twice is recorded once.
    """
    if amount <= 0:
        raise ValueError(f"a payment is positive: {amount}")
    seen = conn.execute(
        text(
            "SELECT id, employer_code, amount FROM contribution_payments "
            "WHERE source = :s AND reference = :r"
        ),
        {"s": source, "r": reference},
    ).one_or_none()
    if seen is not None:
        return PaymentResult(int(seen[0]), str(seen[1]), int(seen[2]), 0, True)
    payment_id = int(
        conn.execute(
            text(
                "INSERT INTO contribution_payments (employer_code, source, reference, amount, "
                "unallocated, paid_on) VALUES (:e, :s, :r, :a, :a, :d) RETURNING id"
            ),
            {"e": employer_code, "s": source, "r": reference, "a": amount, "d": paid_on},
        ).scalar_one()
    )
    settled = allocate(conn, employer_code)
    detail = {"source": source, "reference": reference, "amount": amount, "settled": settled}
    write_audit(
        conn,
        actor=actor,
        action=ACTION_PAYMENT,
        subject_type="employer",
        subject_id=employer_code,
        purpose="contribution payment",
        detail=detail,
    )
    write_event(conn, TOPIC_PAYMENT, employer_code, {**detail, "paid_on": paid_on.isoformat()})
    return PaymentResult(payment_id, employer_code, amount, settled, False)


def paid_through(conn: Connection, bhxh_code: str) -> date | None:
    """The last month up to which every month of the worker's contributions is paid
    ("đã đóng đến tháng"), or None when the first month is not paid yet.

    A month counts as paid when every charge carrying the worker's lines for it is settled in
    full: the employer's due charge of that month and any adjustment charge that carried it.
    """
    rows = conn.execute(
        text(
            "SELECT l.month, MIN(CASE WHEN c.id IS NULL OR c.settled >= c.amount THEN 1 ELSE 0 "
            "END) FROM contribution_lines l "
            "LEFT JOIN contribution_charges c ON c.employer_code = l.employer_code "
            "AND c.month = l.assessed_month AND c.kind = l.kind "
            "WHERE l.bhxh_code = :b AND l.total > 0 GROUP BY l.month ORDER BY l.month"
        ),
        {"b": bhxh_code},
    ).all()
    through: date | None = None
    for month, paid in rows:
        if not paid:
            break
        through = _as_date(month)
    return through


@dataclass(frozen=True, slots=True)
class MonthDue:
    """A worker's month as employers declared it: what was due for it and whether it is paid."""

    total: int
    """Contributions due for the month, employee's and employer's shares, adjustments included."""
    paid: bool
    """Every charge carrying the month's lines is settled in full."""


def months_due(conn: Connection, bhxh_codes: Sequence[str]) -> dict[date, MonthDue]:
    """Month by month, what employers' declarations put due for these BHXH codes and whether
    it is paid (the rule of :func:`paid_through`, month by month instead of up to a gap)."""
    if not bhxh_codes:
        return {}
    placeholders, params = _in("b", bhxh_codes)
    rows = conn.execute(
        text(
            "SELECT l.month, SUM(l.total), MIN(CASE WHEN c.id IS NULL OR c.settled >= c.amount "
            "THEN 1 ELSE 0 END) FROM contribution_lines l "
            "LEFT JOIN contribution_charges c ON c.employer_code = l.employer_code "
            "AND c.month = l.assessed_month AND c.kind = l.kind "
            f"WHERE l.bhxh_code IN ({placeholders}) GROUP BY l.month"
        ),
        params,
    ).all()
    return {_as_date(month): MonthDue(int(total), bool(paid)) for month, total, paid in rows}
