"""Merging duplicate BHXH codes (gộp sổ) keeps every row and can be undone exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from nidb.identity.merge import MergeError, merge_codes, unmerge
from nidb.ingest.loader import import_file
from nidb.store import models

RECORDS = (
    "record_id,bhxh_code,full_name,date_of_birth,gender,personal_id,birth_province,address,employer_code\n"
    "R1,0100000001,Nguyễn Văn An,1990-05-17,M,001090012345,001,,TA0001A\n"
    "R2,7900000002,Nguyen Van An,17/05/1990,M,,,,TA0002B\n"
    "R3,0100000003,Trần Thị Bình,1985,F,,,,\n"
)
CONTRIBUTIONS = (
    "bhxh_code,employer_code,period,wage,bhxh_amount,bhyt_amount,bhtn_amount\n"
    "0100000001,TA0001A,2026-01,10000000,2550000,450000,200000\n"
    "0100000001,TA0001A,2026-02,10000000,2550000,450000,200000\n"
    "7900000002,TA0002B,2019-01,6000000,1530000,270000,120000\n"
    "7900000002,TA0002B,2019-02,6000000,1530000,270000,120000\n"
)
CARDS = (
    "card_code,facility_code,valid_from,valid_to,five_years_from,status\n"
    "DN4797900000002,79001,2019-01-01,2019-12-31,,expired\n"
)


def load(engine: Engine, tmp_path: Path) -> None:
    for kind, content in (("records", RECORDS), ("contributions", CONTRIBUTIONS), ("cards", CARDS)):
        path = tmp_path / f"{kind}.csv"
        path.write_text(content, encoding="utf-8")
        report = import_file(engine, kind, path)
        assert report.rejected == 0, report


def holdings(engine: Engine) -> dict[str, list[tuple[str, ...]]]:
    with engine.connect() as conn:
        return {
            "persons": sorted(conn.execute(text("SELECT record_id, bhxh_code FROM persons")).all()),
            "contributions": sorted(
                (code, employer, str(period)[:7])  # a date on PostgreSQL, text on SQLite
                for code, employer, period in conn.execute(
                    text("SELECT bhxh_code, employer_code, period FROM contributions")
                )
            ),
            "cards": sorted(
                conn.execute(text("SELECT card_code, bhxh_code FROM health_cards")).all()
            ),
        }


def test_merge_moves_every_row_and_unmerge_restores_exactly(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path)
    before = holdings(engine)
    result = merge_codes(
        engine,
        "0100000001",
        "7900000002",
        actor="staff:reviewer",
        reason="cùng một người: trùng họ tên, ngày sinh, số định danh",
    )
    assert result.moved["persons"] == 1 and result.moved["contributions"] == 2
    assert result.moved["health_cards"] == 1
    merged = holdings(engine)
    assert all(code == "0100000001" for _, code in merged["persons"][:2])
    assert len(merged["contributions"]) == 4, "no month of history is lost"
    assert {c for c, _, _ in merged["contributions"]} == {"0100000001"}

    # new history arriving after the merge stays with the kept code on undo
    path = tmp_path / "later.csv"
    path.write_text(
        CONTRIBUTIONS.splitlines()[0] + "\n"
        "0100000001,TA0001A,2026-03,10000000,2550000,450000,200000\n",
        encoding="utf-8",
    )
    import_file(engine, "contributions", path)

    unmerge(engine, result.merge_id, actor="staff:approver", reason="gộp nhầm")
    after = holdings(engine)
    assert after["persons"] == before["persons"]
    assert after["cards"] == before["cards"]
    assert after["contributions"] == sorted(
        [*before["contributions"], ("0100000001", "TA0001A", "2026-03")]
    )
    with engine.connect() as conn:
        actions = conn.execute(
            text(
                "SELECT action, actor FROM audit_log WHERE subject_type = 'code_merge' ORDER BY id"
            )
        ).all()
        topics = (
            conn.execute(
                text("SELECT topic FROM outbox_events WHERE topic LIKE 'identity.%' ORDER BY id")
            )
            .scalars()
            .all()
        )
        merge = conn.execute(select(models.CodeMerge.__table__)).one()
    assert [tuple(a) for a in actions] == [
        ("merge", "staff:reviewer"),
        ("unmerge", "staff:approver"),
    ]
    assert topics == ["identity.codes_merged", "identity.codes_unmerged"]
    assert merge.undone_by == "staff:approver" and merge.undo_reason == "gộp nhầm"


def test_a_merge_cannot_be_undone_twice(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path)
    result = merge_codes(engine, "0100000001", "7900000002", actor="a", reason="trùng")
    unmerge(engine, result.merge_id, actor="a", reason="nhầm")
    with pytest.raises(MergeError, match="already undone"):
        unmerge(engine, result.merge_id, actor="a", reason="lần nữa")


def test_colliding_months_stop_the_merge_and_change_nothing(engine: Engine, tmp_path: Path) -> None:
    load(engine, tmp_path)
    path = tmp_path / "clash.csv"
    path.write_text(
        CONTRIBUTIONS.splitlines()[0] + "\n"
        "7900000002,TA0001A,2026-01,9000000,2295000,405000,180000\n",
        encoding="utf-8",
    )
    import_file(engine, "contributions", path)
    before = holdings(engine)
    with pytest.raises(MergeError, match="collide"):
        merge_codes(engine, "0100000001", "7900000002", actor="a", reason="trùng")
    assert holdings(engine) == before


@pytest.mark.parametrize(
    ("keep", "retire", "reason", "message"),
    [
        ("0100000001", "0100000001", "x", "same"),
        ("0100000001", "7900000002", " ", "reason"),
        ("0100000001", "5500000000", "x", "nothing is held"),
        ("01000", "7900000002", "x", "BHXH_CODE_FORMAT"),
    ],
    ids=["same-code", "no-reason", "empty-code", "bad-code"],
)
def test_bad_merges_are_refused_with_the_reason(
    engine: Engine, tmp_path: Path, keep: str, retire: str, reason: str, message: str
) -> None:
    load(engine, tmp_path)
    with pytest.raises(ValueError, match=message):
        merge_codes(engine, keep, retire, actor="a", reason=reason)


def test_the_same_benefit_under_both_codes_stops_the_merge_with_a_clear_message(
    engine: Engine, tmp_path: Path
) -> None:
    from datetime import date

    from sqlalchemy import insert

    load(engine, tmp_path)
    with engine.begin() as conn:
        for code in ("0100000001", "7900000002"):
            conn.execute(
                insert(models.Benefit).values(
                    bhxh_code=code,
                    kind="pension",
                    start_date=date(2024, 1, 1),
                    monthly_amount=5_000_000,
                    status="active",
                )
            )
    before = holdings(engine)
    with pytest.raises(MergeError, match=r"collide.*benefits\(kind=pension"):
        merge_codes(engine, "0100000001", "7900000002", actor="a", reason="trùng")
    assert holdings(engine) == before
