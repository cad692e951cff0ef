"""Catalogues: beneficiary groups, insurance schemes, contribution rates and the base salary.

Every figure that the law may change lives here, dated, so a rule change is one new entry.
Sources and confidence are in reference/domain-research.md §4 and §7; figures marked
*(verify)* there are still to be checked against the legal text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from nidb.domain.errors import InvalidDate, Rule

__all__ = [
    "BASE_SALARY_HISTORY",
    "BENEFICIARY_GROUPS",
    "CONTRIBUTION_RATES",
    "LATE_INTEREST_BP_PER_DAY",
    "REGIONAL_MINIMUM_WAGES",
    "WAGE_CAP_MULTIPLE",
    "BaseSalary",
    "BeneficiaryGroup",
    "ContributionRate",
    "Fund",
    "Payer",
    "Scheme",
    "base_salary",
    "contribution_amounts",
    "household_premium",
    "rates_on",
    "regional_minimum_wage",
    "round_half_up",
]


class Payer(StrEnum):
    """Who pays a beneficiary group's health-insurance contribution."""

    EMPLOYER_EMPLOYEE = "employer_employee"  # người lao động và người sử dụng lao động đóng
    SOCIAL_INSURANCE_FUND = "social_insurance_fund"  # tổ chức BHXH đóng
    STATE_BUDGET = "state_budget"  # ngân sách nhà nước đóng
    STATE_SUBSIDISED = "state_subsidised"  # ngân sách nhà nước hỗ trợ mức đóng
    HOUSEHOLD = "household"  # tham gia theo hộ gia đình


@dataclass(frozen=True, slots=True)
class BeneficiaryGroup:
    """A participant type (mã đối tượng) printed as the first two letters of a BHYT card."""

    code: str
    payer: Payer
    default_benefit_level: int  # 1..5, the level this group alone gives (mức hưởng)
    name_vi: str


# Decision 1351/QĐ-BHXH (2015): 43 codes. Payers and levels as in domain-research.md §4; the
# exact code -> level table is unconfirmed there, so levels are defaults, never enforced on cards.
_E, _S, _B, _P, _H = (
    Payer.EMPLOYER_EMPLOYEE,
    Payer.SOCIAL_INSURANCE_FUND,
    Payer.STATE_BUDGET,
    Payer.STATE_SUBSIDISED,
    Payer.HOUSEHOLD,
)
_GROUPS: tuple[tuple[str, Payer, int, str], ...] = (
    ("DN", _E, 4, "Người lao động trong doanh nghiệp"),
    ("HX", _E, 4, "Người lao động trong hợp tác xã"),
    ("CH", _E, 4, "Người lao động trong cơ quan nhà nước, đơn vị sự nghiệp, tổ chức"),
    ("NN", _E, 4, "Người lao động trong cơ quan, tổ chức nước ngoài, quốc tế tại Việt Nam"),
    ("TK", _E, 4, "Người lao động trong các tổ chức khác"),
    ("HC", _E, 4, "Cán bộ, công chức, viên chức"),
    ("XK", _E, 4, "Người hoạt động không chuyên trách ở cấp xã"),
    ("HT", _S, 3, "Người hưởng lương hưu, trợ cấp mất sức lao động hằng tháng"),
    ("TB", _S, 4, "Người hưởng trợ cấp tai nạn lao động, bệnh nghề nghiệp hằng tháng"),
    ("NO", _S, 4, "Người lao động nghỉ việc hưởng chế độ ốm đau dài ngày"),
    ("CT", _S, 4, "Người từ đủ 80 tuổi hưởng trợ cấp tuất hằng tháng"),
    ("XB", _S, 4, "Cán bộ xã đã nghỉ việc hưởng trợ cấp BHXH hằng tháng"),
    ("TN", _S, 4, "Người hưởng trợ cấp thất nghiệp"),
    ("CS", _S, 4, "Công nhân cao su nghỉ việc hưởng trợ cấp hằng tháng"),
    ("QN", _B, 5, "Quân nhân"),
    ("CA", _B, 5, "Công an nhân dân"),
    ("CY", _B, 5, "Người làm công tác cơ yếu"),
    ("XN", _B, 4, "Cán bộ xã đã nghỉ việc hưởng trợ cấp hằng tháng từ ngân sách"),
    ("MS", _B, 4, "Người thôi hưởng trợ cấp mất sức lao động hưởng trợ cấp hằng tháng"),
    ("CC", _B, 1, "Người có công với cách mạng"),
    ("CK", _B, 2, "Người có công với cách mạng (nhóm khác)"),
    ("CB", _B, 2, "Cựu chiến binh"),
    ("KC", _B, 2, "Người tham gia kháng chiến"),
    ("HD", _B, 4, "Đại biểu Quốc hội, đại biểu Hội đồng nhân dân đương nhiệm"),
    ("TE", _B, 1, "Trẻ em dưới 6 tuổi"),
    ("BT", _B, 2, "Người hưởng trợ cấp bảo trợ xã hội hằng tháng"),
    ("HN", _B, 2, "Người thuộc hộ nghèo"),
    ("DT", _B, 2, "Người dân tộc thiểu số ở vùng khó khăn"),
    ("DK", _B, 2, "Người sống ở vùng đặc biệt khó khăn"),
    ("XD", _B, 2, "Người sống ở xã đảo, huyện đảo"),
    ("TS", _B, 2, "Thân nhân liệt sĩ"),
    ("TC", _B, 3, "Thân nhân người có công với cách mạng"),
    ("TQ", _B, 4, "Thân nhân quân nhân"),
    ("TA", _B, 4, "Thân nhân công an nhân dân"),
    ("TY", _B, 4, "Thân nhân người làm công tác cơ yếu"),
    ("HG", _B, 4, "Người đã hiến bộ phận cơ thể"),
    ("LS", _B, 4, "Lưu học sinh nước ngoài có học bổng ngân sách Việt Nam"),
    ("PV", _B, 4, "Người phục vụ người có công với cách mạng"),
    ("CN", _P, 3, "Người thuộc hộ cận nghèo"),
    ("HS", _P, 4, "Học sinh"),
    ("SV", _P, 4, "Sinh viên"),
    ("GB", _P, 4, "Hộ nông, lâm, ngư, diêm nghiệp có mức sống trung bình"),
    ("GD", _H, 4, "Người tham gia theo hộ gia đình"),
)
BENEFICIARY_GROUPS: Mapping[str, BeneficiaryGroup] = MappingProxyType(
    {code: BeneficiaryGroup(code, payer, level, name) for code, payer, level, name in _GROUPS}
)


class Scheme(StrEnum):
    """An insurance scheme; the values are the codes used in interchange files."""

    BHXH = "BHXH"
    BHYT = "BHYT"
    BHTN = "BHTN"

    @property
    def name_vi(self) -> str:
        """The scheme's Vietnamese name."""
        return _SCHEME_NAMES_VI[self]

    @property
    def name_en(self) -> str:
        """The scheme's English name."""
        return _SCHEME_NAMES_EN[self]


_SCHEME_NAMES_VI = {
    Scheme.BHXH: "Bảo hiểm xã hội",
    Scheme.BHYT: "Bảo hiểm y tế",
    Scheme.BHTN: "Bảo hiểm thất nghiệp",
}
_SCHEME_NAMES_EN = {
    Scheme.BHXH: "social insurance",
    Scheme.BHYT: "health insurance",
    Scheme.BHTN: "unemployment insurance",
}


class Fund(StrEnum):
    """A component fund that a compulsory contribution goes to."""

    PENSION_SURVIVORS = "pension_survivors"  # hưu trí, tử tuất
    SICKNESS_MATERNITY = "sickness_maternity"  # ốm đau, thai sản
    OCCUPATIONAL = "occupational"  # tai nạn lao động, bệnh nghề nghiệp
    HEALTH = "health"  # bảo hiểm y tế
    UNEMPLOYMENT = "unemployment"  # bảo hiểm thất nghiệp


@dataclass(frozen=True, slots=True)
class ContributionRate:
    """One fund's compulsory rates for Vietnamese employees over a period.

    Rates are in basis points (1/100 of a percent) so amounts are computed in integers.
    """

    scheme: Scheme
    fund: Fund
    employee_bp: int
    employer_bp: int
    valid_from: date
    valid_to: date | None  # last day; None: still in force


_SINCE_2014 = date(2014, 1, 1)  # SI Law 2014 rates; employee pension share 8% from this date
_OCCUPATIONAL_CUT = date(2017, 6, 1)  # Decree 44/2017/NĐ-CP: occupational fund 1% -> 0.5%

# Sources: Law on Social Insurance 2024 (41/2024/QH15, from 01/07/2025; the 2014 law before it)
# and Decree 158/2025/NĐ-CP for the BHXH funds; the Law on Health Insurance for BHYT; the Law on
# Employment 2013 (2025 from 2026) for BHTN. reference/domain-research.md §7 confirms the
# breakdown only as [P] (QĐ 595/QĐ-BHXH as quoted in public code): the rates are standard, the
# articles are to be verified against the legal texts.
# The optional 0.3% occupational rate (eligible employers) and the temporary cuts of 2021-22
# depend on the employer, not the date alone, so they are not modelled here.
CONTRIBUTION_RATES: tuple[ContributionRate, ...] = (
    ContributionRate(Scheme.BHXH, Fund.PENSION_SURVIVORS, 800, 1400, _SINCE_2014, None),
    ContributionRate(Scheme.BHXH, Fund.SICKNESS_MATERNITY, 0, 300, _SINCE_2014, None),
    ContributionRate(Scheme.BHXH, Fund.OCCUPATIONAL, 0, 100, _SINCE_2014, date(2017, 5, 31)),
    ContributionRate(Scheme.BHXH, Fund.OCCUPATIONAL, 0, 50, _OCCUPATIONAL_CUT, None),
    ContributionRate(Scheme.BHYT, Fund.HEALTH, 150, 300, _SINCE_2014, None),
    ContributionRate(Scheme.BHTN, Fund.UNEMPLOYMENT, 100, 100, _SINCE_2014, None),
)


@dataclass(frozen=True, slots=True)
class BaseSalary:
    """The statutory base salary (lương cơ sở) from a date, in đồng per month."""

    amount: int
    valid_from: date


# The 2019, 2023 and 2024 values are in domain-research.md §7; the earlier ones are the
# decrees' well-known figures (66/2013, 47/2016, 47/2017, 72/2018), kept so that older
# contribution history can be priced. Newest last.
BASE_SALARY_HISTORY: tuple[BaseSalary, ...] = (
    BaseSalary(1_150_000, date(2013, 7, 1)),
    BaseSalary(1_210_000, date(2016, 5, 1)),
    BaseSalary(1_300_000, date(2017, 7, 1)),
    BaseSalary(1_390_000, date(2018, 7, 1)),
    BaseSalary(1_490_000, date(2019, 7, 1)),
    BaseSalary(1_800_000, date(2023, 7, 1)),
    BaseSalary(2_340_000, date(2024, 7, 1)),  # Decree 73/2024/NĐ-CP
)

WAGE_CAP_MULTIPLE = 20  # SI and HI contribution wages are capped at 20 x the base salary

# Household HI (Decree 146/2018 Art. 7): the first member pays 4.5% of the base salary a
# month; the 2nd, 3rd, 4th pay 70%, 60%, 50% of that; the 5th and later 40%.
_HOUSEHOLD_FIRST_BP = 450
_HOUSEHOLD_SHARE_PCT = (100, 70, 60, 50, 40)


def _before_catalogue(on: date, what_vi: str, what_en: str) -> InvalidDate:
    return InvalidDate(
        "date",
        on,
        Rule.DATE_TOO_OLD,
        f"chưa có {what_vi} cho ngày này trong danh mục",
        f"no {what_en} in the catalogue for this date",
    )


def base_salary(on: date) -> int:
    """The base salary (lương cơ sở) in force on a day, in đồng per month.

    Raises InvalidDate (DATE_TOO_OLD) before the first catalogued value (2013-07-01).
    """
    for entry in reversed(BASE_SALARY_HISTORY):
        if entry.valid_from <= on:
            return entry.amount
    raise _before_catalogue(on, "mức lương cơ sở", "base salary")


def rates_on(on: date) -> tuple[ContributionRate, ...]:
    """The contribution rates in force on a day, one per fund.

    Raises InvalidDate (DATE_TOO_OLD) before 2014-01-01.
    """
    found = tuple(
        r
        for r in CONTRIBUTION_RATES
        if r.valid_from <= on and (r.valid_to is None or on <= r.valid_to)
    )
    if not found:
        raise _before_catalogue(on, "tỷ lệ đóng", "contribution rate")
    return found


def round_half_up(numerator: int, denominator: int) -> int:
    """Divide non-negative integers, rounding halves up (Python's round() rounds to even)."""
    return (2 * numerator + denominator) // (2 * denominator)


_round_half_up = round_half_up


@dataclass(frozen=True, slots=True)
class RegionalMinimumWages:
    """The regional minimum monthly wages (mức lương tối thiểu vùng) from a date, in đồng.

    ``by_region[0]`` is region I (vùng I, the highest) … ``by_region[3]`` region IV. Which region
    an employer is in depends on its district (the decree's annex), so it is recorded per employer.
    """

    by_region: tuple[int, int, int, int]
    valid_from: date
    source: str


# Not in reference/domain-research.md (marked U there for the UI ceiling only): the figures are
# the decrees' published tables, to be verified against the legal text. Newest last.
REGIONAL_MINIMUM_WAGES: tuple[RegionalMinimumWages, ...] = (
    RegionalMinimumWages(
        (4_420_000, 3_920_000, 3_430_000, 3_070_000), date(2020, 1, 1), "Nghị định 90/2019/NĐ-CP"
    ),
    RegionalMinimumWages(
        (4_680_000, 4_160_000, 3_640_000, 3_250_000), date(2022, 7, 1), "Nghị định 38/2022/NĐ-CP"
    ),
    RegionalMinimumWages(
        (4_960_000, 4_410_000, 3_860_000, 3_450_000), date(2024, 7, 1), "Nghị định 74/2024/NĐ-CP"
    ),
    RegionalMinimumWages(
        (5_310_000, 4_730_000, 4_140_000, 3_700_000),
        date(2026, 1, 1),
        "Nghị định 293/2025/NĐ-CP (verify)",
    ),
)

UI_WAGE_CAP_MULTIPLE = 20
"""BHTN contribution wages are capped at 20 x the regional minimum wage (Law on Employment 2013
Art. 58; kept by the Law on Employment 2025) — domain-research.md §7 [U]."""

LATE_INTEREST_BP_PER_DAY = 3
"""Late payment (chậm đóng): 0.03% per day of the amount paid late, in basis points per day.
Law on Social Insurance 2024 (41/2024/QH15) Art. 40 (from 01/07/2025); not in
reference/domain-research.md, so [U]: to be verified against the law's text."""


def regional_minimum_wage(region: int, on: date) -> int:
    """The regional minimum monthly wage of region 1..4 (vùng I..IV) in force on a day, in đồng.

    Raises ValueError for a region outside 1..4 and InvalidDate before 2020-01-01.
    """
    if region not in (1, 2, 3, 4):
        raise ValueError(f"region must be 1..4: {region}")
    for entry in reversed(REGIONAL_MINIMUM_WAGES):
        if entry.valid_from <= on:
            return entry.by_region[region - 1]
    raise _before_catalogue(on, "mức lương tối thiểu vùng", "regional minimum wage")


def contribution_amounts(wage: int, on: date) -> dict[Scheme, int]:
    """Employee plus employer contribution per scheme for a monthly wage, in đồng.

    The SI and HI wage is capped at 20 x the base salary in force on `on`. The UI cap
    (20 x the regional minimum wage) depends on the employer's region and is not applied.
    Each scheme's total is rounded half up once. Raises ValueError for a negative wage and
    InvalidDate for a day before the catalogues.
    """
    if wage < 0:
        raise ValueError(f"wage must not be negative: {wage}")
    cap = WAGE_CAP_MULTIPLE * base_salary(on)
    basis_points: dict[Scheme, int] = dict.fromkeys(Scheme, 0)
    for rate in rates_on(on):
        basis_points[rate.scheme] += rate.employee_bp + rate.employer_bp
    amounts: dict[Scheme, int] = {}
    for scheme, bp in basis_points.items():
        base = wage if scheme is Scheme.BHTN else min(wage, cap)
        amounts[scheme] = _round_half_up(base * bp, 10_000)
    return amounts


def household_premium(member_index: int, months: int, on: date) -> int:
    """Household health-insurance premium (BHYT hộ gia đình) for one member, in đồng.

    `member_index` is 1 for the first member of the household, 2 for the second, and so on;
    `months` is the length of coverage bought; `on` is the payment day, whose base salary
    prices every month. Rounded half up once, on the total. Raises ValueError for a member
    index below 1 or negative months.
    """
    if member_index < 1:
        raise ValueError(f"member_index starts at 1: {member_index}")
    if months < 0:
        raise ValueError(f"months must not be negative: {months}")
    share = _HOUSEHOLD_SHARE_PCT[min(member_index, len(_HOUSEHOLD_SHARE_PCT)) - 1]
    numerator = base_salary(on) * _HOUSEHOLD_FIRST_BP * share * months
    return _round_half_up(numerator, 10_000 * 100)
