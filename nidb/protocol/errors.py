"""Coded refusals of the exchange layer, in Vietnamese and English, with their HTTP status."""

from __future__ import annotations

from enum import StrEnum


class RefusalCode(StrEnum):
    """Why a partner message was refused (the ``error.code`` of a refusal envelope)."""

    MALFORMED = "E_MALFORMED"
    UNSIGNED = "E_UNSIGNED"
    BAD_SIGNATURE = "E_BAD_SIGNATURE"
    UNKNOWN_SENDER = "E_UNKNOWN_SENDER"
    SENDER_SUSPENDED = "E_SENDER_SUSPENDED"
    WRONG_RECEIVER = "E_WRONG_RECEIVER"
    WRONG_SERVICE = "E_WRONG_SERVICE"
    NOT_GRANTED = "E_NOT_GRANTED"
    STALE = "E_STALE"
    FUTURE = "E_FUTURE"
    REPLAY = "E_REPLAY"
    RATE_LIMITED = "E_RATE_LIMITED"
    BODY_INVALID = "E_BODY_INVALID"
    SUBJECT_NOT_FOUND = "E_SUBJECT_NOT_FOUND"


_TEXT: dict[RefusalCode, tuple[int, str, str]] = {
    RefusalCode.MALFORMED: (400, "Thông điệp không đúng cấu trúc", "malformed message"),
    RefusalCode.UNSIGNED: (401, "Thông điệp chưa được ký", "message is not signed"),
    RefusalCode.BAD_SIGNATURE: (
        401,
        "Chữ ký số không hợp lệ hoặc nội dung đã bị sửa đổi",
        "signature does not verify (wrong key or tampered content)",
    ),
    RefusalCode.UNKNOWN_SENDER: (401, "Hệ thống gửi chưa được đăng ký", "unknown sender"),
    RefusalCode.SENDER_SUSPENDED: (403, "Hệ thống gửi đang bị tạm dừng", "sender is suspended"),
    RefusalCode.WRONG_RECEIVER: (
        400,
        "Thông điệp không gửi tới CSDL quốc gia về bảo hiểm",
        "message is addressed to another receiver",
    ),
    RefusalCode.WRONG_SERVICE: (
        400,
        "Dịch vụ trong thông điệp không khớp với địa chỉ gọi",
        "header service does not match the endpoint",
    ),
    RefusalCode.NOT_GRANTED: (
        403,
        "Hệ thống gửi không được cấp quyền dùng dịch vụ này cho mục đích này",
        "sender is not granted this service for this purpose",
    ),
    RefusalCode.STALE: (401, "Thông điệp đã quá hạn", "message is too old"),
    RefusalCode.FUTURE: (401, "Thời điểm gửi nằm ở tương lai", "message is dated in the future"),
    RefusalCode.REPLAY: (409, "Thông điệp đã được gửi trước đó", "message_id was already used"),
    RefusalCode.RATE_LIMITED: (
        429,
        "Vượt quá số yêu cầu cho phép mỗi giây",
        "rate limit exceeded",
    ),
    RefusalCode.BODY_INVALID: (422, "Nội dung yêu cầu không hợp lệ", "request body is invalid"),
    RefusalCode.SUBJECT_NOT_FOUND: (
        404,
        "Không tìm thấy người hoặc đơn vị được hỏi",
        "no such person or employer",
    ),
}


class Refused(Exception):
    """A message refused by the gate or a service; carries what the refusal envelope says."""

    def __init__(self, code: RefusalCode, detail: str | None = None) -> None:
        self.code = code
        self.status, self.message_vi, self.message_en = _TEXT[code]
        self.detail = detail
        super().__init__(f"{code}: {self.message_en}" + (f" ({detail})" if detail else ""))

    def as_body(self) -> dict[str, object]:
        error: dict[str, object] = {
            "code": str(self.code),
            "message_vi": self.message_vi,
            "message_en": self.message_en,
        }
        if self.detail:
            error["detail"] = self.detail
        return {"error": error}
