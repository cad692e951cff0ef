"""Reason codes: one real example for every code, and the differences that are not reasons.

Field reasons come from `explain` (a record against a registry person); identity-number and
life reasons from verification's `classify`, given the population service's answer.
"""

from __future__ import annotations

import sys
import unicodedata
from datetime import date

from nidb.connectors.population import FieldResult, LifeStatus, VerifiedFields, VerifyResult
from nidb.domain.dates import parse_birth_date
from nidb.domain.gender import Gender
from nidb.domain.names import name_forms
from nidb.identity.reasons import IdentityView, Reason, explain, join_reasons
from nidb.identity.verify import CitizenRow, RecordRow, Status, classify

M, F = "M", "F"
REGISTRY_AN = ("Nguyễn Văn An", "1990-05-17", M, "001")


def view(
    name: str, dob: str, gender: str | None = None, province: str | None = None
) -> IdentityView:
    return IdentityView(
        name_forms(name),
        parse_birth_date(dob),
        None if gender is None else Gender(gender),
        province,
    )


def reasons_of(
    record: tuple[str, str, str | None, str | None], registry: tuple[str, ...] = REGISTRY_AN
) -> list[str]:
    return [r.value for r in explain(view(*record), view(*registry))]  # type: ignore[arg-type]


# --- names --------------------------------------------------------------------------------------


def test_same_name_date_gender_and_province_have_no_reasons() -> None:
    assert reasons_of(("Nguyễn Văn An", "1990-05-17", M, "001")) == []


def test_name_without_diacritics_is_reason_name_diacritics() -> None:
    assert reasons_of(("Nguyen Van An", "1990-05-17", M, "001")) == ["NAME_DIACRITICS"]


def test_d_without_its_bar_is_reason_name_diacritics() -> None:
    registry = ("Đặng Thị Hà", "1990-05-17", F, "001")
    assert reasons_of(("Dang Thi Ha", "1990-05-17", F, "001"), registry) == ["NAME_DIACRITICS"]


def test_other_tone_on_the_same_letters_is_reason_name_diacritics() -> None:
    # Hà, Hạ and Hả are different names with the same letters: not a typo, not the same
    registry = ("Trần Thị Hà", "1990-05-17", F, "001")
    assert reasons_of(("Trần Thị Hạ", "1990-05-17", F, "001"), registry) == ["NAME_DIACRITICS"]


def test_name_lacking_its_middle_name_is_reason_name_middle_missing() -> None:
    assert reasons_of(("Nguyễn An", "1990-05-17", M, "001")) == ["NAME_MIDDLE_MISSING"]


def test_name_lacking_one_of_two_middle_names_is_reason_name_middle_missing() -> None:
    registry = ("Nguyễn Thị Thu Hà", "1990-05-17", F, "001")
    assert reasons_of(("Nguyễn Thị Hà", "1990-05-17", F, "001"), registry) == [
        "NAME_MIDDLE_MISSING"
    ]


def test_one_wrong_letter_is_reason_name_typo() -> None:
    assert reasons_of(("Nguyễn Văm An", "1990-05-17", M, "001")) == ["NAME_TYPO"]


def test_two_letters_exchanged_is_reason_name_typo() -> None:
    assert reasons_of(("Nguễyn Văn An", "1990-05-17", M, "001")) == ["NAME_TYPO"]


def test_typo_typed_without_diacritics_is_reason_name_diacritics_and_name_typo() -> None:
    assert reasons_of(("Nguyen Vam An", "1990-05-17", M, "001")) == [
        "NAME_DIACRITICS",
        "NAME_TYPO",
    ]


def test_another_name_is_reason_name_different() -> None:
    assert reasons_of(("Trần Văn Bình", "1990-05-17", M, "001")) == ["NAME_DIFFERENT"]


# --- names: differences that carry no information -----------------------------------------------


def test_nfd_name_is_not_a_reason() -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Văn An")
    assert nfd != "Nguyễn Văn An"
    assert reasons_of((nfd, "1990-05-17", M, "001")) == []


def test_modern_tone_placement_is_not_a_reason() -> None:
    registry = ("Lê Thị Hòa", "1990-05-17", F, "001")
    assert reasons_of(("Lê Thị Hoà", "1990-05-17", F, "001"), registry) == []
    registry = ("Phạm Thu Thủy", "1990-05-17", F, "001")
    assert reasons_of(("Phạm Thu Thuỷ", "1990-05-17", F, "001"), registry) == []


def test_letter_case_and_spacing_are_not_reasons() -> None:
    assert reasons_of(("NGUYỄN VĂN AN", "1990-05-17", M, "001")) == []
    assert reasons_of(("nguyễn văn an", "1990-05-17", M, "001")) == []
    assert reasons_of(("  Nguyễn   Văn  An ", "1990-05-17", M, "001")) == []


# --- dates, gender, province --------------------------------------------------------------------


def test_birth_year_only_is_reason_dob_year_only() -> None:
    assert reasons_of(("Nguyễn Văn An", "1990", M, "001")) == ["DOB_YEAR_ONLY"]


def test_first_of_january_placeholder_is_reason_dob_year_only() -> None:
    assert reasons_of(("Nguyễn Văn An", "01/01/1990", M, "001")) == ["DOB_YEAR_ONLY"]


def test_registry_knowing_only_the_year_is_not_a_reason() -> None:
    registry = ("Nguyễn Văn An", "1950", M, "001")
    assert reasons_of(("Nguyễn Văn An", "1950-03-07", M, "001"), registry) == []
    assert reasons_of(("Nguyễn Văn An", "01/01/1950", M, "001"), registry) == []


def test_day_and_month_exchanged_is_reason_dob_day_month_swapped() -> None:
    assert reasons_of(("Nguyễn Văn An", "17/05/1990", M, "001")) == []  # DD/MM read right
    assert reasons_of(
        ("Nguyễn Văn An", "1990-05-07", M, "001"), ("Nguyễn Văn An", "1990-07-05", M, "001")
    ) == ["DOB_DAY_MONTH_SWAPPED"]


def test_another_birth_date_is_reason_dob_different() -> None:
    assert reasons_of(("Nguyễn Văn An", "1991-05-17", M, "001")) == ["DOB_DIFFERENT"]


def test_missing_gender_is_reason_gender_missing() -> None:
    assert reasons_of(("Nguyễn Văn An", "1990-05-17", None, "001")) == ["GENDER_MISSING"]


def test_other_gender_is_reason_gender_mismatch() -> None:
    assert reasons_of(("Nguyễn Văn An", "1990-05-17", F, "001")) == ["GENDER_MISMATCH"]


def test_other_birth_province_is_reason_birth_province_mismatch() -> None:
    assert reasons_of(("Nguyễn Văn An", "1990-05-17", M, "079")) == ["BIRTH_PROVINCE_MISMATCH"]


def test_unknown_birth_province_is_not_a_reason() -> None:
    assert reasons_of(("Nguyễn Văn An", "1990-05-17", M, None)) == []


def test_reasons_come_in_a_stable_order_and_join_with_semicolons() -> None:
    reasons = explain(view("Nguyen Van An", "1990", None, "079"), view(*REGISTRY_AN))
    assert (
        join_reasons(reasons)
        == "NAME_DIACRITICS;DOB_YEAR_ONLY;GENDER_MISSING;BIRTH_PROVINCE_MISMATCH"
    )


# --- identity numbers and life status (verification) --------------------------------------------

AN_ID = "001090012345"  # Hà Nội, a man born in 1990


def record(
    declared_id: str | None = AN_ID,
    kind: str | None = "cccd",
    name: str = "Nguyễn Văn An",
    dob: str = "1990-05-17",
    gender: str | None = M,
) -> RecordRow:
    born = parse_birth_date(dob)
    return RecordRow(
        "R1",
        "0100000001",
        name_forms(name).exact,
        name_forms(name).base,
        born.iso(),
        born.precision.value,
        born.year,
        gender,
        declared_id,
        kind,
        "001",
    )


CITIZEN_AN = CitizenRow(
    AN_ID, "Nguyễn Văn An", "nguyen van an", "1990-05-17", "day", 1990, M, "001"
)


def answer(
    found: bool = True,
    name: FieldResult = FieldResult.MATCH,
    dob: FieldResult = FieldResult.MATCH,
    gender: FieldResult | None = FieldResult.MATCH,
    status: LifeStatus = LifeStatus.ALIVE,
    death: date | None = None,
) -> VerifyResult:
    if not found:
        return VerifyResult(AN_ID, False, None, None, None)
    return VerifyResult(AN_ID, True, VerifiedFields(name, dob, gender), status, death)


def test_record_without_an_id_is_reason_id_missing() -> None:
    verdict = classify(record(None, None), None, None)
    assert (verdict.status, verdict.reasons) == (Status.UNMATCHED, (Reason.ID_MISSING,))


def test_record_with_an_old_cmnd_is_reason_id_old_cmnd() -> None:
    verdict = classify(record("012345678", "cmnd"), None, None)
    assert (verdict.status, verdict.reasons) == (Status.UNMATCHED, (Reason.ID_OLD_CMND,))


def test_malformed_twelve_digit_id_is_reason_id_check_failed() -> None:
    verdict = classify(record("999090012345", "cccd_invalid"), None, None)
    assert (verdict.status, verdict.reasons) == (Status.UNMATCHED, (Reason.ID_CHECK_FAILED,))


def test_id_contradicting_the_records_own_gender_is_reason_id_check_failed() -> None:
    # digit 4 of 001190012345 says a woman born in the 1900s; the record says a man
    theirs = CitizenRow(
        "001190012345", "Nguyễn Văn An", "nguyen van an", "1990-05-17", "day", 1990, F, "001"
    )
    verdict = classify(record("001190012345"), answer(gender=FieldResult.MISMATCH), theirs)
    assert verdict.status is Status.REVIEW
    assert verdict.reasons == (Reason.GENDER_MISMATCH, Reason.ID_CHECK_FAILED)


def test_id_unknown_to_the_registry_is_reason_id_not_found() -> None:
    verdict = classify(record(), answer(found=False), None)
    assert (verdict.status, verdict.reasons) == (Status.UNMATCHED, (Reason.ID_NOT_FOUND,))


def test_id_of_someone_with_another_name_and_birth_date_is_reason_id_mismatch() -> None:
    mine = record(name="Trần Văn Bình", dob="1990-11-02")
    verdict = classify(
        mine, answer(name=FieldResult.MISMATCH, dob=FieldResult.MISMATCH), CITIZEN_AN
    )
    assert verdict.status is Status.UNMATCHED
    assert verdict.reasons == (Reason.NAME_DIFFERENT, Reason.DOB_DIFFERENT, Reason.ID_MISMATCH)


def test_dead_registry_person_is_reason_person_dead() -> None:
    verdict = classify(
        record(), answer(status=LifeStatus.DEAD, death=date(2024, 2, 29)), CITIZEN_AN
    )
    assert (verdict.status, verdict.reasons) == (Status.VERIFIED, (Reason.PERSON_DEAD,))
    assert verdict.death_date == date(2024, 2, 29)


def test_every_reason_code_has_an_example_here() -> None:
    tests = [name for name in vars(sys.modules[__name__]) if name.startswith("test_")]
    missing = [r.value for r in Reason if not any(r.value.lower() in name for name in tests)]
    assert missing == []


def _set_aside(personal_id: str | None, born: str | None, gender: str | None) -> tuple[str, ...]:
    """The reason codes and likely ID of one records row after ``cells.set_aside``."""
    import duckdb

    from nidb.identity import cells, features

    con = duckdb.connect()
    con.execute(
        "CREATE TEMP TABLE records_in AS SELECT 1 AS _row, ? AS personal_id, "
        "? AS date_of_birth, ? AS gender",
        [personal_id, born, gender],
    )
    features._distinct_dates(con, ("records_in",))
    cells.set_aside(con, "records_in")
    row = con.execute(
        "SELECT cell_reasons, pid_hint, personal_id, date_of_birth, gender FROM records_in"
    ).fetchall()[0]
    return tuple(str(value) for value in row)


def test_an_eleven_digit_id_is_reason_id_malformed_with_its_leading_zero_as_evidence() -> None:
    # a spreadsheet read 079090000101 as a number: the leading 0 of the province code is gone
    reasons, hint, kept, _, _ = _set_aside("79090000101", "1990-03-04", "M")
    assert (reasons, hint, kept) == (Reason.ID_MALFORMED, "079090000101", "None")
    # 11 digits starting with 0 lost a digit somewhere else: no likely intended form
    assert _set_aside("01090000101", "1990-03-04", "M")[1] == "None"


def test_an_impossible_birth_date_is_reason_dob_malformed_and_set_aside() -> None:
    reasons, hint, _, born, _ = _set_aside("001090000101", "1990-02-31", "M")
    assert (reasons, hint, born) == (Reason.DOB_MALFORMED, "None", "None")


def test_an_unknown_gender_is_reason_gender_malformed_and_set_aside() -> None:
    reasons, _, _, _, gender = _set_aside(None, "1990", "X")
    assert (reasons, gender) == (Reason.GENDER_MALFORMED, "None")
