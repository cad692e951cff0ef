"""The Vietnamese words of stored codes, as Jinja filters every page uses (issue 17: no raw
code, English word or ISO date on a screen).

Each filter takes its words from the vocabulary's one owner (identity reasons, detection rules,
the exchange catalogue, nidb.domain.display) and adds only what no owner names yet: the audit
log's actions and subject types, and the record columns the review page shows.
"""

from __future__ import annotations

from typing import Any

from nidb.detect.rules import RULES
from nidb.domain import display
from nidb.domain.review import DEDUPE_REASONS
from nidb.exchange.catalogue import PURPOSES, SERVICES
from nidb.identity.reasons import Reason
from nidb.web.templating import env

__all__ = [
    "AUDIT_ACTIONS",
    "COLUMNS",
    "SUBJECT_TYPES",
    "column_label",
    "field_value",
    "install",
]

COLUMNS = {
    "full_name": "Họ và tên",
    "name_base": "Họ và tên (không dấu)",
    "date_of_birth": "Ngày sinh",
    "dob_precision": "Độ chính xác của ngày sinh",
    "birth_year": "Năm sinh",
    "gender": "Giới tính",
    "birth_province": "Tỉnh nơi sinh",
    "declared_id": "Số giấy tờ khai báo",
    "declared_id_kind": "Loại giấy tờ khai báo",
    "address": "Địa chỉ",
    "permanent_address": "Địa chỉ thường trú",
    "status": "Tình trạng",
    "death_date": "Ngày mất",
    "old_id": "Số CMND cũ",
    "verified_personal_id": "Số định danh đã xác thực",
}
"""Columns of a person record and of the population extract."""

_PRECISION = {"day": "ngày, tháng, năm", "month": "tháng, năm", "year": "chỉ năm"}
_ID_KINDS = {
    "personal": "số định danh cá nhân (12 số)",
    "cccd": "số định danh cá nhân (12 số)",
    "cmnd": "chứng minh nhân dân (9 số)",
}

AUDIT_ACTIONS = {
    "staff.sign_in": "Cán bộ đăng nhập",
    "staff.sign_in_failed": "Cán bộ đăng nhập không thành công",
    "staff.sign_in_password": "Cán bộ nhập đúng mật khẩu, chờ xác thực hai bước",
    "citizen.sign_in": "Công dân đăng nhập",
    "citizen.sign_in_failed": "Công dân đăng nhập không thành công",
    "citizen.correction_request": "Công dân gửi yêu cầu điều chỉnh",
    "citizen.consent": "Công dân thay đổi đồng ý chia sẻ",
    "citizen.data_export": "Công dân tải dữ liệu của mình",
    "retention.started": "Bắt đầu xoá dữ liệu hết thời hạn lưu trữ",
    "retention.applied": "Xoá dữ liệu hết thời hạn lưu trữ",
    "staff_user.create": "Tạo tài khoản cán bộ",
    "staff_user.set_password": "Đặt lại mật khẩu cán bộ",
    "staff_user.enable": "Mở lại tài khoản cán bộ",
    "staff_user.disable": "Khóa tài khoản cán bộ",
    "staff_user.enrol_2fa": "Cán bộ bật xác thực hai bước",
    "staff_user.reset_2fa": "Đặt lại xác thực hai bước của cán bộ",
    "identity.review_accepted": "Chấp nhận mục đối soát",
    "identity.review_rejected": "Từ chối mục đối soát",
    "review.view": "Xem mục đối soát",
    "review.accept": "Chấp nhận mục đối soát",
    "review.reject": "Từ chối mục đối soát",
    "correction.decided": "Quyết định yêu cầu điều chỉnh",
    "dossier.opened": "Mở hồ sơ dịch vụ công",
    "dossier.viewed": "Xem hồ sơ dịch vụ công",
    "payment.paid": "Đã thanh toán",
    "payment.refund_needed": "Cần hoàn tiền",
    "payment.callback_refused": "Từ chối thông báo thanh toán",
    "token.create": "Cấp mã truy cập API",
    "register.batch_imported": "Nạp một lô dữ liệu",
    "quality.saved": "Lưu kết quả đo chất lượng dữ liệu",
    "dedupe.queue": "Đề xuất gộp hồ sơ trùng",
    "dedupe.merge": "Gộp hồ sơ trùng",
    "dedupe.unmerge": "Hoàn tác gộp hồ sơ trùng",
    "merge": "Gộp mã số BHXH",
    "unmerge": "Hoàn tác gộp mã số BHXH",
    "employer.enrolled": "Đăng ký giao dịch điện tử cho đơn vị",
    "employer.key_added": "Thêm khoá ký của đơn vị",
    "employer.key_revoked": "Thu hồi khoá ký của đơn vị",
    "employer.password_set": "Đặt mật khẩu trang đơn vị",
    "employer.unlocked": "Mở khoá đăng nhập của đơn vị",
    "employer.sign_in": "Đơn vị đăng nhập",
    "employer.sign_in_failed": "Đơn vị đăng nhập không thành công",
    "employer.password_changed": "Đơn vị đổi mật khẩu",
    "employer.password_change_failed": "Đơn vị đổi mật khẩu không thành công",
}
"""Audit-log actions in words (the log keeps the code; the page shows this)."""

SUBJECT_TYPES = {
    "person_record": "hồ sơ",
    "persons": "hồ sơ",
    "citizen": "công dân",
    "staff_user": "tài khoản cán bộ",
    "dossier": "hồ sơ dịch vụ công",
    "payment": "khoản thanh toán",
    "partner": "đối tác",
    "api_token": "mã truy cập API",
    "subscription": "đăng ký nhận thông báo",
    "import_batch": "lô dữ liệu",
    "quality_snapshot": "kết quả đo chất lượng",
    "code_merge": "gộp mã số BHXH",
    "alert": "cảnh báo",
    "review_item": "mục đối soát",
    "correction": "yêu cầu điều chỉnh",
    "correction_request": "yêu cầu điều chỉnh",
    "retention": "thời hạn lưu trữ",
    "employer": "đơn vị sử dụng lao động",
}


def column_label(column: str) -> str:
    """A record column in words (``full_name`` → ``Họ và tên``)."""
    return COLUMNS.get(column, "trường khác")


def field_value(value: Any, field: str) -> str:
    """A stored value of ``field`` as people read it: gender in words, dates dd/mm/yyyy…"""
    if value is None or value == "":
        return "—"
    text = str(value)
    if field == "gender":
        return display.gender_label(text) or "—"
    if field == "status":
        return display.LIFE_STATUS_LABELS.get(text, text)
    if field == "dob_precision":
        return _PRECISION.get(text, text)
    if field == "declared_id_kind":
        return _ID_KINDS.get(text, text)
    if field in ("date_of_birth", "death_date"):
        return display.vn_partial_date(text)
    if field == "birth_province":
        return birth_province_label(text)
    return text


def birth_province_label(code: str) -> str:
    """A birth-registration province as people read it: its name then (the 63-province list,
    which personal IDs use), and the province it belongs to since 1 July 2025 if another.

    >>> birth_province_label("080"), birth_province_label("01"), birth_province_label("999")
    ('Long An (nay thuộc Tây Ninh)', 'Hà Nội', '999')
    """
    from datetime import date

    from nidb.domain.errors import InvalidProvinceCode
    from nidb.domain.provinces import province, successor

    try:
        then = province(code, on=date(2025, 6, 30), field="birth_province")
        now = province(successor(code), on=date(2025, 7, 1), field="birth_province")
    except InvalidProvinceCode:
        return code  # not a province code: shown as recorded
    return then.name if now.name == then.name else f"{then.name} (nay thuộc {now.name})"


def reason_label(code: str) -> str:
    """An identity reason code in Vietnamese."""
    try:
        return Reason(code).label
    except ValueError:
        return DEDUPE_REASONS.get(code, ("lý do khác", ""))[0]


def rule_label(name: str) -> str:
    """A detection rule's Vietnamese title."""
    rule = RULES.get(name)
    return rule.title_vi if rule else "quy tắc khác"


STAFF_READS = {
    "access.history/v1": "Cán bộ xem lịch sử truy cập dữ liệu của bạn",
    "correction.evidence/v1": "Cán bộ tải giấy tờ của yêu cầu điều chỉnh",
    "correction.view/v1": "Cán bộ xem yêu cầu điều chỉnh",
    "review.list/v1": "Cán bộ xem danh sách đối soát danh tính",
    "review.view/v1": "Cán bộ xem mục đối soát danh tính",
    "claims.view/v1": "Cán bộ giám định xem hồ sơ khám chữa bệnh BHYT",
}
"""Staff reads of a person's data (console and staff API), as the person's access page names
them; they are not partner services, so not in the exchange's catalogue."""


def service_label(name: str) -> str:
    """A partner service's Vietnamese title."""
    service = SERVICES.get(name)
    return service.title_vi if service else "dịch vụ khác"


def purpose_label(code: str | None) -> str:
    """A purpose code's Vietnamese words (the part before the English in brackets)."""
    if not code:
        return ""
    return PURPOSES.get(code, {"DUYET_HO_SO": "Đối soát hồ sơ"}.get(code, "mục đích khác")).split(
        " (", 1
    )[0]


def install() -> None:
    """Add the label filters to the one Jinja environment (idempotent)."""
    env.filters["column_label"] = column_label
    env.filters["field_value"] = field_value
    env.filters["reason_label"] = reason_label
    env.filters["rule_label"] = rule_label
    env.filters["service_label"] = service_label
    env.filters["purpose_label"] = purpose_label
    env.filters["audit_action"] = lambda code: AUDIT_ACTIONS.get(code, "thao tác khác")
    env.filters["subject_type"] = lambda code: SUBJECT_TYPES.get(code or "", "đối tượng khác")
