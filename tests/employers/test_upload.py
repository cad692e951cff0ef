"""Bulk upload of a worker list: per-row errors, good rows applied, re-sendable."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from nidb.cli import app
from nidb.employers.errors import EmployerError
from nidb.employers.upload import upload_workers
from nidb.store.models_employment import DeclaredWage
from tests.employers.support import EMPLOYER, seed_employers

HEADER = "personal_id,full_name,date_of_birth,wage,position,contract_type,full_time,facility_code,month\n"
GOOD_1 = "001090000101,Trần Thị Bình,1990-05-12,9000000,Kế toán,indefinite,true,01001,2026-11\n"
BAD_2 = "001092000202,Lê Văn Cường,1992-11-03,chín triệu,Thủ kho,fixed_term,true,01001,2026-11\n"
GOOD_3 = "079088000303,Phạm Minh Đức,1988-01-20,7500000,Lái xe,fixed_term,false,01001,2026-11\n"


@pytest.fixture
def employers(engine: Engine) -> Engine:
    seed_employers(engine)
    return engine


def _declared(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(DeclaredWage.personal_id)).scalars())


def test_a_bad_row_never_blocks_the_good_rows(employers: Engine) -> None:
    result = upload_workers(
        employers,
        EMPLOYER,
        "DS-1",
        (HEADER + GOOD_1 + BAD_2 + GOOD_3).encode(),
        actor="t",
        channel="web",
    )
    assert (result.rows, result.applied, result.refused) == (3, 2, 1)
    (error,) = result.errors
    assert (error["row"], error["field"], error["value"], error["rule"]) == (
        2,
        "wage",
        "chín triệu",
        "WAGE_INVALID",
    )
    assert "tiền lương" in error["message_vi"] and "salary" in error["message_en"]
    assert _declared(employers) == ["001090000101", "079088000303"]


def test_the_corrected_file_is_sent_again_under_the_same_number(employers: Engine) -> None:
    upload_workers(
        employers, EMPLOYER, "DS-2", (HEADER + GOOD_1 + BAD_2).encode(), actor="t", channel="web"
    )
    fixed = BAD_2.replace("chín triệu", "8000000")
    again = upload_workers(
        employers, EMPLOYER, "DS-2", (HEADER + GOOD_1 + fixed).encode(), actor="t", channel="web"
    )
    assert (again.applied, again.refused, again.errors) == (2, 0, [])
    assert _declared(employers) == ["001090000101", "001092000202"]


def test_a_file_without_personal_id_or_not_utf8_is_refused_whole(employers: Engine) -> None:
    with pytest.raises(EmployerError) as caught:
        upload_workers(employers, EMPLOYER, "DS-3", b"name\nA\n", actor="t", channel="web")
    assert caught.value.rule == "COLUMN_MISSING"
    with pytest.raises(EmployerError) as latin:
        upload_workers(
            employers,
            EMPLOYER,
            "DS-3",
            "personal_id\nTr\xe2n\n".encode("latin-1"),
            actor="t",
            channel="web",
        )
    assert latin.value.rule == "FILE_ENCODING"


def test_decrease_rows_and_unknown_kinds(employers: Engine) -> None:
    upload_workers(
        employers, EMPLOYER, "DS-4", (HEADER + GOOD_1).encode(), actor="t", channel="web"
    )
    text = "kind,personal_id,reason,month\ndecrease,001090000101,contract_end,2027-01\nfire,1,,\n"
    result = upload_workers(employers, EMPLOYER, "DS-5", text.encode(), actor="t", channel="web")
    assert (result.applied, result.refused) == (1, 1)
    assert result.errors[0]["rule"] == "DECLARATION_KIND" and result.errors[0]["row"] == 2


def test_the_upload_command_prints_each_rows_error(
    employers: Engine, cli: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "ds.csv"
    path.write_text(HEADER + GOOD_1 + BAD_2, encoding="utf-8")
    done = cli.invoke(app, ["employer", "upload", EMPLOYER, str(path), "--number", "DS-9"])
    assert done.exit_code == 2
    assert "1 được chấp nhận" in done.output and "WAGE_INVALID" in done.output
