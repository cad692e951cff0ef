"""Reconciliation of bank statements (đối soát): credit lines matched to employers, or queued.

A statement file is reconciled in ONE transaction (a killed run leaves nothing; a re-run skips
the lines already kept, by the bank's entry reference). Each credit line is matched, in order:

1. by reference: the remittance text carries ``BHXH <employer code>`` (the layout nidb prints on
   every statement and asks employers to write; docs/contributions.md) of a known employer;
2. by account: the debtor account is one an employer paid from before (learned from lines
   matched by reference and from staff assignments);
3. by amount: exactly one employer owes exactly that amount in total.

A matched line becomes a payment (source 'bank', reference = the entry reference) that settles
the employer's oldest debt first (ledger.allocate); an unmatched line waits in the staff queue
(``nidb contributions unmatched list|assign``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from nidb.contributions.bulk import lookup
from nidb.contributions.camt import Entry, read_entries
from nidb.contributions.ledger import allocate_many, record_payment
from nidb.store.audit import write_audit, write_event
from nidb.store.drivers import append_rows

__all__ = ["ReconcileReport", "UnmatchedLine", "assign_line", "reconcile_file", "unmatched_lines"]

TOPIC_STATEMENT_RECONCILED = "contributions.bank_statement"
"""Outbox topic: a bank statement was reconciled (payload: counts and amounts)."""
ACTION_RECONCILE = "contributions.reconcile"
ACTION_ASSIGN = "contributions.assign"

_REFERENCE = re.compile(r"\bBHXH[\s:\-_/]*([A-Z0-9]{2,20})\b")
_CHUNK = 5_000


@dataclass
class ReconcileReport:
    """What one statement file gave."""

    statement_ids: set[str] = field(default_factory=set)
    lines: int = 0
    already: int = 0
    matched: dict[str, int] = field(
        default_factory=lambda: {"reference": 0, "account": 0, "amount": 0}
    )
    unmatched: int = 0
    amount_matched: int = 0
    amount_unmatched: int = 0


@dataclass(frozen=True, slots=True)
class UnmatchedLine:
    """A line waiting for staff."""

    id: int
    booked_on: str
    amount: int
    debtor_name: str | None
    debtor_account: str | None
    remittance: str | None


class _Matcher:
    """The lookups a statement is matched against, read once per file."""

    def __init__(self, conn: Connection) -> None:
        self.employers = {
            str(e)
            for (e,) in conn.execute(
                text(
                    "SELECT employer_code FROM employers UNION "
                    "SELECT DISTINCT employer_code FROM contribution_charges"
                )
            )
        }
        self.accounts = {
            str(a): str(e)
            for a, e in conn.execute(
                text("SELECT account, employer_code FROM contribution_payer_accounts")
            )
        }
        owed: dict[int, list[str]] = {}
        for employer, debt in conn.execute(
            text(
                "SELECT employer_code, SUM(amount - settled) FROM contribution_charges "
                "WHERE settled < amount GROUP BY employer_code"
            )
        ):
            owed.setdefault(int(debt), []).append(str(employer))
        self.by_amount = {amount: e[0] for amount, e in owed.items() if len(e) == 1}

    def match(self, entry: Entry) -> tuple[str, str] | None:
        for code in _REFERENCE.findall(entry.remittance.upper()):
            if code in self.employers:
                return code, "reference"
        if entry.debtor_account and entry.debtor_account in self.accounts:
            return self.accounts[entry.debtor_account], "account"
        employer = self.by_amount.get(entry.amount)
        if employer is not None:
            del self.by_amount[entry.amount]  # one debt is matched by one line only
            return employer, "amount"
        return None


def _known_refs(conn: Connection, refs: list[str]) -> set[str]:
    rows = lookup(conn, "SELECT entry_ref FROM contribution_bank_lines WHERE", "entry_ref", refs)
    return {str(r) for (r,) in rows}


def _chunks(entries: Iterable[Entry]) -> Iterable[list[Entry]]:
    chunk: list[Entry] = []
    for entry in entries:
        chunk.append(entry)
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def reconcile_file(
    engine: Engine,
    path: Path,
    *,
    actor: str,
    progress: Callable[[int], None] | None = None,
) -> ReconcileReport:
    """Reconcile one camt.053 file in one transaction (see the module docstring).

    ``progress`` hears the number of lines read after each chunk, before the commit.
    """
    report = ReconcileReport()
    with engine.begin() as conn:
        matcher = _Matcher(conn)
        paid: set[str] = set()
        for chunk in _chunks(read_entries(path)):
            _reconcile_chunk(conn, matcher, chunk, report, paid)
            if progress is not None:
                progress(report.lines)
        allocate_many(conn, sorted(paid))
        detail = {
            "file": path.name,
            "statements": sorted(report.statement_ids),
            "lines": report.lines,
            "already": report.already,
            "matched": report.matched,
            "unmatched": report.unmatched,
            "amount_matched": report.amount_matched,
            "amount_unmatched": report.amount_unmatched,
        }
        write_audit(
            conn,
            actor=actor,
            action=ACTION_RECONCILE,
            subject_type="bank_statement",
            subject_id=",".join(sorted(report.statement_ids))[:100] or path.name[:100],
            purpose="reconciliation",
            detail=detail,
        )
        write_event(conn, TOPIC_STATEMENT_RECONCILED, path.name[:100], detail)
    return report


_LINE_COLUMNS = (
    "statement_id",
    "entry_ref",
    "booked_on",
    "amount",
    "debtor_account",
    "debtor_name",
    "remittance",
    "status",
    "matched_by",
    "employer_code",
    "payment_id",
)
_PAYMENT_COLUMNS = ("employer_code", "source", "reference", "amount", "unallocated", "paid_on")


def _reconcile_chunk(
    conn: Connection,
    matcher: _Matcher,
    chunk: list[Entry],
    report: ReconcileReport,
    paid: set[str],
) -> None:
    known = _known_refs(conn, [e.entry_ref for e in chunk])
    lines: list[tuple[object, ...]] = []
    payments: list[tuple[object, ...]] = []
    learned: dict[str, str] = {}
    for entry in chunk:
        report.statement_ids.add(entry.statement_id)
        report.lines += 1
        if entry.entry_ref in known:
            report.already += 1
            continue
        known.add(entry.entry_ref)
        found = matcher.match(entry)
        employer, how = found if found else (None, None)
        lines.append(
            (
                entry.statement_id[:100],
                entry.entry_ref,
                entry.booked_on,
                entry.amount,
                (entry.debtor_account or "")[:60] or None,
                (entry.debtor_name or "")[:200] or None,
                entry.remittance[:300] or None,
                "matched" if employer else "unmatched",
                how,
                employer,
            )
        )
        if employer is None:
            report.unmatched += 1
            report.amount_unmatched += entry.amount
            continue
        assert how is not None
        report.matched[how] += 1
        report.amount_matched += entry.amount
        paid.add(employer)
        payments.append(
            (employer, "bank", entry.entry_ref, entry.amount, entry.amount, entry.booked_on)
        )
        account = entry.debtor_account
        if how == "reference" and account and account not in matcher.accounts:
            matcher.accounts[account] = employer
            learned[account[:60]] = employer
    append_rows(conn, "contribution_payments", _PAYMENT_COLUMNS, payments)
    ids = dict(
        lookup(
            conn,
            "SELECT reference, id FROM contribution_payments WHERE source = 'bank' AND",
            "reference",
            [str(p[2]) for p in payments],
        )
    )
    append_rows(
        conn,
        "contribution_bank_lines",
        _LINE_COLUMNS,
        [(*line, ids.get(str(line[1])) if line[7] == "matched" else None) for line in lines],
    )
    append_rows(
        conn, "contribution_payer_accounts", ("account", "employer_code"), list(learned.items())
    )


def unmatched_lines(conn: Connection, limit: int = 200) -> list[UnmatchedLine]:
    """The lines waiting for staff, oldest first."""
    rows = conn.execute(
        text(
            "SELECT id, booked_on, amount, debtor_name, debtor_account, remittance "
            "FROM contribution_bank_lines WHERE status = 'unmatched' ORDER BY booked_on, id "
            "LIMIT :n"
        ),
        {"n": limit},
    ).all()
    return [UnmatchedLine(int(i), str(d)[:10], int(a), n, acc, r) for i, d, a, n, acc, r in rows]


class AssignRefused(ValueError):
    """A line cannot be assigned (unknown, already matched, unknown employer)."""

    def __init__(self, field_name: str, value: object, message_vi: str, message_en: str) -> None:
        super().__init__(field_name, value, message_vi, message_en)
        self.field = field_name
        self.value = value
        self.message_vi = message_vi
        self.message_en = message_en

    def __str__(self) -> str:
        return f"{self.field}={self.value!r}: {self.message_vi} ({self.message_en})"


def assign_line(engine: Engine, line_id: int, employer_code: str, *, actor: str) -> int:
    """Staff assign an unmatched line to an employer: it becomes a payment; returns the amount
    it settled. The debtor account is learned for the next statements."""
    with engine.begin() as conn:
        line = conn.execute(
            text(
                "SELECT entry_ref, amount, booked_on, debtor_account, status "
                "FROM contribution_bank_lines WHERE id = :i"
            ),
            {"i": line_id},
        ).one_or_none()
        if line is None:
            raise AssignRefused("line", line_id, "không có dòng sao kê này", "no such line")
        if line[4] != "unmatched":
            raise AssignRefused("line", line_id, "dòng này đã được đối soát", "already reconciled")
        if employer_code not in _Matcher(conn).employers:
            raise AssignRefused(
                "employer", employer_code, "không có đơn vị này", "no such employer"
            )
        from datetime import date

        booked = line[2] if isinstance(line[2], date) else date.fromisoformat(str(line[2])[:10])
        result = record_payment(
            conn,
            employer_code=employer_code,
            source="bank",
            reference=str(line[0]),
            amount=int(line[1]),
            paid_on=booked,
            actor=actor,
        )
        conn.execute(
            text(
                "UPDATE contribution_bank_lines SET status = 'assigned', matched_by = 'staff', "
                "employer_code = :e, payment_id = :p WHERE id = :i"
            ),
            {"e": employer_code, "p": result.payment_id, "i": line_id},
        )
        account = line[3]
        if account:
            known = conn.execute(
                text("SELECT 1 FROM contribution_payer_accounts WHERE account = :a"), {"a": account}
            ).first()
            if known is None:
                conn.execute(
                    text(
                        "INSERT INTO contribution_payer_accounts (account, employer_code) "
                        "VALUES (:a, :e)"
                    ),
                    {"a": account, "e": employer_code},
                )
        write_audit(
            conn,
            actor=actor,
            action=ACTION_ASSIGN,
            subject_type="bank_line",
            subject_id=str(line_id),
            purpose="reconciliation",
            detail={"employer": employer_code, "amount": int(line[1])},
        )
        return result.settled
