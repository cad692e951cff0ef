"""Reads of one employer's contribution account, for the employer's own pages: the months
assessed (each with its statement), the payments and the months each one settled, the debt
month by month.

Every function takes the employer's code and reads only that employer's rows: the pages pass
the code of the signed-in employer, never one from the URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, text

from nidb.contributions.months import add_months, last_day
from nidb.domain.catalogues import LATE_INTEREST_BP_PER_DAY

__all__ = [
    "INTEREST_RULE",
    "AccountMonth",
    "DebtMonth",
    "PaymentView",
    "assessed_months",
    "debt_months",
    "payments",
    "transfer_note",
]

INTEREST_RULE = (
    f"{LATE_INTEREST_BP_PER_DAY / 100:.2f}".replace(".", ",")
    + "% mỗi ngày trên số tiền chậm đóng (Luật Bảo hiểm xã hội 2024, Điều 40)"
)
"""The late-payment interest as the pages state it (the rate nidb.contributions.assess uses)."""


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def transfer_note(employer_code: str) -> str:
    """What to write as the bank transfer's description, so reconciliation finds the employer."""
    return f"BHXH {employer_code}"


@dataclass(frozen=True, slots=True)
class AccountMonth:
    """An assessed month of the employer's account: what it raised and what is settled."""

    month: date
    due: int
    adjustment: int
    interest: int
    amount: int
    settled: int

    @property
    def left(self) -> int:
        return self.amount - self.settled


def assessed_months(conn: Connection, employer_code: str) -> list[AccountMonth]:
    """The months with charges on the employer's account, newest first."""
    rows = conn.execute(
        text(
            "SELECT month, "
            "SUM(CASE WHEN kind = 'due' THEN amount ELSE 0 END), "
            "SUM(CASE WHEN kind = 'adjustment' THEN amount ELSE 0 END), "
            "SUM(CASE WHEN kind = 'interest' THEN amount ELSE 0 END), "
            "SUM(amount), SUM(settled) FROM contribution_charges "
            "WHERE employer_code = :e GROUP BY month ORDER BY month DESC"
        ),
        {"e": employer_code},
    ).all()
    return [
        AccountMonth(_as_date(m), int(d), int(a), int(i), int(t), int(s))
        for m, d, a, i, t, s in rows
    ]


@dataclass(slots=True)
class PaymentView:
    """Money received, and the months (and kinds of charge) it settled."""

    paid_on: date
    source: str
    reference: str
    amount: int
    unallocated: int
    settled: list[tuple[date, str, int]] = field(default_factory=list)
    """(month of the charge, kind: due | adjustment | interest, amount), oldest first."""


def payments(conn: Connection, employer_code: str, limit: int = 100) -> list[PaymentView]:
    """The employer's latest payments, newest first, with their allocation per month."""
    found = conn.execute(
        text(
            "SELECT id, paid_on, source, reference, amount, unallocated "
            "FROM contribution_payments WHERE employer_code = :e "
            "ORDER BY paid_on DESC, id DESC LIMIT :n"
        ),
        {"e": employer_code, "n": limit},
    ).all()
    views = {
        int(pid): PaymentView(_as_date(day), str(src), str(ref), int(amount), int(left))
        for pid, day, src, ref, amount, left in found
    }
    if views:
        names = {f"p{i}": pid for i, pid in enumerate(views)}
        for pid, month, kind, amount in conn.execute(
            text(
                "SELECT a.payment_id, c.month, c.kind, SUM(a.amount) "
                "FROM contribution_allocations a "
                "JOIN contribution_charges c ON c.id = a.charge_id "
                f"WHERE a.payment_id IN ({', '.join(':' + n for n in names)}) "
                "AND c.employer_code = :e "
                "GROUP BY a.payment_id, c.month, c.kind ORDER BY c.month, c.kind"
            ),
            {**names, "e": employer_code},
        ):
            views[int(pid)].settled.append((_as_date(month), str(kind), int(amount)))
    return list(views.values())


@dataclass(frozen=True, slots=True)
class DebtMonth:
    """A month the employer still owes for: principal and interest left, and the deadline."""

    month: date
    principal: int
    interest: int
    due_by: date

    @property
    def total(self) -> int:
        return self.principal + self.interest


def debt_months(conn: Connection, employer_code: str) -> list[DebtMonth]:
    """The months with unsettled charges, oldest first (the order payments settle them).

    ``due_by`` is the last day of the month after (Law on Social Insurance 2024 Art. 34): money
    owed after it is late and bears interest.
    """
    rows = conn.execute(
        text(
            "SELECT month, "
            "SUM(CASE WHEN kind = 'interest' THEN 0 ELSE amount - settled END), "
            "SUM(CASE WHEN kind = 'interest' THEN amount - settled ELSE 0 END) "
            "FROM contribution_charges WHERE employer_code = :e AND settled < amount "
            "GROUP BY month ORDER BY month"
        ),
        {"e": employer_code},
    ).all()
    return [
        DebtMonth(_as_date(m), int(p), int(i), last_day(add_months(_as_date(m), 1)))
        for m, p, i in rows
    ]
