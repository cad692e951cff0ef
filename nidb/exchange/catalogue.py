"""What can be exchanged: information groups, purposes, services and kinds of partner."""

from __future__ import annotations

from dataclasses import dataclass

from nidb.domain.staff import StaffRole

INFO_GROUPS: dict[str, str] = {
    "a": "Thông tin cơ bản về cá nhân (basic personal data)",
    "b": "Thông tin liên hệ (contact)",
    "c": "Thông tin hộ gia đình (household)",
    "d": "Bảo hiểm xã hội: quá trình đóng, hưởng (social insurance: contributions, benefits)",
    "dd": "Bảo hiểm y tế: thẻ, mức hưởng, nơi KCB ban đầu (health insurance: cards)",
    "e": "Bảo hiểm thất nghiệp (unemployment insurance)",
    "g": "Đơn vị sử dụng lao động (employer)",
    "h": "Thông tin y tế cơ bản (basic health information)",
    "i": "An sinh xã hội (social welfare)",
}
"""Decree 43/2021 Art. 6.1 groups; ``dd`` stands for (đ)."""

PURPOSES: dict[str, str] = {
    "KCB": "Khám bệnh, chữa bệnh BHYT (insured health care)",
    "GQCD": "Giải quyết chế độ, chính sách (benefit decisions)",
    "XTDC": "Xác thực thông tin công dân (identity verification)",
    "QLLD": "Quản lý lao động, việc làm (labour and employment)",
    "THUE": "Quản lý thuế (tax administration)",
    "CHITRA": "Chi trả lương hưu, trợ cấp qua ngân hàng (benefit payment by banks)",
    "ANSINH": "Chính sách an sinh xã hội (social welfare)",
    "THONGKE": "Thống kê, báo cáo (statistics and reporting)",
    "THANHTRA": "Thanh tra, kiểm tra (inspection)",
    "THONGBAO": "Thông báo biến động dữ liệu cho bên đăng ký (change notifications to subscribers)",
    "TINDUNG": "Thẩm định cho vay, khi công dân đồng ý (loan appraisal, with the citizen's consent)",
}

CONSENT_PURPOSES: dict[str, str] = {"TINDUNG": "bank_loan"}
"""Purposes that are no legal duty of the reader (Decree 13/2023 Art. 11): a read for them needs
the person's own consent, the portal's consent topic named here, in force when the read is made
(a grant alone is not enough; withdrawing the consent stops the next read)."""

PARTNER_KINDS: dict[str, str] = {
    "population": "Bộ Công an — CSDL quốc gia về dân cư",
    "business": "Bộ Kế hoạch và Đầu tư / Tài chính — CSDL đăng ký doanh nghiệp",
    "health": "Bộ Y tế",
    "hospital": "Cơ sở khám bệnh, chữa bệnh",
    "molisa": "Bộ Lao động - Thương binh và Xã hội — CSDL an sinh xã hội",
    "tax": "Cơ quan thuế",
    "bank": "Ngân hàng",
    "province": "Ủy ban nhân dân cấp tỉnh",
    "other": "Cơ quan khác",
}

ROLES: dict[str, str] = {role.value: role.label for role in StaffRole}
"""Roles of a staff API token (`nidb token create --role`), as the console names them: the
staff roles of ``nidb.domain.staff``, which also says what each may do."""


@dataclass(frozen=True, slots=True)
class Service:
    """A request/response service: what it needs granted and what it may return."""

    name: str
    title_vi: str
    required_group: str
    """The caller must hold this group for the service to answer at all."""
    optional_groups: tuple[str, ...] = ()
    """Further groups the answer includes only when the caller holds them too."""
    bulk: bool = False
    """A bulk extract service: it has no grant of its own; the caller's grant for the service
    named in the body (and the message's purpose) decides, subject by subject."""

    @property
    def groups(self) -> tuple[str, ...]:
        return (self.required_group, *self.optional_groups)


SERVICES: dict[str, Service] = {
    service.name: service
    for service in (
        Service("card.check/v1", "Tra cứu thẻ BHYT khi khám chữa bệnh", "dd"),
        Service(
            "person.summary/v1",
            "Thông tin tóm tắt của người tham gia",
            "a",
            ("b", "c", "d", "dd", "e"),
        ),
        Service(
            "participation.history/v1",
            "Quá trình tham gia BHXH, BHYT, BHTN",
            "d",
            ("dd", "e"),
        ),
        Service("employer.headcount/v1", "Số lao động tham gia của đơn vị", "g"),
        Service("extract.submit/v1", "Yêu cầu trích xuất hàng loạt", "", bulk=True),
        Service("extract.status/v1", "Tình trạng yêu cầu trích xuất", "", bulk=True),
        Service("extract.result/v1", "Kết quả trích xuất (theo trang)", "", bulk=True),
        Service(
            "visits.submit/v1",
            "Gửi dữ liệu khám chữa bệnh BHYT (bảng tổng hợp, QĐ 130/QĐ-BYT)",
            "h",
        ),
        Service(
            "claims.submit/v1",
            "Gửi hồ sơ đề nghị thanh toán BHYT (XML 130, QĐ 130/QĐ-BYT)",
            "h",
        ),
        Service("visits.history/v1", "Lịch sử khám chữa bệnh BHYT", "h", ("dd",)),
        Service("claims.settlement/v1", "Quyết toán chi phí KCB BHYT theo quý của cơ sở", "h"),
        Service("fhir.coverage/v1", "Tra cứu thẻ BHYT khi khám chữa bệnh (HL7 FHIR R4)", "dd"),
        Service("fhir.visits/v1", "Lịch sử khám chữa bệnh BHYT (HL7 FHIR R4)", "h", ("dd",)),
    )
}


def parse_groups(text: str) -> tuple[str, ...]:
    """Read ``"a,dd"`` into known group codes (``đ`` accepted for ``dd``); raises ValueError."""
    groups: list[str] = []
    for part in text.replace(" ", "").split(","):
        code = "dd" if part in ("đ", "Đ") else part.lower()
        if code not in INFO_GROUPS:
            raise ValueError(
                f"unknown information group {part!r} (known: {', '.join(INFO_GROUPS)})"
            )
        if code not in groups:
            groups.append(code)
    if not groups:
        raise ValueError("at least one information group is required")
    return tuple(groups)
