"""Rules on claims: the same claim twice, extreme costs, cards used far more than their peers.

The statistical rules use a robust model, so that the frauds they look for do not hide
themselves by moving the yardstick: the centre is a median and the spread a median absolute
deviation (MAD, scaled by 1.4826 to estimate a standard deviation), both on the logarithm of
the cost, since costs are skewed and a fraud multiplies them.
"""

from __future__ import annotations

from nidb.detect.base import Finding, Row, Rule, _d, evidence_of
from nidb.domain.icd10 import CHAPTERS, chapter_case_sql

NEAR_EQUAL_SHARE = 0.01
NEAR_EQUAL_DONG = 1_000
"""Two claims cost "the same" within 1% or 1,000 đồng, whichever is more."""
COST_Z = 6.0
"""A visit is a cost outlier at 6 robust standard deviations above its peers' median log cost
(a chance of about one in a billion for a log-normal cost)."""
FACILITY_Z = 6.0
FACILITY_MIN_RATIO = 2.0
"""A facility is a cost outlier for a chapter when its median cost is at least twice the peers'
and 6 standard errors above it."""
MIN_PEERS = 30
"""Groups smaller than this are not judged: their median and MAD mean little."""
MIN_FACILITIES = 5
VISITS_SPREAD = 8.0
VISITS_FLOOR = 12
"""A card is used "extremely often" at its group's median number of visits plus 8 times the
larger of the robust spread and the Poisson spread √median, and at least 12 visits a year."""
VISITS_WINDOW_DAYS = 365

MAD_SCALE = 1.4826
MEDIAN_SE = 1.2533
"""The standard error of a median of n normal values is 1.2533 σ / √n."""

ROMAN = {c.number: c.roman for c in CHAPTERS}


def same_claim(a: str, b: str) -> str:
    """SQL: visits ``a`` and ``b`` are one claim sent twice (same card, facility, day, ICD-10,
    setting, near-equal cost)."""
    return (
        f"{a}.card_code = {b}.card_code AND {a}.facility_code = {b}.facility_code "
        f"AND {a}.icd10 = {b}.icd10 AND {a}.inpatient = {b}.inpatient "
        f"AND CAST({a}.admitted_at AS DATE) = CAST({b}.admitted_at AS DATE) "
        f"AND abs({a}.total_cost - {b}.total_cost) <= greatest({NEAR_EQUAL_DONG}, "
        f"{NEAR_EQUAL_SHARE} * greatest({a}.total_cost, {b}.total_cost))"
    )


DUPLICATE_CLAIM_SQL = f"""
SELECT a.card_code, a.visit_id AS first_visit, b.visit_id AS second_visit, a.facility_code,
       a.icd10, a.inpatient, a.admitted_at AS first_admitted, b.admitted_at AS second_admitted,
       a.total_cost AS first_cost, b.total_cost AS second_cost,
       a.insurer_paid AS first_insurer_paid, b.insurer_paid AS second_insurer_paid,
       coalesce(c.province_code, substr(a.facility_code, 1, 2)) AS province
FROM health_visits a
JOIN health_visits b ON a.visit_id < b.visit_id AND {same_claim("a", "b")}
LEFT JOIN card_info c ON c.card_code = a.card_code
ORDER BY a.card_code, a.visit_id, b.visit_id
"""


def _duplicate_claim(r: Row) -> Finding:
    setting_vi = "nội trú" if r["inpatient"] else "ngoại trú"
    setting_en = "inpatient" if r["inpatient"] else "outpatient"
    return Finding(
        subject_type="card",
        subject_id=r["card_code"],
        province=r["province"],
        evidence_key=f"visits:{r['first_visit']}|{r['second_visit']}",
        evidence=evidence_of(r),
        explanation_vi=(
            f"Cơ sở {r['facility_code']} đề nghị thanh toán hai lần cùng một lượt khám "
            f"{setting_vi} của thẻ BHYT {r['card_code']}: lượt {r['first_visit']} "
            f"({_d(r['first_admitted'])}, {r['first_cost']:,} đồng) và lượt {r['second_visit']} "
            f"({_d(r['second_admitted'])}, {r['second_cost']:,} đồng), cùng ngày, cùng mã bệnh "
            f"{r['icd10']}, chi phí gần như bằng nhau; quỹ có thể chi hai lần "
            f"{r['second_insurer_paid']:,} đồng."
        ),
        explanation_en=(
            f"Facility {r['facility_code']} claimed the same {setting_en} visit of health card "
            f"{r['card_code']} twice: visit {r['first_visit']} ({_d(r['first_admitted'])}, "
            f"{r['first_cost']:,} VND) and visit {r['second_visit']} "
            f"({_d(r['second_admitted'])}, {r['second_cost']:,} VND), the same day, the same "
            f"diagnosis {r['icd10']}, near-equal costs; the fund may pay "
            f"{r['second_insurer_paid']:,} VND twice."
        ),
    )


VISIT_COST = f"""
    SELECT visit_id, card_code, facility_code, icd10, inpatient, admitted_at, total_cost,
           insurer_paid, {chapter_case_sql("icd10")} AS chapter, ln(total_cost) AS lc
    FROM health_visits WHERE total_cost > 0"""
"""Visits with their ICD-10 chapter and log cost (free visits have no log and are left out)."""

COST_PEERS_VIEW = f"""
    CREATE OR REPLACE TEMP VIEW cost_peers AS
    WITH v AS ({VISIT_COST}),
    g AS (
        SELECT chapter, inpatient, median(lc) AS med, count(*) AS n
        FROM v GROUP BY chapter, inpatient
    )
    SELECT g.chapter, g.inpatient, g.med, g.n, median(abs(v.lc - g.med)) AS mad
    FROM v JOIN g ON g.chapter = v.chapter AND g.inpatient = v.inpatient
    GROUP BY g.chapter, g.inpatient, g.med, g.n
    """
"""Helper view read by both cost rules: per peer group (ICD-10 chapter, setting) the median
``med`` and median absolute deviation ``mad`` of the log cost, and the number of visits ``n``."""


COST_OUTLIER_SQL = f"""
WITH v AS ({VISIT_COST})
SELECT v.visit_id, v.card_code, v.facility_code, v.icd10, v.chapter, v.inpatient,
       v.admitted_at, v.total_cost, v.insurer_paid, g.n AS peers, exp(g.med) AS peer_median,
       (v.lc - g.med) / ({MAD_SCALE} * g.mad) AS z,
       substr(v.facility_code, 1, 2) AS province
FROM v
JOIN cost_peers g ON g.chapter = v.chapter AND g.inpatient = v.inpatient
WHERE g.n >= {MIN_PEERS} AND g.mad > 0 AND (v.lc - g.med) / ({MAD_SCALE} * g.mad) >= {COST_Z}
ORDER BY v.visit_id
"""
"""Peers of a visit: all visits of the same ICD-10 chapter and setting (inpatient or
outpatient) nationwide. The register has no facility catalogue with levels (tuyến), so the
setting stands in for the level; a catalogue's level would be one more column of the peer key.
The alert goes to the facility's province, whose health-insurance office checks the bill."""


def _setting(inpatient: bool) -> tuple[str, str]:
    return ("nội trú", "inpatient") if inpatient else ("ngoại trú", "outpatient")


def _cost_outlier(r: Row) -> Finding:
    vi, en = _setting(r["inpatient"])
    chapter = ROMAN.get(int(r["chapter"]), "?")
    times = r["total_cost"] / r["peer_median"]
    return Finding(
        subject_type="visit",
        subject_id=r["visit_id"],
        province=r["province"],
        evidence_key=f"visit:{r['visit_id']}",
        evidence=evidence_of(r),
        explanation_vi=(
            f"Lượt khám {vi} {r['visit_id']} (thẻ {r['card_code']}, cơ sở {r['facility_code']}, "
            f"ngày {_d(r['admitted_at'])}, mã bệnh {r['icd10']}, chương {chapter}) có chi phí "
            f"{r['total_cost']:,} đồng, gấp {times:,.0f} lần trung vị {r['peer_median']:,.0f} "
            f"đồng của {r['peers']:,} lượt {vi} cùng chương (z = {r['z']:.1f} theo trung vị và "
            f"MAD của log chi phí; ngưỡng {COST_Z:g})."
        ),
        explanation_en=(
            f"{en.capitalize()} visit {r['visit_id']} (card {r['card_code']}, facility "
            f"{r['facility_code']}, {_d(r['admitted_at'])}, diagnosis {r['icd10']}, chapter "
            f"{chapter}) cost {r['total_cost']:,} VND, {times:,.0f} times the median "
            f"{r['peer_median']:,.0f} VND of {r['peers']:,} {en} visits of the same chapter "
            f"(robust z = {r['z']:.1f} on log cost, median and MAD; threshold {COST_Z:g})."
        ),
    )


FACILITY_COST_SQL = f"""
WITH v AS ({VISIT_COST}), f AS (
    SELECT facility_code, chapter, inpatient, median(lc) AS fmed, count(*) AS n,
           sum(total_cost) AS total, sum(insurer_paid) AS insurer_paid
    FROM v GROUP BY facility_code, chapter, inpatient
), p AS (
    SELECT chapter, inpatient, median(fmed) AS pmed, count(*) AS facilities
    FROM f WHERE n >= {MIN_PEERS} GROUP BY chapter, inpatient
), s AS (
    SELECT f.facility_code, f.chapter, f.inpatient, f.n, f.total, f.insurer_paid,
           exp(f.fmed) AS facility_median, exp(p.pmed) AS peer_median, p.facilities,
           (f.fmed - p.pmed) / ({MEDIAN_SE} * {MAD_SCALE} * d.mad / sqrt(f.n)) AS z,
           f.fmed - p.pmed AS log_ratio
    FROM f
    JOIN p ON p.chapter = f.chapter AND p.inpatient = f.inpatient
    JOIN cost_peers d ON d.chapter = f.chapter AND d.inpatient = f.inpatient
    WHERE f.n >= {MIN_PEERS} AND p.facilities >= {MIN_FACILITIES} AND d.mad > 0
)
SELECT s.*, substr(s.facility_code, 1, 2) AS province FROM s
WHERE s.z >= {FACILITY_Z} AND s.log_ratio >= ln({FACILITY_MIN_RATIO})
ORDER BY s.facility_code, s.chapter, s.inpatient
"""
"""A facility whose median cost for a chapter and setting is far above the median of the
other facilities' medians. The yardstick is the standard error of a median of n visits
(1.2533 × robust σ of the visits / √n), so a small facility needs a bigger gap than a large
one; at least twice the peers' median, so that a large facility is not flagged for a gap of
no consequence."""


def _facility_cost(r: Row) -> Finding:
    vi, en = _setting(r["inpatient"])
    chapter = ROMAN.get(int(r["chapter"]), "?")
    times = r["facility_median"] / r["peer_median"]
    return Finding(
        subject_type="facility",
        subject_id=r["facility_code"],
        province=r["province"],
        evidence_key=f"chapter:{chapter}|{en}",
        evidence=evidence_of(r),
        explanation_vi=(
            f"Cơ sở {r['facility_code']}: chi phí trung vị của {r['n']:,} lượt {vi} chương "
            f"{chapter} là {r['facility_median']:,.0f} đồng, gấp {times:.1f} lần trung vị "
            f"{r['peer_median']:,.0f} đồng của {r['facilities']:,} cơ sở khác (z = {r['z']:.1f} "
            f"theo sai số chuẩn của trung vị; ngưỡng {FACILITY_Z:g} và gấp "
            f"{FACILITY_MIN_RATIO:g} lần); tổng chi {r['total']:,} đồng."
        ),
        explanation_en=(
            f"Facility {r['facility_code']}: the median cost of its {r['n']:,} {en} visits of "
            f"chapter {chapter} is {r['facility_median']:,.0f} VND, {times:.1f} times the median "
            f"{r['peer_median']:,.0f} VND of {r['facilities']:,} facilities (z = {r['z']:.1f} "
            f"on the standard error of a median; thresholds {FACILITY_Z:g} and "
            f"{FACILITY_MIN_RATIO:g} times); {r['total']:,} VND in all."
        ),
    )


VISITS_PER_CARD_SQL = f"""
WITH latest AS (SELECT max(admitted_at) AS at FROM health_visits),
ages AS (
    SELECT bhxh_code, min(birth_year) AS birth_year FROM persons GROUP BY bhxh_code
), counted AS (
    SELECT v.card_code, count(*) AS visits, min(v.admitted_at) AS first_visit, max(v.admitted_at) AS last_visit
    FROM health_visits v CROSS JOIN latest
    WHERE v.admitted_at > latest.at - INTERVAL '{VISITS_WINDOW_DAYS}' DAY
    GROUP BY v.card_code
), cards AS (
    SELECT c.card_code, c.group_code, c.province_code, coalesce(k.visits, 0) AS visits,
           k.first_visit, k.last_visit,
           CASE WHEN a.birth_year IS NULL THEN 'unknown'
                WHEN year(latest.at) - a.birth_year < 6 THEN '0-5'
                WHEN year(latest.at) - a.birth_year < 18 THEN '6-17'
                WHEN year(latest.at) - a.birth_year < 40 THEN '18-39'
                WHEN year(latest.at) - a.birth_year < 60 THEN '40-59'
                ELSE '60+' END AS age_band
    FROM card_info c CROSS JOIN latest
    LEFT JOIN counted k ON k.card_code = c.card_code
    LEFT JOIN ages a ON a.bhxh_code = c.bhxh_code
), g AS (
    SELECT group_code, age_band, median(visits) AS med, count(*) AS n
    FROM cards GROUP BY group_code, age_band
), d AS (
    SELECT cards.group_code, cards.age_band, median(abs(cards.visits - g.med)) AS mad
    FROM cards JOIN g ON g.group_code = cards.group_code AND g.age_band = cards.age_band
    GROUP BY cards.group_code, cards.age_band
), t AS (
    SELECT g.group_code, g.age_band, g.med, g.n, d.mad,
           g.med + {VISITS_SPREAD} * greatest({MAD_SCALE} * d.mad, sqrt(greatest(g.med, 1)))
               AS threshold
    FROM g JOIN d ON d.group_code = g.group_code AND d.age_band = g.age_band
)
SELECT cards.card_code, cards.group_code, cards.age_band, cards.visits, cards.first_visit, cards.last_visit, t.med AS peer_median, t.mad AS peer_mad,
       t.n AS peers, t.threshold, cards.province_code AS province
FROM cards JOIN t ON t.group_code = cards.group_code AND t.age_band = cards.age_band
WHERE t.n >= {MIN_PEERS} AND cards.visits >= {VISITS_FLOOR} AND cards.visits >= t.threshold
ORDER BY cards.card_code
"""
"""Peers of a card: the cards of the same beneficiary group (mã đối tượng: children under 6,
pensioners, employees…) and age band (0–5, 6–17, 18–39, 40–59, 60+, from the holder's birth
year), since the old and the very young see doctors most; the window is the 365 days up to the
latest visit of the snapshot. The Poisson floor √median keeps a group where nearly everyone
has the same count (MAD 0) from flagging a card for one visit more."""


def _visits_per_card(r: Row) -> Finding:
    return Finding(
        subject_type="card",
        subject_id=r["card_code"],
        province=r["province"],
        evidence_key=f"visits:{_d(r['first_visit'])[:10]}|{_d(r['last_visit'])[:10]}",
        evidence=evidence_of(r),
        explanation_vi=(
            f"Thẻ BHYT {r['card_code']} (đối tượng {r['group_code']}) có {r['visits']:,} lượt "
            f"khám trong 365 ngày (từ {_d(r['first_visit'])} đến "
            f"{_d(r['last_visit'])}), trong khi trung vị của {r['peers']:,} thẻ cùng đối tượng và "
            f"nhóm tuổi {r['age_band']} "
            f"là {r['peer_median']:g} lượt (ngưỡng {r['threshold']:.0f} lượt theo trung vị và "
            "MAD): có thể thẻ bị cho mượn hoặc lượt khám khống."
        ),
        explanation_en=(
            f"Health card {r['card_code']} (group {r['group_code']}) was used for "
            f"{r['visits']:,} visits within 365 days (from "
            f"{_d(r['first_visit'])} to {_d(r['last_visit'])}), while the median of "
            f"{r['peers']:,} cards of its group and age band {r['age_band']} is {r['peer_median']:g} (threshold "
            f"{r['threshold']:.0f} by median and MAD): a card lent to others, or phantom visits."
        ),
    )


CLAIM_RULES: tuple[Rule, ...] = (
    Rule(
        "duplicate_claim",
        DUPLICATE_CLAIM_SQL,
        _duplicate_claim,
    ),
    Rule(
        "cost_outlier",
        COST_OUTLIER_SQL,
        _cost_outlier,
    ),
    Rule(
        "facility_cost_outlier",
        FACILITY_COST_SQL,
        _facility_cost,
    ),
    Rule(
        "visits_per_card_outlier",
        VISITS_PER_CARD_SQL,
        _visits_per_card,
    ),
)
