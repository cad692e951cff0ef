"""The catalogue of kept data with a retention period: what each kind is, how long it is kept,
from when the period counts, why that long, and how its items past the period are found.

Each kind's period is a setting (``NIDB_RETENTION_*_DAYS``, `nidb.settings`). Table kinds name
the key of their items past the period (`TableKind.past`) and remove a batch of them by key
(`TableKind.remove`) in the caller's transaction; the access log (a hash chain) and the
rejected-row files (files, not rows) have their own ways, in ``nidb.retention.runner``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, delete, exists, select

from nidb.settings import Settings
from nidb.store import models
from nidb.store.models_employers import EmployerMessage
from nidb.store.models_notify import NotifyDelivery
from nidb.store.models_services import Dossier, DossierFile
from nidb.store.models_web import CorrectionEvidence, CorrectionRequest, SignInRequest, WebSession


@dataclass(frozen=True)
class Kind:
    """One kind of kept data with a retention period."""

    key: str
    title_vi: str
    setting: str
    """The ``Settings`` field holding the period in days."""
    counted_from_vi: str
    why_vi: str
    """The basis of the default period: a legal rule where there is one, else the reasoning."""

    def days(self, settings: Settings) -> int:
        """The period in force, in days."""
        return int(getattr(settings, self.setting))

    def cutoff(self, settings: Settings, now: datetime) -> datetime:
        """Items whose period counts from before this moment are past it."""
        return now - timedelta(days=self.days(settings))


@dataclass(frozen=True)
class TableKind(Kind):
    """A kind kept as rows: ``past(cutoff)`` selects their keys, ``remove`` deletes a batch."""

    past: Callable[[datetime], Select[Any]]
    remove: Callable[[Connection, list[Any]], None]


def _evidence_past(cutoff: datetime) -> Select[Any]:
    decided = select(CorrectionRequest.id).where(
        CorrectionRequest.status.in_(("accepted", "rejected")),
        CorrectionRequest.decided_at < cutoff,
    )
    return (
        select(CorrectionEvidence.id)
        .where(CorrectionEvidence.request_id.in_(decided))
        .order_by(CorrectionEvidence.id)
    )


def _evidence_remove(conn: Connection, keys: list[Any]) -> None:
    conn.execute(delete(CorrectionEvidence).where(CorrectionEvidence.id.in_(keys)))


def _dossier_files_past(cutoff: datetime) -> Select[Any]:
    closed = select(Dossier.id).where(Dossier.closed_at < cutoff)
    return select(DossierFile.id).where(DossierFile.dossier_id.in_(closed)).order_by(DossierFile.id)


def _dossier_files_remove(conn: Connection, keys: list[Any]) -> None:
    conn.execute(delete(DossierFile).where(DossierFile.id.in_(keys)))


def _sessions_past(cutoff: datetime) -> Select[Any]:
    return select(WebSession.id).where(WebSession.expires_at < cutoff).order_by(WebSession.id)


def _sessions_remove(conn: Connection, keys: list[Any]) -> None:
    conn.execute(delete(WebSession).where(WebSession.id.in_(keys)))


def _sign_ins_past(cutoff: datetime) -> Select[Any]:
    return (
        select(SignInRequest.state)
        .where(SignInRequest.expires_at < cutoff)
        .order_by(SignInRequest.state)
    )


def _sign_ins_remove(conn: Connection, keys: list[Any]) -> None:
    conn.execute(delete(SignInRequest).where(SignInRequest.state.in_(keys)))


_EVENT, _DELIVERY = models.OutboxEvent, models.Delivery


def _outbox_past(cutoff: datetime) -> Select[Any]:
    owed = exists().where(
        _DELIVERY.event_id == _EVENT.id, _DELIVERY.status.in_(("pending", "dead"))
    )
    return (
        select(_EVENT.id)
        .where(_EVENT.dispatched_at.is_not(None), _EVENT.dispatched_at < cutoff, ~owed)
        .order_by(_EVENT.id)
    )


def _outbox_remove(conn: Connection, keys: list[Any]) -> None:
    conn.execute(delete(_DELIVERY).where(_DELIVERY.event_id.in_(keys)))
    conn.execute(delete(_EVENT).where(_EVENT.id.in_(keys)))


def _notify_past(cutoff: datetime) -> Select[Any]:
    d = NotifyDelivery
    sent = (d.status == "sent") & (d.sent_at < cutoff)
    failed = (d.status == "failed") & (d.next_attempt_at < cutoff)  # about the last attempt
    return select(d.id).where(sent | failed).order_by(d.id)


def _notify_remove(conn: Connection, keys: list[Any]) -> None:
    conn.execute(delete(NotifyDelivery).where(NotifyDelivery.id.in_(keys)))


def _messages_past(cutoff: datetime) -> Select[Any]:
    return (
        select(EmployerMessage.message_id)
        .where(EmployerMessage.received_at < cutoff)
        .order_by(EmployerMessage.message_id)
    )


def _messages_remove(conn: Connection, keys: list[Any]) -> None:
    conn.execute(delete(EmployerMessage).where(EmployerMessage.message_id.in_(keys)))


_JOB, _ITEM = models.ExtractJob, models.ExtractItem


def _extracts_past(cutoff: datetime) -> Select[Any]:
    return (
        select(_JOB.id)
        .where(_JOB.status.in_(("done", "failed")), _JOB.finished_at < cutoff)
        .order_by(_JOB.id)
    )


def _extracts_remove(conn: Connection, keys: list[Any]) -> None:
    conn.execute(delete(_ITEM).where(_ITEM.job_id.in_(keys)))
    conn.execute(delete(_JOB).where(_JOB.id.in_(keys)))


ACCESS_LOG = Kind(
    "access_log",
    "Nhật ký truy cập dữ liệu cá nhân",
    "retention_access_log_days",
    "lúc truy cập",
    "5 năm: người được hỏi có quyền biết ai đã xử lý dữ liệu của mình (Nghị định 13/2023/NĐ-CP) "
    "và đòi bồi thường trong 3 năm kể từ khi biết (Bộ luật Dân sự 2015, Điều 588); nhật ký hệ "
    "thống giữ tối thiểu 12 tháng (Nghị định 53/2022/NĐ-CP, Điều 27, chưa đối chiếu văn bản). "
    "Không dưới 365 ngày.",
)
REJECTED_FILES = Kind(
    "rejected_files",
    "Tệp dòng bị loại khi nhập (FILE.rejected.csv)",
    "retention_rejected_files_days",
    "lúc ghi tệp",
    "90 ngày: đủ một quý để cán bộ sửa tệp và nhập lại; tệp chứa dữ liệu cá nhân của dòng lỗi "
    "nên không giữ lâu hơn mục đích (tối thiểu hoá, Nghị định 13/2023/NĐ-CP).",
)
TABLE_KINDS = (
    TableKind(
        "correction_evidence",
        "Tệp minh chứng của yêu cầu điều chỉnh",
        "retention_evidence_days",
        "lúc quyết định yêu cầu",
        "1 năm sau quyết định: thời hạn khiếu nại quyết định hành chính là 90 ngày (Luật Khiếu "
        "nại 2011, Điều 9), thêm thời gian giải quyết; sau đó dữ liệu đã điều chỉnh nằm trong hồ "
        "sơ, bản chụp giấy tờ không còn cần (tối thiểu hoá).",
        _evidence_past,
        _evidence_remove,
    ),
    TableKind(
        "dossier_files",
        "Giấy tờ kèm hồ sơ dịch vụ công",
        "retention_dossier_files_days",
        "lúc đóng hồ sơ",
        "5 năm sau khi đóng hồ sơ: thanh tra, kiểm toán chi trả chế độ xem lại hồ sơ nhiều năm "
        "sau; chưa tìm thấy quy định riêng cho tệp điện tử kèm hồ sơ (cần đối chiếu).",
        _dossier_files_past,
        _dossier_files_remove,
    ),
    TableKind(
        "web_sessions",
        "Phiên đăng nhập web đã hết hạn",
        "retention_sessions_days",
        "lúc hết hạn",
        "Xoá ngay khi hết hạn: phiên hết hạn không còn dùng được; việc đăng nhập đã ghi ở nhật "
        "ký kiểm toán.",
        _sessions_past,
        _sessions_remove,
    ),
    TableKind(
        "sign_in_requests",
        "Lượt đăng nhập VNeID dang dở",
        "retention_sessions_days",
        "lúc hết hạn",
        "Xoá ngay khi hết hạn (10 phút): chỉ dùng một lần cho một lượt đăng nhập.",
        _sign_ins_past,
        _sign_ins_remove,
    ),
    TableKind(
        "outbox_events",
        "Sự kiện đã gửi xong cho đối tác",
        "retention_outbox_days",
        "lúc phân phối",
        "90 ngày sau khi mọi đối tác đã nhận (hoặc bỏ qua): đủ để đối chiếu khi đối tác báo "
        "thiếu; sự kiện còn chờ gửi hoặc lỗi không bao giờ bị xoá.",
        _outbox_past,
        _outbox_remove,
    ),
    TableKind(
        "notify_deliveries",
        "Thư điện tử, SMS đã gửi cho công dân, đơn vị",
        "retention_notify_days",
        "lúc gửi (hoặc lần thử cuối)",
        "1 năm: đủ để trả lời khi công dân, đơn vị nói không nhận được thông báo; nội dung vẫn "
        "còn ở nguồn (thông báo trên cổng, nhắc nợ, nhật ký truy cập); lần gửi còn chờ không "
        "bao giờ bị xoá.",
        _notify_past,
        _notify_remove,
    ),
    TableKind(
        "employer_messages",
        "Mã thông điệp của đơn vị (chống gửi lại)",
        "retention_message_ids_days",
        "lúc nhận",
        "30 ngày: thông điệp cũ hơn 5 phút đã bị từ chối vì quá hạn, nên mã cũ không còn tác "
        "dụng chống gửi lại; giữ thêm để tra soát.",
        _messages_past,
        _messages_remove,
    ),
    TableKind(
        "extract_jobs",
        "Kết quả trích xuất hàng loạt của đối tác",
        "retention_extract_days",
        "lúc xong việc",
        "30 ngày: đủ để đối tác tải kết quả; mỗi lần tải đã ghi nhật ký truy cập, bản sao kết "
        "quả không cần giữ lâu hơn.",
        _extracts_past,
        _extracts_remove,
    ),
)
KINDS: tuple[Kind, ...] = (ACCESS_LOG, *TABLE_KINDS, REJECTED_FILES)
"""Every kind, in the order `nidb retention show` lists them."""
BY_KEY = {kind.key: kind for kind in KINDS}
