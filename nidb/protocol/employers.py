"""What an employer's software (or an I-VAN provider signing for it) and nidb agree on: the
member an employer signs as, the services, the purpose and the HTTP paths.

An employer signs as ``VN/DN/<employer_code>/KBDT`` to the receiver ``VN/GOV/BHXH/CSDLBH``, for
the purpose ``KBDT`` (kê khai điện tử, electronic declaration), with the envelope of
INTERCHANGE.md ("Partner messages"). docs/employers.md describes the bodies.
"""

from __future__ import annotations

import re

__all__ = [
    "DECLARATION_PATH",
    "DECLARATION_SERVICE",
    "EMPLOYER_MEMBER",
    "EMPLOYER_PURPOSE",
    "STATUS_PATH",
    "STATUS_SERVICE",
    "employer_member",
]

DECLARATION_SERVICE = "employer.declaration/v1"
STATUS_SERVICE = "employer.status/v1"
EMPLOYER_PURPOSE = "KBDT"
DECLARATION_PATH = "/employers/v1/declarations"
STATUS_PATH = "/employers/v1/status"
EMPLOYER_MEMBER = re.compile(r"^VN/DN/([A-Za-z0-9-]{1,20})/KBDT$")


def employer_member(employer_code: str) -> str:
    """The member id an employer signs as."""
    return f"VN/DN/{employer_code}/KBDT"
