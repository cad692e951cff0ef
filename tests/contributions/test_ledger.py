"""Payments settle the oldest debt first, principal before interest; months count as paid for a
worker only when covered; the statement (C12-TS) as data, CSV and PDF."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, text
from typer.testing import CliRunner

from nidb.cli import app
from nidb.contributions.assess import assess_month
from nidb.contributions.ledger import paid_through, record_payment
from nidb.contributions.statement import statement, statement_csv, statement_pdf
from nidb.domain.catalogues import round_half_up
from tests import seed
from tests.analytics.pdftext import page_texts


def pdf_text(data: bytes) -> str:
    return "\n".join(page_texts(data))


ACTOR = "test:ledger"
WORKER = "0100000001"


def month(m: int) -> date:
    return date(2026, m, 1)


def one_worker(engine: Engine, since: str = "2026-08") -> None:
    with seed.register(engine) as reg:
        reg.employer("DN001", "Công ty TNHH Hòa Bình").wage("DN001", WORKER, 10_000_000, since)


def pay(engine: Engine, amount: int, on: date, reference: str = "CT1") -> int:
    with engine.begin() as conn:
        return record_payment(
            conn,
            employer_code="DN001",
            source="manual",
            reference=reference,
            amount=amount,
            paid_on=on,
            actor=ACTOR,
        ).settled


def open_charges(engine: Engine) -> list[tuple[str, str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT month, kind, amount - settled FROM contribution_charges "
                "WHERE settled < amount ORDER BY month, kind"
            )
        ).all()
    return [(str(m)[:7], str(k), int(left)) for m, k, left in rows]


def test_a_payment_settles_the_oldest_month_first(engine: Engine) -> None:
    one_worker(engine)
    for m in (8, 9):
        assess_month(engine, month(m), actor=ACTOR)
    assert pay(engine, 4_000_000, date(2026, 9, 20)) == 4_000_000
    assert open_charges(engine) == [("2026-09", "due", 2_400_000)]


def test_principal_before_interest_within_a_month(engine: Engine) -> None:
    one_worker(engine)
    for m in (8, 9, 10, 11):
        assess_month(engine, month(m), actor=ACTOR)
    interest = round_half_up(3_200_000 * 31 * 3, 10_000)
    pay(engine, 4 * 3_200_000, date(2026, 11, 5))
    assert open_charges(engine) == [("2026-11", "interest", interest)]


def test_interest_counts_only_the_days_the_money_was_late(engine: Engine) -> None:
    one_worker(engine)
    for m in (8, 9, 10):
        assess_month(engine, month(m), actor=ACTOR)
    pay(engine, 3_200_000, date(2026, 10, 11))  # August paid on 11/10: late 1..10 October
    assess_month(engine, month(11), actor=ACTOR)
    with engine.connect() as conn:
        interest = conn.execute(
            text("SELECT amount FROM contribution_charges WHERE kind = 'interest'")
        ).scalar_one()
    assert interest == round_half_up(3_200_000 * 10 * 3, 10_000) == 9_600


def test_the_same_payment_told_twice_is_recorded_once(engine: Engine) -> None:
    one_worker(engine)
    assess_month(engine, month(8), actor=ACTOR)
    pay(engine, 1_000_000, date(2026, 9, 1))
    assert pay(engine, 1_000_000, date(2026, 9, 1)) == 0
    assert open_charges(engine) == [("2026-08", "due", 2_200_000)]


def test_money_paid_ahead_settles_the_next_assessment(engine: Engine) -> None:
    one_worker(engine)
    assess_month(engine, month(8), actor=ACTOR)
    pay(engine, 6_400_000, date(2026, 8, 25))
    assess_month(engine, month(9), actor=ACTOR)
    assert open_charges(engine) == []


def test_a_workers_month_is_paid_only_when_its_charge_is_settled(engine: Engine) -> None:
    one_worker(engine)
    for m in (8, 9, 10):
        assess_month(engine, month(m), actor=ACTOR)
    with engine.connect() as conn:
        assert paid_through(conn, WORKER) is None
    pay(engine, 3_200_000 + 3_199_999, date(2026, 10, 1))
    with engine.connect() as conn:
        assert paid_through(conn, WORKER) == month(8), "September lacks one đồng"
    pay(engine, 1, date(2026, 10, 2), reference="CT2")
    with engine.connect() as conn:
        assert paid_through(conn, WORKER) == month(9)


def test_the_statement_carries_opening_debt_due_payments_and_closing_debt(
    engine: Engine,
) -> None:
    one_worker(engine)
    for m in (8, 9):
        assess_month(engine, month(m), actor=ACTOR)
    pay(engine, 1_000_000, date(2026, 9, 15))
    with engine.connect() as conn:
        data = statement(conn, "DN001", month(9))
    assert data["opening_debt"] == 3_200_000
    assert data["due"] == 3_200_000
    assert data["paid"] == 1_000_000
    assert data["closing_debt"] == 5_400_000
    assert data["funds"][0]["fund"] == "pension_survivors"
    assert data["funds"][0]["due_employee"] == 800_000
    assert "DN001,2026-09,closing_debt,,5400000" in statement_csv(data)
    json.dumps(data)


def test_the_statement_pdf_is_in_vietnamese_with_dong_and_dd_mm_yyyy(engine: Engine) -> None:
    one_worker(engine)
    for m in (8, 9):
        assess_month(engine, month(m), actor=ACTOR)
    pay(engine, 1_000_000, date(2026, 9, 15))
    with engine.connect() as conn:
        words = pdf_text(statement_pdf(statement(conn, "DN001", month(9))))
    assert "Công ty TNHH Hòa Bình" in words
    assert "Nợ cuối kỳ" in words
    assert "5.400.000 đồng" in words
    assert "15/09/2026" in words
    assert "tháng 09/2026" in words


def test_cli_assesses_and_writes_the_statement(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    from nidb.store.db import make_engine

    engine = make_engine(database_url)
    one_worker(engine)
    engine.dispose()
    done = cli.invoke(app, ["contributions", "assess", "--month", "2026-08"])
    assert done.exit_code == 0, done.output
    assert "3.200.000 đồng" in done.output
    again = cli.invoke(app, ["contributions", "assess", "--month", "2026-08"])
    assert "đã tính trước đây" in again.output
    bad = cli.invoke(app, ["contributions", "assess", "--month", "2026-13"])
    assert bad.exit_code == 2
    shown = cli.invoke(app, ["contributions", "statement", "DN001", "--month", "2026-08"])
    assert json.loads(shown.stdout)["closing_debt"] == 3_200_000
    pdf = tmp_path / "c12.pdf"
    wrote = cli.invoke(
        app,
        [
            "contributions",
            "statement",
            "DN001",
            "--month",
            "2026-08",
            "--format",
            "pdf",
            "-o",
            str(pdf),
        ],
    )
    assert wrote.exit_code == 0 and "3.200.000 đồng" in pdf_text(pdf.read_bytes())
