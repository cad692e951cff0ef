"""Claims catalogues load from CSV with bad rows quarantined, and reload idempotently."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import Engine, select
from typer.testing import CliRunner

from nidb.claims.catalogue import import_catalogue
from nidb.cli import app
from nidb.sim.generate.claims import write_catalogues
from nidb.store.models_claims import ClaimCatalogueItem, ClaimFacility

HEADER = "code,name,unit,price,payment_ratio,valid_from,valid_to\n"


def test_generated_catalogues_load_whole_and_a_second_import_changes_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    paths = write_catalogues(tmp_path, ["01", "79"], per_province=12)
    first = {k: import_catalogue(engine, k, p, "test") for k, p in paths.items()}
    assert first["facilities"].inserted == 24 and first["facilities"].rejected == 0
    assert first["drugs"].inserted > 10 and first["services"].inserted > 10
    again = import_catalogue(engine, "drugs", paths["drugs"], "test")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, first["drugs"].inserted)
    with engine.connect() as conn:
        levels = dict(conn.execute(select(ClaimFacility.code, ClaimFacility.level)).all())
    assert levels["01001"] == 1 and levels["01002"] == 3 and levels["01012"] == 4


def test_bad_rows_go_to_the_quarantine_file_and_the_good_rows_load(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "drugs.csv"
    path.write_text(
        HEADER
        + "40.17,Paracetamol 500mg,viên,350,100,2024-01-01,\n"
        + "40.18,Amoxicillin,viên,-5,100,2024-01-01,\n"
        + "40.19,Cefuroxim,viên,6800,150,2024-01-01,\n"
        + "40.20,Omeprazol,viên,900,100,01/01/2024,\n"
        + "40.21,Metformin,viên,650,100,2024-06-01,2024-01-01\n",
        encoding="utf-8",
    )
    report = import_catalogue(engine, "drugs", path, "test")
    assert (report.inserted, report.rejected) == (1, 4)
    assert report.rejected_file is not None
    with report.rejected_file.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["row"], r["column"], r["rule"]) for r in rows] == [
        ("3", "price", "NOT_INTEGER"),
        ("4", "payment_ratio", "OUT_OF_RANGE"),
        ("5", "valid_from", "DATE_FORMAT"),
        ("6", "valid_to", "DATES_ORDER"),
    ]
    assert all("(" in r["reason"] for r in rows)  # Vietnamese, then English
    path.write_text(HEADER + "40.17,Paracetamol 500mg,viên,400,100,2024-01-01,\n", encoding="utf-8")
    fixed = import_catalogue(engine, "drugs", path, "test")
    assert (fixed.updated, fixed.rejected, fixed.rejected_file) == (1, 0, None)
    with engine.connect() as conn:
        assert conn.execute(select(ClaimCatalogueItem.price)).scalars().all() == [400]


def test_the_command_imports_and_names_a_missing_column(cli: CliRunner, tmp_path: Path) -> None:
    paths = write_catalogues(tmp_path, ["01"], per_province=3)
    done = cli.invoke(
        app, ["claims", "catalogue", "import", "--kind", "facilities", str(paths["facilities"])]
    )
    assert done.exit_code == 0, done.output
    assert "3 mới" in done.output
    broken = tmp_path / "broken.csv"
    broken.write_text("code,name\n1,x\n", encoding="utf-8")
    refused = cli.invoke(app, ["claims", "catalogue", "import", "--kind", "services", str(broken)])
    assert refused.exit_code == 2
    assert "unit" in refused.output
