"""Error model 2: an independent typing-error model, reproducible, with its ground truth."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

from nidb.sim.generate import ErrorRates, generate
from nidb.sim.generate.errors2 import MODEL_1_TYPING_OFF, RATES, apply_error_model_2


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def make(folder: Path) -> None:
    rates = dataclasses.replace(ErrorRates(), **MODEL_1_TYPING_OFF)
    generate(folder, 1_500, seed=21, rates=rates, contribution_months=0, visits_per_person=0)
    apply_error_model_2(folder, 21)


def test_the_same_seed_gives_the_same_records_and_truth(tmp_path: Path) -> None:
    make(tmp_path / "a")
    make(tmp_path / "b")
    for name in ("records.csv", "truth.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_truth_names_every_model_2_error_and_no_model_1_typing_error(tmp_path: Path) -> None:
    make(tmp_path)
    truth = read(tmp_path / "truth.csv")
    codes = {code for row in truth for code in row["errors"].split(";") if code}
    assert {"M2_NO_DIACRITICS", "M2_ID_CMND", "M2_ADDRESS_STYLE", "M2_ID_EMPTY"} <= codes
    model_1 = {name.upper() for name in MODEL_1_TYPING_OFF}
    assert not codes & model_1
    assert {c for c in codes if c.startswith("M2_")} <= {
        *RATES,
        "M2_ID_RELATIVE",
        "M2_ID_CMND_TRANSPOSED",
    }


def test_an_old_id_is_nine_digits_and_records_keep_their_ids_and_count(tmp_path: Path) -> None:
    make(tmp_path)
    records = {row["record_id"]: row for row in read(tmp_path / "records.csv")}
    truth = read(tmp_path / "truth.csv")
    assert len(records) == len(truth)
    for row in truth:
        if "M2_ID_CMND" in row["errors"].split(";"):
            assert len(records[row["record_id"]]["personal_id"]) == 9


def test_an_old_id_is_the_persons_own_as_the_registry_keeps_it(tmp_path: Path) -> None:
    make(tmp_path)
    records = {row["record_id"]: row for row in read(tmp_path / "records.csv")}
    old_id = {row["personal_id"]: row["old_id"] for row in read(tmp_path / "registry.csv")}
    seen = exchanged = 0
    for row in read(tmp_path / "truth.csv"):
        errors = row["errors"].split(";")
        if "M2_ID_CMND" not in errors or not row["personal_id"]:
            continue
        typed, kept = records[row["record_id"]]["personal_id"], old_id[row["personal_id"]]
        seen += 1
        if "M2_ID_CMND_TRANSPOSED" in errors:
            exchanged += 1
            at = next(i for i in range(9) if typed[i] != kept[i])
            assert (
                typed[at : at + 2] == kept[at + 1] + kept[at] and typed[at + 2 :] == kept[at + 2 :]
            )
        else:
            assert typed == kept
    assert seen > 20
    assert exchanged < seen / 10
