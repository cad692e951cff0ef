"""The texts of notifications, in Vietnamese: no codes, dates dd/mm/yyyy, money in đồng.

Each template gives an e-mail (subject, body) and an SMS text short enough for a few segments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from nidb.domain.display import vn_date, vn_datetime, vn_money
from nidb.exchange.catalogue import INFO_GROUPS, PURPOSES, SERVICES

__all__ = ["AccessRead", "Message", "access_digest", "citizen_notice", "debt_reminder"]

AGENCY = "Bảo hiểm xã hội Việt Nam"
PORTAL_HINT = "Xem chi tiết tại Cổng công dân, mục Thông báo."
SMS_MAX = 600


@dataclass(frozen=True, slots=True)
class Message:
    """One notice: the e-mail's subject and body, and the SMS text."""

    subject: str
    body: str
    sms: str


@dataclass(frozen=True, slots=True)
class AccessRead:
    """One read of a citizen's data, as the notice tells it."""

    at: datetime
    who: str
    """The partner's name or "Cán bộ cơ quan BHXH (username)"."""
    service: str
    purpose: str | None
    fields: str | None


def _sms(text: str) -> str:
    return text if len(text) <= SMS_MAX else text[: SMS_MAX - 1] + "…"


def _vi(label: str) -> str:
    """The Vietnamese part of a catalogue label "Tiếng Việt (English)"."""
    return label.split(" (", 1)[0]


def service_words(service: str) -> str:
    """What was looked up, in words (never the service's code)."""
    known = SERVICES.get(service)
    if known is not None:
        return known.title_vi
    if service.startswith("access.") or service.startswith("review.") or "correction" in service:
        return "Xem hồ sơ để xử lý nghiệp vụ"
    return "Tra cứu dữ liệu bảo hiểm"


def purpose_words(purpose: str | None) -> str:
    """Why, in words."""
    if purpose and purpose in PURPOSES:
        return _vi(PURPOSES[purpose])
    return "Nghiệp vụ của cơ quan BHXH"


def groups_words(fields: str | None) -> str:
    """The information groups read, in words (codes outside Decree 43's groups are left out)."""
    codes = [c.strip() for c in (fields or "").replace(";", ",").split(",") if c.strip()]
    return "; ".join(_vi(INFO_GROUPS[c]) for c in codes if c in INFO_GROUPS)


def citizen_notice(name: str, text_vi: str, created_at: datetime) -> Message:
    """A notification the portal shows (dossier received, decided, card renewed…)."""
    subject = f"Thông báo từ {AGENCY}"
    body = (
        f"Kính gửi {name},\n\n"
        f"{text_vi}\n"
        f"(Thông báo lúc {vn_datetime(created_at)}.)\n\n"
        f"{PORTAL_HINT}\n"
        "Bạn có thể ngừng nhận thư này trong mục Cài đặt thông báo của Cổng công dân.\n\n"
        f"{AGENCY}\n"
    )
    return Message(subject, body, _sms(f"BHXH: {text_vi} ({vn_datetime(created_at)})"))


def debt_reminder(
    name: str, code: str, month: date, debt: int, months: int, oldest: date, due_by: date
) -> Message:
    """An employer's debt reminder (Law on Social Insurance 2024, Art. 34 and 40)."""
    month_words = f"tháng {month:%m/%Y}"
    subject = f"Thông báo nợ đóng BHXH, BHYT, BHTN — {month_words}"
    body = (
        f"Kính gửi {name},\n\n"
        f"Đến {month_words}, đơn vị còn nợ {vn_money(debt)} tiền đóng bảo hiểm xã hội, bảo hiểm "
        f"y tế, bảo hiểm thất nghiệp của {months} tháng, từ tháng {oldest:%m/%Y} "
        f"(hạn nộp là ngày {vn_date(due_by)}).\n"
        "Số tiền chậm đóng bị tính lãi 0,03% mỗi ngày (Luật Bảo hiểm xã hội 2024, Điều 40).\n"
        "Đề nghị đơn vị nộp ngay; khi chuyển khoản xin ghi nội dung "
        f'"BHXH {code}".\n\n'
        "Cơ quan Bảo hiểm xã hội\n"
    )
    sms = (
        f"BHXH: {name} còn nợ {vn_money(debt)} của {months} tháng (từ tháng {oldest:%m/%Y}). "
        f"Đề nghị nộp ngay, nội dung chuyển khoản: BHXH {code}."
    )
    return Message(subject, body, _sms(sms))


def access_digest(name: str, reads: list[AccessRead], shown: int = 10) -> Message:
    """Who read the citizen's data and why, since the last notice (most recent first)."""
    reads = sorted(reads, key=lambda r: r.at, reverse=True)
    count = len(reads)
    subject = f"Dữ liệu của bạn vừa được xem {count} lần"
    lines = []
    for read in reads[:shown]:
        groups = groups_words(read.fields)
        lines.append(
            f"- {vn_datetime(read.at)}: {read.who} — {service_words(read.service)}; "
            f"mục đích: {purpose_words(read.purpose)}"
            + (f"; thông tin: {groups}" if groups else "")
        )
    more = f"\n… và {count - shown} lần khác.\n" if count > shown else "\n"
    body = (
        f"Kính gửi {name},\n\n"
        f"Từ lần thông báo trước, dữ liệu bảo hiểm của bạn đã được xem {count} lần:\n"
        + "\n".join(lines)
        + more
        + "\nNếu có lần xem nào bạn thấy không đúng, hãy báo cho cơ quan BHXH qua Cổng công dân "
        "(mục Ai đã xem dữ liệu của tôi) hoặc tổng đài 1900 9068.\n"
        "Bạn có thể ngừng nhận thông báo này trong mục Cài đặt thông báo.\n\n"
        f"{AGENCY}\n"
    )
    latest = reads[0]
    sms = (
        f"BHXH: dữ liệu của bạn được xem {count} lần, gần nhất {vn_datetime(latest.at)} "
        f"bởi {latest.who} ({purpose_words(latest.purpose)}). Chi tiết: Cổng công dân."
    )
    return Message(subject, body, _sms(sms))
