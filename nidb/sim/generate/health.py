"""Health-insurance catalogues the generator draws from: beneficiary groups and diagnoses."""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import numpy.typing as npt


class Group(IntEnum):
    """Beneficiary groups (mã đối tượng) the generator uses, as small integers."""

    TE = 0  # children under 6
    HS = 1  # pupils
    SV = 2  # students
    DN = 3  # employees of enterprises
    HC = 4  # civil servants and public employees
    HT = 5  # pensioners
    GD = 6  # households
    CN = 7  # near-poor households
    BT = 8  # social-protection beneficiaries (the very old without a pension)
    CC = 9  # people with meritorious services
    QN = 10  # army
    CA = 11  # police


GROUP_CODES: tuple[str, ...] = tuple(group.name for group in Group)

BENEFIT_LEVEL: dict[Group, int] = {
    Group.TE: 1,
    Group.CC: 1,
    Group.BT: 2,
    Group.HT: 3,
    Group.CN: 3,
    Group.DN: 4,
    Group.HC: 4,
    Group.HS: 4,
    Group.SV: 4,
    Group.GD: 4,
    Group.QN: 5,
    Group.CA: 5,
}
"""Each group's default benefit level (mức hưởng), Decision 1351/QĐ-BHXH."""

INSURER_SHARE_BY_LEVEL: dict[int, float] = {1: 1.0, 2: 1.0, 3: 0.95, 4: 0.80, 5: 1.0}
"""Share of covered costs the fund pays at each benefit level."""

EMPLOYEE_GROUPS = (Group.DN, Group.HC)


def level_of(groups: npt.NDArray[np.int8]) -> npt.NDArray[np.int8]:
    """Benefit level of each group code."""
    table = np.array([BENEFIT_LEVEL[Group(g)] for g in range(len(Group))], dtype=np.int8)
    return table[groups]


def insurer_share_of(levels: npt.NDArray[np.int8]) -> npt.NDArray[np.float64]:
    """Share the fund pays, per benefit level."""
    table = np.array([0.0] + [INSURER_SHARE_BY_LEVEL[k] for k in range(1, 6)])
    return table[levels]


# (ICD-10 code, outpatient weight, inpatient weight)
DIAGNOSES: tuple[tuple[str, float, float], ...] = (
    ("J06.9", 14.0, 0.5),
    ("I10", 12.0, 2.0),
    ("E11.9", 6.0, 1.5),
    ("K29.7", 5.0, 1.0),
    ("J02.9", 4.0, 0.2),
    ("J20.9", 4.0, 1.5),
    ("J18.9", 1.0, 8.0),
    ("M54.5", 3.0, 0.5),
    ("K21.9", 2.5, 0.3),
    ("E78.5", 3.0, 0.2),
    ("I25.1", 1.5, 2.0),
    ("J45.9", 1.2, 1.5),
    ("J44.9", 1.2, 3.0),
    ("N39.0", 1.5, 1.5),
    ("A09", 1.5, 3.0),
    ("K52.9", 1.0, 1.0),
    ("R50.9", 1.5, 1.0),
    ("R51", 1.0, 0.1),
    ("H10.9", 1.2, 0.0),
    ("H52.4", 1.0, 0.0),
    ("H25.9", 0.8, 2.0),
    ("K02.9", 1.5, 0.0),
    ("K05.1", 0.8, 0.0),
    ("L30.9", 1.5, 0.1),
    ("B34.9", 1.5, 0.8),
    ("A91", 0.3, 2.5),
    ("A90", 0.4, 1.0),
    ("I63.9", 0.4, 5.0),
    ("I64", 0.2, 2.0),
    ("I50.9", 0.6, 3.0),
    ("I20.9", 0.6, 2.0),
    ("I48", 0.3, 1.0),
    ("E04.9", 0.6, 0.3),
    ("E03.9", 0.4, 0.1),
    ("M17.9", 1.2, 0.5),
    ("M19.9", 0.8, 0.2),
    ("M81.9", 0.5, 0.2),
    ("M10.9", 0.5, 0.3),
    ("N18.9", 0.5, 2.0),
    ("N20.0", 0.5, 1.5),
    ("K80.2", 0.4, 2.5),
    ("K35.8", 0.1, 3.0),
    ("K40.9", 0.2, 1.5),
    ("K74.6", 0.3, 1.5),
    ("B18.1", 0.8, 0.5),
    ("K76.0", 0.8, 0.2),
    ("C22.0", 0.1, 1.5),
    ("C34.9", 0.1, 1.5),
    ("C50.9", 0.15, 1.0),
    ("C16.9", 0.05, 0.8),
    ("O80", 0.0, 4.0),
    ("Z34.9", 0.6, 0.0),
    ("S52.5", 0.2, 1.0),
    ("S72.0", 0.05, 1.5),
    ("S06.0", 0.1, 1.5),
    ("T14.0", 0.6, 0.3),
    ("F32.9", 0.3, 0.3),
    ("F41.9", 0.4, 0.2),
    ("G40.9", 0.3, 0.5),
    ("G43.9", 0.4, 0.1),
    ("R10.4", 1.0, 0.5),
    ("J30.4", 0.8, 0.0),
    ("J32.9", 0.6, 0.2),
    ("J03.9", 1.0, 0.3),
    ("H66.9", 0.8, 0.2),
    ("D64.9", 0.4, 1.0),
    ("Z00.0", 2.0, 0.0),
    ("N40", 0.4, 0.8),
    ("K59.0", 0.5, 0.1),
    ("K30", 0.8, 0.1),
    ("R42", 0.8, 0.8),
    ("B08.4", 0.4, 1.5),
    ("A15.0", 0.1, 1.0),
    ("U07.1", 0.2, 0.5),
)

ICD10_CODES: tuple[str, ...] = tuple(code for code, _, _ in DIAGNOSES)


def diagnosis_weights(inpatient: bool) -> npt.NDArray[np.float64]:
    """Probabilities of each diagnosis in `DIAGNOSES`, for outpatient or inpatient visits."""
    weights = np.array([w[2] if inpatient else w[1] for w in DIAGNOSES], dtype=np.float64)
    return np.asarray(weights / weights.sum(), dtype=np.float64)
