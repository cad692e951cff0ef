"""Rules on employers: fewer insured workers than registered, contributions that stop.

Both compare an employer with itself at the snapshot's reference month: the latest month for
which any contribution is recorded (the register's "now" for contributions, which arrive a
month late). A worker is insured in a month when a BHXH participation period through the
employer covers it (start month at or before it, end month empty or at or after it).
"""

from __future__ import annotations

from nidb.detect.base import Finding, Row, Rule, _d, evidence_of, month_index

UNDER_DECLARED_SHARE = 0.7
SMALL_EMPLOYER = 10
MIN_SHORTFALL = 3
"""An active employer registering at least 10 workers is flagged when it insures fewer than
70% of them and at least 3 fewer: a registry headcount is a declaration of its own, often a
little stale, so a small gap is not a signal."""
STOPPED_MONTHS = 3
"""Contributions are "stopped" after 3 months without any: one late month is common, three in
a row while the workers stay declared is not."""

_REFERENCE = f"""
ref AS (
    SELECT max(period) AS period, max({month_index("period")}) AS m FROM contributions
), insured AS (
    SELECT p.employer_code, count(DISTINCT p.bhxh_code) AS insured
    FROM participation_periods p CROSS JOIN ref
    WHERE p.scheme = 'BHXH' AND p.employer_code IS NOT NULL
      AND {month_index("p.start_month")} <= ref.m
      AND (p.end_month IS NULL OR {month_index("p.end_month")} >= ref.m)
    GROUP BY p.employer_code
)"""

UNDER_DECLARED_SQL = f"""
WITH {_REFERENCE}
SELECT e.employer_code, e.name, e.enterprise_code, e.province, e.registered_workers,
       coalesce(i.insured, 0) AS insured, ref.period AS reference_month
FROM employers e CROSS JOIN ref
LEFT JOIN insured i ON i.employer_code = e.employer_code
WHERE e.status = 'active' AND e.registered_workers >= {SMALL_EMPLOYER}
  AND coalesce(i.insured, 0) < {UNDER_DECLARED_SHARE} * e.registered_workers
  AND e.registered_workers - coalesce(i.insured, 0) >= {MIN_SHORTFALL}
ORDER BY e.employer_code
"""


def _under_declared(r: Row) -> Finding:
    missing = r["registered_workers"] - r["insured"]
    share = r["insured"] / r["registered_workers"]
    month = _d(r["reference_month"])[:7]
    return Finding(
        subject_type="employer",
        subject_id=r["employer_code"],
        province=r["province"],
        evidence_key=f"month:{month}",
        evidence=evidence_of(r),
        explanation_vi=(
            f"Đơn vị {r['employer_code']} ({r['name']}) đăng ký kinh doanh {r['registered_workers']:,} "
            f"lao động nhưng chỉ {r['insured']:,} người tham gia BHXH tháng {month} "
            f"({share:.0%}, thiếu {missing:,} người; ngưỡng dưới {UNDER_DECLARED_SHARE:.0%}): "
            "có dấu hiệu trốn đóng cho một phần người lao động."
        ),
        explanation_en=(
            f"Employer {r['employer_code']} ({r['name']}) registered {r['registered_workers']:,} "
            f"workers with the business registry but insured only {r['insured']:,} with BHXH "
            f"in {month} ({share:.0%}, {missing:,} short; threshold below "
            f"{UNDER_DECLARED_SHARE:.0%}): some workers may be kept off the insurance."
        ),
    )


STOPPED_SQL = f"""
WITH {_REFERENCE}, paid AS (
    SELECT employer_code, max(period) AS last_period, max({month_index("period")}) AS last_m,
           count(DISTINCT bhxh_code) AS contributors, sum(bhxh_amount) AS bhxh_paid
    FROM contributions GROUP BY employer_code
)
SELECT e.employer_code, e.name, e.enterprise_code, e.province, e.registered_workers,
       p.last_period, p.contributors, i.insured, ref.period AS reference_month,
       ref.m - p.last_m AS months_without
FROM employers e CROSS JOIN ref
JOIN paid p ON p.employer_code = e.employer_code
JOIN insured i ON i.employer_code = e.employer_code
WHERE e.status = 'active' AND i.insured > 0 AND ref.m - p.last_m >= {STOPPED_MONTHS}
ORDER BY e.employer_code
"""
"""An active employer (status from the business registry) that paid before, still declares
insured workers (open BHXH periods), and has paid nothing for 3 months or more. An employer
whose workers all left or died has no open period and is not flagged."""


def _stopped(r: Row) -> Finding:
    last = _d(r["last_period"])[:7]
    month = _d(r["reference_month"])[:7]
    return Finding(
        subject_type="employer",
        subject_id=r["employer_code"],
        province=r["province"],
        evidence_key=f"last_paid:{last}",
        evidence=evidence_of(r),
        explanation_vi=(
            f"Đơn vị {r['employer_code']} ({r['name']}) vẫn hoạt động theo đăng ký kinh doanh và "
            f"còn {r['insured']:,} người đang tham gia BHXH, nhưng không đóng từ sau tháng "
            f"{last} ({r['months_without']} tháng tính đến tháng {month}; trước đó đã đóng cho "
            f"{r['contributors']:,} người): dấu hiệu nợ, trốn đóng."
        ),
        explanation_en=(
            f"Employer {r['employer_code']} ({r['name']}) is active in the business registry "
            f"and still has {r['insured']:,} workers in open BHXH periods, but has paid nothing "
            f"after {last} ({r['months_without']} months up to {month}; it paid for "
            f"{r['contributors']:,} people before): arrears or evasion."
        ),
    )


EMPLOYER_RULES: tuple[Rule, ...] = (
    Rule(
        "employer_under_declared",
        UNDER_DECLARED_SQL,
        _under_declared,
    ),
    Rule(
        "contributions_stopped",
        STOPPED_SQL,
        _stopped,
    ),
)
