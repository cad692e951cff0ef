"""Layouts of health insurance: health-insurance cards and hospital visit summaries.

Rules come from docs/interchange.md.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from nidb.domain.dates import parse_date
from nidb.domain.identifiers import HealthCardCode
from nidb.ingest.fields import (
    RowFields,
    choice,
    facility_code,
    flag,
    icd10,
    timestamp,
)
from nidb.ingest.layouts.base import COUNT, TABLES, VISIT_ID, CellType, Layout, finish

# -- cards -------------------------------------------------------------------------------------

CARD_STATUSES = {"active", "suspended", "revoked", "expired"}
CARD_STATUS = choice(CARD_STATUSES)


def convert_cards(cells: dict[str, str | None], today: date) -> tuple[Any, ...]:
    """A health-insurance card → ``health_cards`` values."""
    f = RowFields(cells)
    card = f.required("card_code", HealthCardCode.parse)
    facility = f.required("facility_code", facility_code)
    valid_from = f.required("valid_from", parse_date)
    valid_to = f.required("valid_to", parse_date)
    five_years = f.optional("five_years_from", parse_date)
    status = f.required("status", CARD_STATUS)
    if valid_from and valid_to and valid_to < valid_from:
        f.fail(
            "valid_to",
            valid_to.isoformat(),
            "PERIOD_REVERSED",
            "hạn thẻ kết thúc trước khi bắt đầu",
            "validity ends before it starts",
        )
    return finish(
        f,
        (
            card.value if card else None,
            card.bhxh_code.value if card else None,
            card.group if card else None,
            card.benefit_level if card else None,
            card.province_code if card else None,
            facility,
            valid_from,
            valid_to,
            five_years,
            status,
        ),
    )


# -- visits ------------------------------------------------------------------------------------


def convert_visits(cells: dict[str, str | None], today: date) -> tuple[Any, ...]:
    """A hospital visit summary → ``health_visits`` values."""
    f = RowFields(cells)
    visit_id = f.required("visit_id", VISIT_ID)
    card = f.required("card_code", HealthCardCode.parse)
    facility = f.required("facility_code", facility_code)
    admitted = f.required("admitted_at", timestamp)
    discharged = f.required("discharged_at", timestamp)
    inpatient = f.required("inpatient", flag)
    diagnosis = f.required("icd10", icd10)
    total = f.required("total_cost", COUNT)
    insurer = f.required("insurer_paid", COUNT)
    patient = f.required("patient_paid", COUNT)
    if admitted and discharged and discharged < admitted:
        f.fail(
            "discharged_at",
            discharged.isoformat(),
            "PERIOD_REVERSED",
            "ra viện trước khi vào viện",
            "discharged before admitted",
        )
    if total is not None and insurer is not None and insurer > total:
        f.fail(
            "insurer_paid",
            insurer,
            "AMOUNT_ABOVE_TOTAL",
            "quỹ BHYT trả nhiều hơn tổng chi phí",
            "insurer paid more than the total cost",
        )
    return finish(
        f,
        (
            visit_id,
            card.value if card else None,
            card.bhxh_code.value if card else None,
            facility,
            admitted,
            discharged,
            inpatient,
            diagnosis,
            total,
            insurer,
            patient,
        ),
    )


CARDS = Layout(
    "cards",
    TABLES["health_cards"],
    required=("card_code", "facility_code", "valid_from", "valid_to", "status"),
    optional=("five_years_from",),
    key=("card_code", "valid_from"),
    targets=(
        "card_code",
        "bhxh_code",
        "group_code",
        "benefit_level",
        "province_code",
        "facility_code",
        "valid_from",
        "valid_to",
        "five_years_from",
        "status",
    ),
    convert=convert_cards,
    cell_types=dict.fromkeys(("valid_from", "valid_to", "five_years_from"), CellType.DATE),
)

VISITS = Layout(
    "visits",
    TABLES["health_visits"],
    required=(
        "visit_id",
        "card_code",
        "facility_code",
        "admitted_at",
        "discharged_at",
        "inpatient",
        "icd10",
        "total_cost",
        "insurer_paid",
        "patient_paid",
    ),
    optional=(),
    key=("visit_id",),
    targets=(
        "visit_id",
        "card_code",
        "bhxh_code",
        "facility_code",
        "admitted_at",
        "discharged_at",
        "inpatient",
        "icd10",
        "total_cost",
        "insurer_paid",
        "patient_paid",
    ),
    convert=convert_visits,
    cell_types={
        "admitted_at": CellType.TIMESTAMP,
        "discharged_at": CellType.TIMESTAMP,
        "inpatient": CellType.FLAG,
        "total_cost": CellType.INTEGER,
        "insurer_paid": CellType.INTEGER,
        "patient_paid": CellType.INTEGER,
    },
)
