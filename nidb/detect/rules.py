"""The detection rules: one SQL query each over the Parquet snapshot, and its explanation.

A rule's query reads the snapshot's views (``citizens``, ``persons``, ``identity_links``,
``employers``, ``participation_periods``, ``contributions``, ``health_cards``, ``benefits``,
``health_visits``) and helper views made by the runner (nidb.detect.views):

- ``holder_death`` (bhxh_code, personal_id, full_name, death_date): BHXH codes whose citizen is
  dead, linked the way the population feed links them (verified records and open identity links);
- ``card_info`` (card_code, bhxh_code, group_code, province_code): each card's latest holder,
  beneficiary group and province.
- ``code_province`` (bhxh_code, province): a person's province (latest card, else employer).
- ``cost_peers`` (chapter, inpatient, med, n, mad): per ICD-10 chapter and setting, the median
  and MAD of the log cost of a visit (nidb.detect.rules_claims).

Each row becomes one :class:`Finding` with a subject, an evidence key (what makes the alert
unique for that subject) and a plain explanation in Vietnamese and in English. This module holds
the rules on deaths and on stays; claims and costs are in ``rules_claims``, employers in
``rules_employers``. Time stamps of visits are the hospital's local time (Vietnam), as imported.
"""

from __future__ import annotations

from nidb.detect.base import Finding, Row, Rule, _d, evidence_of
from nidb.detect.rules_claims import CLAIM_RULES, same_claim
from nidb.detect.rules_employers import EMPLOYER_RULES

__all__ = ["RULES", "Finding", "Row", "Rule"]


CARD_AFTER_DEATH_SQL = """
SELECT v.visit_id, v.card_code, h.bhxh_code, h.personal_id, h.full_name, h.death_date,
       v.facility_code, v.admitted_at, v.discharged_at, v.inpatient, v.insurer_paid,
       coalesce(c.province_code, p.province) AS province
FROM health_visits v
LEFT JOIN card_info c ON c.card_code = v.card_code
JOIN holder_death h ON h.bhxh_code = coalesce(c.bhxh_code, v.bhxh_code)
LEFT JOIN code_province p ON p.bhxh_code = h.bhxh_code
WHERE CAST(v.admitted_at AS DATE) > h.death_date
ORDER BY v.card_code, v.admitted_at, v.visit_id
"""


def _card_after_death(r: Row) -> Finding:
    days = (r["admitted_at"].date() - r["death_date"]).days
    return Finding(
        subject_type="card",
        subject_id=r["card_code"],
        province=r["province"],
        evidence_key=f"visit:{r['visit_id']}",
        evidence=evidence_of(r),
        explanation_vi=(
            f"Thẻ BHYT {r['card_code']} của {r['full_name']} (mã BHXH {r['bhxh_code']}, "
            f"số định danh {r['personal_id']}) được dùng khám chữa bệnh tại cơ sở "
            f"{r['facility_code']} ngày {_d(r['admitted_at'])} (lượt {r['visit_id']}, quỹ chi "
            f"{r['insurer_paid']:,} đồng), {days} ngày sau khi người này mất "
            f"({_d(r['death_date'])}) theo CSDL quốc gia về dân cư."
        ),
        explanation_en=(
            f"Health card {r['card_code']} of {r['full_name']} (BHXH code {r['bhxh_code']}, "
            f"personal ID {r['personal_id']}) was used at facility {r['facility_code']} on "
            f"{_d(r['admitted_at'])} (visit {r['visit_id']}, insurer paid {r['insurer_paid']:,} "
            f"VND), {days} day(s) after the holder's death on {_d(r['death_date'])} according to "
            "the population database."
        ),
    )


BENEFIT_AFTER_DEATH_SQL = """
SELECT b.id AS benefit_id, b.bhxh_code, b.kind, b.start_date, b.end_date, b.status,
       b.monthly_amount, b.lump_sum, h.personal_id, h.full_name, h.death_date,
       p.province
FROM benefits b
JOIN holder_death h ON h.bhxh_code = b.bhxh_code
LEFT JOIN code_province p ON p.bhxh_code = b.bhxh_code
WHERE (b.status = 'active' AND coalesce(b.end_date, DATE '9999-12-31') > h.death_date)
   OR b.end_date > h.death_date
ORDER BY b.bhxh_code, b.id
"""


def _benefit_after_death(r: Row) -> Finding:
    if r["status"] == "active":
        why_vi = "vẫn đang ở trạng thái chi trả (active)"
        why_en = "is still being paid (status active)"
    else:
        why_vi = f"có kỳ hưởng kéo dài đến {_d(r['end_date'])}"
        why_en = f"has a period running to {_d(r['end_date'])}"
    amount = r["monthly_amount"] if r["monthly_amount"] is not None else r["lump_sum"]
    return Finding(
        subject_type="person",
        subject_id=r["bhxh_code"],
        province=r["province"],
        evidence_key=f"benefit:{r['benefit_id']}",
        evidence=evidence_of(r),
        explanation_vi=(
            f"Chế độ {r['kind']} (mã {r['benefit_id']}, hưởng từ {_d(r['start_date'])}, "
            f"số tiền {amount or 0:,} đồng) của {r['full_name']} (mã BHXH {r['bhxh_code']}, "
            f"số định danh {r['personal_id']}) {why_vi}, trong khi người hưởng đã mất ngày "
            f"{_d(r['death_date'])} theo CSDL quốc gia về dân cư."
        ),
        explanation_en=(
            f"Benefit {r['kind']} (id {r['benefit_id']}, from {_d(r['start_date'])}, amount "
            f"{amount or 0:,} VND) of {r['full_name']} (BHXH code {r['bhxh_code']}, personal ID "
            f"{r['personal_id']}) {why_en}, although the beneficiary died on "
            f"{_d(r['death_date'])} according to the population database."
        ),
    )


OVERLAPPING_INPATIENT_SQL = f"""
SELECT a.card_code, a.visit_id AS first_visit, b.visit_id AS second_visit,
       a.facility_code AS first_facility, b.facility_code AS second_facility,
       a.admitted_at AS first_admitted, a.discharged_at AS first_discharged,
       b.admitted_at AS second_admitted, b.discharged_at AS second_discharged,
       coalesce(c.province_code, p.province) AS province, a.bhxh_code
FROM health_visits a
JOIN health_visits b
  ON a.card_code = b.card_code AND a.visit_id < b.visit_id
 AND a.admitted_at < b.discharged_at AND b.admitted_at < a.discharged_at
LEFT JOIN card_info c ON c.card_code = a.card_code
LEFT JOIN code_province p ON p.bhxh_code = a.bhxh_code
WHERE a.inpatient AND b.inpatient AND NOT ({same_claim("a", "b")})
ORDER BY a.card_code, a.visit_id, b.visit_id
"""
"""Two inpatient stays on one card that overlap in time; a stay starting when the other ends
(a transfer) does not overlap. A pair that is one claim sent twice is left to duplicate_claim."""


def _overlapping_inpatient(r: Row) -> Finding:
    return Finding(
        subject_type="card",
        subject_id=r["card_code"],
        province=r["province"],
        evidence_key=f"visits:{r['first_visit']}|{r['second_visit']}",
        evidence=evidence_of(r),
        explanation_vi=(
            f"Thẻ BHYT {r['card_code']} có hai đợt điều trị nội trú chồng lấn nhau: lượt "
            f"{r['first_visit']} tại cơ sở {r['first_facility']} từ {_d(r['first_admitted'])} "
            f"đến {_d(r['first_discharged'])} và lượt {r['second_visit']} tại cơ sở "
            f"{r['second_facility']} từ {_d(r['second_admitted'])} đến "
            f"{_d(r['second_discharged'])}; một người không thể nằm viện hai nơi cùng lúc."
        ),
        explanation_en=(
            f"Health card {r['card_code']} has two overlapping inpatient stays: visit "
            f"{r['first_visit']} at facility {r['first_facility']} from "
            f"{_d(r['first_admitted'])} to {_d(r['first_discharged'])} and visit "
            f"{r['second_visit']} at facility {r['second_facility']} from "
            f"{_d(r['second_admitted'])} to {_d(r['second_discharged'])}; one person cannot be "
            "in hospital in two places at once."
        ),
    )


TWO_PROVINCES_SQL = """
SELECT a.card_code, a.bhxh_code, a.visit_id AS first_visit, b.visit_id AS second_visit,
       a.facility_code AS first_facility, b.facility_code AS second_facility,
       a.admitted_at AS first_admitted, a.discharged_at AS first_discharged,
       b.admitted_at AS second_admitted, b.discharged_at AS second_discharged,
       coalesce(c.province_code, p.province) AS province
FROM health_visits a
JOIN health_visits b
  ON a.card_code = b.card_code AND a.visit_id <> b.visit_id
 AND (a.admitted_at < b.admitted_at OR (a.admitted_at = b.admitted_at AND a.visit_id < b.visit_id))
 AND CAST(a.admitted_at AS DATE) = CAST(b.admitted_at AS DATE)
 AND substr(a.facility_code, 1, 2) <> substr(b.facility_code, 1, 2)
 AND b.admitted_at < a.discharged_at + INTERVAL '3' HOUR
LEFT JOIN card_info c ON c.card_code = a.card_code
LEFT JOIN code_province p ON p.bhxh_code = a.bhxh_code
WHERE NOT a.inpatient AND NOT b.inpatient
ORDER BY a.card_code, a.admitted_at, a.visit_id, b.visit_id
"""
"""Two outpatient visits on one card, the same day (local time), at facilities of different
provinces (the first two digits of the facility code), the second starting less than three hours
after the first ended: too little time to travel between most provinces. Inpatient stays are left
to the overlap rule, since transfers between hospitals of two provinces are normal."""


def _two_provinces(r: Row) -> Finding:
    gap = int((r["second_admitted"] - r["first_discharged"]).total_seconds() // 60)
    return Finding(
        subject_type="card",
        subject_id=r["card_code"],
        province=r["province"],
        evidence_key=f"visits:{r['first_visit']}|{r['second_visit']}",
        evidence=evidence_of(r),
        explanation_vi=(
            f"Thẻ BHYT {r['card_code']} được dùng khám ngoại trú tại cơ sở {r['first_facility']} "
            f"(tỉnh {r['first_facility'][:2]}) đến {_d(r['first_discharged'])} rồi tại cơ sở "
            f"{r['second_facility']} (tỉnh {r['second_facility'][:2]}) lúc "
            f"{_d(r['second_admitted'])} cùng ngày, chỉ cách {gap} phút: không đủ thời gian đi "
            f"giữa hai tỉnh (lượt {r['first_visit']} và {r['second_visit']})."
        ),
        explanation_en=(
            f"Health card {r['card_code']} was used as an outpatient at facility "
            f"{r['first_facility']} (province {r['first_facility'][:2]}) until "
            f"{_d(r['first_discharged'])} and at facility {r['second_facility']} (province "
            f"{r['second_facility'][:2]}) at {_d(r['second_admitted'])} the same day, {gap} "
            f"minutes later: too little time to travel between the two provinces (visits "
            f"{r['first_visit']} and {r['second_visit']})."
        ),
    )


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule(
            "card_after_death",
            CARD_AFTER_DEATH_SQL,
            _card_after_death,
        ),
        Rule(
            "benefit_after_death",
            BENEFIT_AFTER_DEATH_SQL,
            _benefit_after_death,
        ),
        Rule(
            "overlapping_inpatient",
            OVERLAPPING_INPATIENT_SQL,
            _overlapping_inpatient,
        ),
        Rule(
            "two_provinces_same_day",
            TWO_PROVINCES_SQL,
            _two_provinces,
        ),
        *CLAIM_RULES,
        *EMPLOYER_RULES,
    )
}
