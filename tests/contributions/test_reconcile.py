"""Bank statements (camt.053): matched by reference, account and amount; the rest queued for
staff; safe parsing; a statement reconciled twice is counted once."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from nidb.cli import app
from nidb.contributions.assess import assess_month
from nidb.contributions.camt import CamtError, read_entries
from nidb.contributions.ledger import paid_through
from nidb.contributions.reconcile import AssignRefused, assign_line, reconcile_file
from nidb.sim.bank.camt import Credit, write_statement
from tests import seed

ACTOR = "test:reconcile"
DAY = date(2026, 9, 10)


def debts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT employer_code, SUM(amount - settled) FROM contribution_charges "
                "GROUP BY employer_code"
            )
        ).all()
    return {str(e): int(d) for e, d in rows}


@pytest.fixture
def august(engine: Engine) -> Engine:
    """Three employers, each owing August: DN001 3.200.000, DN002 6.400.000, DN003 9.600.000."""
    with seed.register(engine) as reg:
        for n in (1, 2, 3):
            reg.employer(f"DN00{n}")
            for w in range(n):
                reg.wage(f"DN00{n}", f"0{n}0000000{w}", 10_000_000, "2026-08")
    assess_month(engine, date(2026, 8, 1), actor=ACTOR)
    return engine


def credit(ref: str, amount: int, remittance: str, account: str = "0011001234567") -> Credit:
    return Credit(ref, amount, DAY, "CONG TY TNHH", account, remittance)


def statement(tmp_path: Path, *credits: Credit, debits: int = 0, name: str = "s.xml") -> Path:
    path = tmp_path / name
    write_statement(path, "STMT-0910", "1234567890", DAY, credits, debits=debits)
    return path


def test_lines_match_by_reference_then_account_then_amount(august: Engine, tmp_path: Path) -> None:
    first = statement(
        tmp_path,
        credit("FT1", 3_200_000, "DN001 nop BHXH DN001 thang 8", account="111"),
        credit("FT2", 1_000_000, "chuyen tien", account="999"),
        debits=2,
    )
    report = reconcile_file(august, first, actor=ACTOR)
    assert report.matched == {"reference": 1, "account": 0, "amount": 0}
    assert report.unmatched == 1 and report.lines == 2
    second = statement(
        tmp_path,
        credit("FT3", 500_000, "tien bao hiem", account="111"),  # DN001's account, learned
        credit("FT4", 9_600_000, "thanh toan", account="222"),  # only DN003 owes exactly this
        name="s2.xml",
    )
    report = reconcile_file(august, second, actor=ACTOR)
    assert report.matched == {"reference": 0, "account": 1, "amount": 1}
    assert debts(august) == {"DN001": 0, "DN002": 6_400_000, "DN003": 0}


def test_a_statement_reconciled_twice_pays_once(august: Engine, tmp_path: Path) -> None:
    path = statement(tmp_path, credit("FT1", 3_200_000, "BHXH DN001"))
    reconcile_file(august, path, actor=ACTOR)
    again = reconcile_file(august, path, actor=ACTOR)
    assert again.already == 1 and again.matched["reference"] == 0
    with august.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM contribution_payments")).scalar_one() == 1
        assert paid_through(conn, "0100000000") == date(2026, 8, 1)


def test_staff_assign_moves_a_line_from_the_queue_to_a_payment(
    august: Engine, tmp_path: Path
) -> None:
    reconcile_file(august, statement(tmp_path, credit("FT9", 1_234, "?", "333")), actor=ACTOR)
    with august.connect() as conn:
        line_id = conn.execute(
            text("SELECT id FROM contribution_bank_lines WHERE status = 'unmatched'")
        ).scalar_one()
    with pytest.raises(AssignRefused):
        assign_line(august, line_id, "NOPE", actor=ACTOR)
    assert assign_line(august, line_id, "DN002", actor=ACTOR) == 1_234
    with pytest.raises(AssignRefused):
        assign_line(august, line_id, "DN002", actor=ACTOR)
    reconcile_file(
        august, statement(tmp_path, credit("FT10", 1_000, "?", "333"), name="b.xml"), actor=ACTOR
    )
    assert debts(august)["DN002"] == 6_400_000 - 2_234


def test_cli_reconciles_lists_and_assigns(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    from nidb.store.db import make_engine

    engine = make_engine(database_url)
    with seed.register(engine) as reg:
        reg.employer("DN001").wage("DN001", "0100000001", 10_000_000, "2026-08")
    engine.dispose()
    assert cli.invoke(app, ["contributions", "assess", "--month", "2026-08"]).exit_code == 0
    path = statement(tmp_path, credit("FT1", 777, "khong ro", "444"))
    done = cli.invoke(app, ["contributions", "reconcile", str(path)])
    assert done.exit_code == 0, done.output
    assert "chờ cán bộ (unmatched): 1" in done.output
    listed = cli.invoke(app, ["contributions", "unmatched", "list"])
    assert "777 đồng" in listed.output and "10/09/2026" in listed.output
    engine = make_engine(database_url)
    with engine.connect() as conn:
        line_id = conn.execute(text("SELECT id FROM contribution_bank_lines")).scalar_one()
    engine.dispose()
    assigned = cli.invoke(app, ["contributions", "unmatched", "assign", str(line_id), "DN001"])
    assert assigned.exit_code == 0, assigned.output
    assert "777 đồng" in assigned.output


def test_entities_and_dtds_are_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">&b;</Document>'
    )
    with pytest.raises(CamtError, match="XML"):
        list(read_entries(bomb))
    external = tmp_path / "external.xml"
    external.write_text(
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">&x;</Document>'
    )
    with pytest.raises(CamtError):
        list(read_entries(external))


def test_a_file_too_large_or_not_camt053_or_with_a_bad_amount_is_refused(tmp_path: Path) -> None:
    path = statement(tmp_path, credit("FT1", 1_000, "BHXH DN001"))
    with pytest.raises(CamtError, match="byte"):
        list(read_entries(path, max_bytes=100))
    other = tmp_path / "pain.xml"
    other.write_text('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"/>')
    with pytest.raises(CamtError, match=r"camt\.053"):
        list(read_entries(other))
    bad = tmp_path / "bad.xml"
    bad.write_text(path.read_text().replace(">1000<", ">10.50<", 1))
    with pytest.raises(CamtError, match="Ntry 1 Amt"):
        list(read_entries(bad))


def test_entries_are_read_with_their_fields(tmp_path: Path) -> None:
    path = statement(tmp_path, credit("FT1", 1_000, "BHXH DN001 & co"), debits=3)
    (entry,) = read_entries(path)
    assert (entry.statement_id, entry.entry_ref, entry.amount, entry.booked_on) == (
        "STMT-0910",
        "FT1",
        1_000,
        DAY,
    )
    assert entry.debtor_account == "0011001234567" and "BHXH DN001 & co" in entry.remittance
