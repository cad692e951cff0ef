"""The data subject's export (Decree 13/2023/NĐ-CP): everything nidb holds about a citizen, as
a ZIP of JSON files with a README in Vietnamese, streamed as it is read.

"About a citizen" is decided as the portal decides it (``nidb.store.people``): the participant
records verified as the personal ID VNeID vouched for, and the BHXH codes found there; then
every table keyed by that personal ID or those codes. Rows are written as stored, minus what is
internal to nidb (import batch numbers, hashes of the access-log chain, message ids, request
details, file contents kept for staff) and minus other people: identity links to another
personal ID are left out, and a dossier that names another person shows only its kind, state
and dates. Each file is one JSON object ``{"tep", "mo_ta", "ban_ghi": [...]}``; the
``21-tong-hop.json`` file counts the records of every file.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Executable, Table, or_, select

from nidb.store import models, models_claims, people
from nidb.store.models_contributions import ContributionLine
from nidb.store.models_employers import IssuedBhxhCode
from nidb.store.models_employment import DeclaredWage
from nidb.store.models_notify import NotifyContact, NotifyDelivery
from nidb.store.models_services import Dossier, DossierEvent, DossierFile, Notification, Payment
from nidb.store.models_web import ConsentChoice, CorrectionEvidence, CorrectionRequest

CHUNK_BYTES = 64 * 1024
"""The stream hands the ZIP on in pieces of about this size."""
INTERNAL_COLUMNS = frozenset({"batch_id", "name_base"})
"""Columns of nidb's own bookkeeping, left out of every file."""


@dataclass(frozen=True)
class Subject:
    """Whose export: the personal ID and the BHXH codes of the records verified as it."""

    personal_id: str
    codes: tuple[str, ...]


def subject_of(conn: Connection, personal_id: str) -> Subject:
    """The subject as the portal sees them (verified records only)."""
    return Subject(personal_id, tuple(people.codes_of(conn, personal_id, include_open_links=False)))


Rows = Callable[[Connection, Subject], Iterator[dict[str, Any]]]


@dataclass(frozen=True)
class Section:
    """One JSON file of the export."""

    filename: str
    title_vi: str
    describe_vi: str
    rows: Rows


def _plain(row: Any, drop: frozenset[str] = frozenset()) -> dict[str, Any]:
    return {
        key: value
        for key, value in dict(row._mapping).items()
        if key not in INTERNAL_COLUMNS and key not in drop
    }


def _stream(
    conn: Connection, statement: Executable, drop: frozenset[str] = frozenset()
) -> Iterator[dict[str, Any]]:
    result = conn.execution_options(stream_results=True, yield_per=1000).execute(statement)
    for row in result:
        yield _plain(row, drop)


def _table_rows(
    table: Any, column: str, by: str, order: Any, drop: frozenset[str] = frozenset()
) -> Rows:
    """Rows of ``table`` whose ``column`` is the subject's personal ID (``by="pid"``) or one of
    their BHXH codes (``by="codes"``)."""
    tbl: Table = table.__table__

    def rows(conn: Connection, subject: Subject) -> Iterator[dict[str, Any]]:
        keys = [subject.personal_id] if by == "pid" else list(subject.codes)
        if not keys:
            return
        statement = select(tbl).where(tbl.c[column].in_(keys)).order_by(*order(tbl))
        for record in _stream(conn, statement, drop):
            # a row found by BHXH code may carry the personal ID someone declared with it
            if record.get("personal_id") not in (None, subject.personal_id):
                record["personal_id"] = None
            yield record

    return rows


def _notify_rows(table: Any, order: str) -> Rows:
    """A citizen's rows of a notification table (``party_kind`` citizen, ``party_id`` the
    personal ID): their addresses, every e-mail and SMS sent to them."""
    tbl: Table = table.__table__

    def rows(conn: Connection, subject: Subject) -> Iterator[dict[str, Any]]:
        statement = (
            select(tbl)
            .where(tbl.c.party_kind == "citizen", tbl.c.party_id == subject.personal_id)
            .order_by(tbl.c[order])
        )
        yield from _stream(conn, statement)

    return rows


def _citizen(conn: Connection, subject: Subject) -> Iterator[dict[str, Any]]:
    row = people.citizen(conn, subject.personal_id)
    if row is not None:
        yield _plain(row)


def _records(conn: Connection, subject: Subject) -> Iterator[dict[str, Any]]:
    for row in people.records_of(conn, subject.personal_id):
        yield _plain(row)


def _merges(conn: Connection, subject: Subject) -> Iterator[dict[str, Any]]:
    if not subject.codes:
        return
    merge = models.CodeMerge.__table__
    yield from _stream(
        conn,
        select(merge)
        .where(or_(merge.c.kept_code.in_(subject.codes), merge.c.retired_code.in_(subject.codes)))
        .order_by(merge.c.id),
    )


def _claims(conn: Connection, subject: Subject) -> Iterator[dict[str, Any]]:
    if not subject.codes:
        return
    claims, lines = models_claims.Claim.__table__, models_claims.ClaimLine.__table__
    versions = models_claims.ClaimVersion.__table__
    found = conn.execute(
        select(claims).where(claims.c.bhxh_code.in_(subject.codes)).order_by(claims.c.admitted_at)
    ).all()
    for claim in found:
        record = _plain(claim)
        record["dong"] = [
            _plain(line, frozenset({"claim_id"}))
            for line in conn.execute(
                select(lines).where(lines.c.claim_id == claim.id).order_by(lines.c.line_no)
            )
        ]
        record["phien_ban_truoc"] = [
            _plain(version, frozenset({"claim_id", "id"}))
            for version in conn.execute(
                select(versions).where(versions.c.claim_id == claim.id).order_by(versions.c.version)
            )
        ]
        yield record


def _dossiers(conn: Connection, subject: Subject) -> Iterator[dict[str, Any]]:
    table = Dossier.__table__
    pid = subject.personal_id
    found = conn.execute(
        select(table)
        .where(or_(table.c.applicant_personal_id == pid, table.c.subject_personal_id == pid))
        .order_by(table.c.id)
    ).all()
    for dossier in found:
        own = dossier.applicant_personal_id in (pid, None) and dossier.subject_personal_id in (
            pid,
            None,
        )
        record = {
            "id": dossier.id,
            "kind": dossier.kind,
            "state": dossier.state,
            "submitted_at": dossier.submitted_at,
            "updated_at": dossier.updated_at,
            "closed_at": dossier.closed_at,
            "ban_la": "người nộp"
            if dossier.applicant_personal_id == pid
            else "người được giải quyết",
        }
        if own:
            record["applicant_bhxh_code"] = dossier.applicant_bhxh_code
            record["data"] = dossier.data
            record["events"] = [
                _plain(event, frozenset({"dossier_id", "id"}))
                for event in conn.execute(
                    select(DossierEvent.__table__)
                    .where(DossierEvent.dossier_id == dossier.id)
                    .order_by(DossierEvent.id)
                )
            ]
            record["payments"] = [
                dict(row._mapping)
                for row in conn.execute(
                    select(
                        Payment.reference, Payment.amount, Payment.status, Payment.created_at,
                        Payment.paid_at,
                    ).where(Payment.dossier_id == dossier.id)
                )
            ]  # fmt: skip
            record["files"] = [
                dict(row._mapping)
                for row in conn.execute(
                    select(
                        DossierFile.filename, DossierFile.content_type, DossierFile.size,
                        DossierFile.sha256, DossierFile.created_at,
                    ).where(DossierFile.dossier_id == dossier.id)
                )
            ]  # fmt: skip
        yield record


def _corrections(conn: Connection, subject: Subject) -> Iterator[dict[str, Any]]:
    table = CorrectionRequest.__table__
    found = conn.execute(
        select(table).where(table.c.personal_id == subject.personal_id).order_by(table.c.id)
    ).all()
    for request in found:
        record = _plain(request)
        record["evidence"] = [
            dict(row._mapping)
            for row in conn.execute(
                select(
                    CorrectionEvidence.filename, CorrectionEvidence.content_type,
                    CorrectionEvidence.size_bytes, CorrectionEvidence.sha256,
                    CorrectionEvidence.uploaded_at,
                ).where(CorrectionEvidence.request_id == request.id)
            )
        ]  # fmt: skip
        yield record


def _reads(conn: Connection, subject: Subject) -> Iterator[dict[str, Any]]:
    if not subject.codes:
        return
    log = models.AccessLogEntry
    yield from _stream(
        conn,
        select(
            log.occurred_at,
            log.actor,
            log.service,
            log.purpose,
            log.subject,
            log.fields,
            log.result,
        )
        .where(log.subject.in_(subject.codes))
        .order_by(log.occurred_at),
    )


def _audit(conn: Connection, subject: Subject) -> Iterator[dict[str, Any]]:
    audit = models.AuditEntry
    yield from _stream(
        conn,
        select(
            audit.occurred_at,
            audit.actor,
            audit.action,
            audit.subject_type,
            audit.subject_id,
            audit.purpose,
        )
        .where(audit.subject_id.in_([subject.personal_id, *subject.codes]))
        .order_by(audit.id),
    )


def _by_code_date(column: str) -> Callable[[Table], list[Any]]:
    return lambda t: [t.c.bhxh_code, t.c[column]]


SECTIONS: tuple[Section, ...] = (
    Section("01-cong-dan.json", "Thông tin công dân",
            "Thông tin của bạn theo Cơ sở dữ liệu quốc gia về dân cư: họ tên, ngày sinh, giới "
            "tính, nơi đăng ký khai sinh, nơi thường trú, mã hộ, tình trạng.", _citizen),
    Section("02-ho-so-tham-gia.json", "Hồ sơ người tham gia",
            "Các hồ sơ bảo hiểm đã được xác thực là của bạn, với kết quả xác thực với dữ liệu dân "
            "cư (verification_status, verification_reasons).", _records),
    Section("03-lien-ket-ma-so.json", "Liên kết mã số BHXH với số định danh",
            "Lịch sử gắn mã số BHXH với số định danh của bạn: nguồn, từ ngày, đến ngày.",
            _table_rows(models.IdentityLink, "personal_id", "pid", lambda t: [t.c.id])),
    Section("04-ma-so-da-cap.json", "Mã số BHXH đã cấp",
            "Mã số BHXH cơ quan BHXH đã cấp cho bạn, ai cấp và khi nào.",
            _table_rows(IssuedBhxhCode, "personal_id", "pid", lambda t: [t.c.bhxh_code])),
    Section("05-gop-so.json", "Gộp sổ", "Các lần gộp mã số BHXH trùng của bạn (gộp sổ) và lý do.",
            _merges),
    Section("06-qua-trinh-tham-gia.json", "Quá trình tham gia",
            "Các giai đoạn tham gia BHXH, BHYT, BHTN: đơn vị, đối tượng, từ tháng, đến tháng.",
            _table_rows(models.ParticipationPeriod, "bhxh_code", "codes", _by_code_date("start_month"))),
    Section("07-lao-dong-tien-luong.json", "Quan hệ lao động và tiền lương khai báo",
            "Tiền lương đơn vị khai báo cho bạn: đơn vị, từ tháng, đến tháng, loại hợp đồng, các "
            "quỹ tham gia.",
            _table_rows(DeclaredWage, "bhxh_code", "codes", _by_code_date("from_month"))),
    Section("08-dong-gop.json", "Đóng góp theo tháng",
            "Số tiền đóng BHXH, BHYT, BHTN từng tháng qua từng đơn vị (đồng).",
            _table_rows(models.Contribution, "bhxh_code", "codes", _by_code_date("period"))),
    Section("09-so-phai-dong.json", "Số phải đóng theo từng quỹ",
            "Số phải đóng mỗi tháng chia theo quỹ, phần người lao động và phần đơn vị, kể cả điều "
            "chỉnh (kind = adjustment).",
            _table_rows(ContributionLine, "bhxh_code", "codes", _by_code_date("month"))),
    Section("10-the-bhyt.json", "Thẻ BHYT",
            "Các thẻ BHYT của bạn: mã thẻ, mức hưởng, nơi đăng ký khám chữa bệnh ban đầu, hạn "
            "dùng, tình trạng.",
            _table_rows(models.HealthCard, "bhxh_code", "codes", _by_code_date("valid_from"))),
    Section("11-kham-chua-benh.json", "Lượt khám chữa bệnh",
            "Các lượt khám chữa bệnh BHYT: cơ sở, ngày vào, ngày ra, chẩn đoán (ICD-10), chi phí.",
            _table_rows(models.HealthVisit, "bhxh_code", "codes", _by_code_date("admitted_at"))),
    Section("12-de-nghi-thanh-toan-bhyt.json", "Đề nghị thanh toán chi phí KCB",
            "Hồ sơ cơ sở y tế đề nghị quỹ BHYT thanh toán cho các lượt khám của bạn, từng dòng "
            "thuốc và dịch vụ (dong), các lần gửi trước (phien_ban_truoc) và kết quả giám định.", _claims),
    Section("13-che-do.json", "Chế độ BHXH",
            "Các chế độ đã giải quyết cho bạn: loại, từ ngày, đến ngày, số tiền, tình trạng.",
            _table_rows(models.Benefit, "bhxh_code", "codes", _by_code_date("start_date"))),
    Section("14-tro-giup-xa-hoi.json", "Trợ giúp xã hội",
            "Thông tin trợ giúp xã hội của bạn nhận từ Bộ LĐTB&XH.",
            _table_rows(models.WelfareBeneficiary, "personal_id", "pid", lambda t: [t.c.start_date])),
    Section("15-ho-so-dich-vu-cong.json", "Hồ sơ dịch vụ công",
            "Hồ sơ dịch vụ công bạn nộp hoặc được giải quyết cho bạn, các bước xử lý, thanh toán và "
            "danh sách giấy tờ kèm theo. Hồ sơ có thông tin của người khác chỉ ghi loại, trạng thái "
            "và ngày.", _dossiers),
    Section("16-thong-bao.json", "Thông báo", "Các thông báo cơ quan BHXH đã gửi cho bạn.",
            _table_rows(Notification, "personal_id", "pid", lambda t: [t.c.id])),
    Section("16b-dia-chi-nhan-thong-bao.json", "Địa chỉ nhận thông báo",
            "Thư điện tử và số điện thoại di động bạn cho để nhận thông báo.",
            _notify_rows(NotifyContact, "party_id")),
    Section("16c-thong-bao-da-gui.json", "Thông báo đã gửi qua thư điện tử, SMS",
            "Mỗi lần gửi thông báo cho bạn: kênh, địa chỉ, nội dung, số lần thử, kết quả.",
            _notify_rows(NotifyDelivery, "id")),
    Section("17-dong-y-chia-se.json", "Đồng ý chia sẻ",
            "Các lựa chọn đồng ý chia sẻ dữ liệu của bạn, cả lịch sử thay đổi.",
            _table_rows(ConsentChoice, "personal_id", "pid", lambda t: [t.c.id])),
    Section("18-yeu-cau-dieu-chinh.json", "Yêu cầu điều chỉnh",
            "Các yêu cầu điều chỉnh thông tin bạn đã gửi, quyết định và danh sách tệp minh chứng.",
            _corrections),
    Section("19-ai-da-truy-cap.json", "Ai đã truy cập dữ liệu của bạn",
            "Mỗi lần cơ quan, cơ sở y tế, đối tác đọc dữ liệu của bạn qua hệ thống trao đổi: thời "
            "điểm (giờ UTC), đơn vị (actor), dịch vụ, mục đích, nhóm thông tin, kết quả.", _reads),
    Section("20-thao-tac-nghiep-vu.json", "Thao tác nghiệp vụ về bạn",
            "Nhật ký kiểm toán: các thao tác của cán bộ, của hệ thống và của chính bạn liên quan "
            "đến số định danh hoặc mã số BHXH của bạn.", _audit),
)  # fmt: skip
SUMMARY_FILE = "21-tong-hop.json"


def readme(subject: Subject, generated_at: datetime) -> str:
    """The README.txt of the export, in Vietnamese."""
    lines = [
        "DỮ LIỆU CỦA TÔI — Cơ sở dữ liệu quốc gia về Bảo hiểm",
        "",
        f"Tạo lúc: {generated_at.strftime('%d/%m/%Y %H:%M')} (giờ UTC).",
        "Đây là toàn bộ dữ liệu hệ thống đang lưu về bạn, theo quyền của chủ thể dữ liệu "
        "(Nghị định 13/2023/NĐ-CP về bảo vệ dữ liệu cá nhân).",
        "",
        'Mỗi tệp .json là một đối tượng JSON (mã UTF-8) gồm: "tep" (tên tệp), "mo_ta" (mô tả) '
        'và "ban_ghi" (danh sách bản ghi). Tên trường giữ như trong cơ sở dữ liệu; ngày giờ '
        "theo ISO 8601; số tiền tính bằng đồng.",
        "",
        "CÁC TỆP",
    ]
    for section in SECTIONS:
        lines += [f"- {section.filename}: {section.title_vi}.", f"  {section.describe_vi}"]
    lines += [
        f"- {SUMMARY_FILE}: số bản ghi của từng tệp.",
        "",
        "KHÔNG CÓ TRONG BẢN NÀY",
        "- Nội dung các tệp bạn đã tải lên (chỉ có tên, loại, kích thước và mã SHA-256 để đối "
        "chiếu); bạn có thể xem lại tại cổng công dân.",
        "- Dữ liệu của người khác: liên kết mã số với số định danh khác, thông tin người khác "
        "trong hồ sơ dịch vụ công.",
        "- Dữ liệu nội bộ để vận hành hệ thống (số lô nhập, mã băm của nhật ký, mã thông điệp, "
        "nội dung yêu cầu kỹ thuật) và dữ liệu làm việc của cán bộ (hàng đợi đối soát, kết quả "
        "đối sánh tự động, cảnh báo đang xác minh); kết quả cuối cùng đã có trong hồ sơ của bạn "
        "(tình trạng xác thực, các lần gộp sổ).",
        "- Nhật ký truy cập và tệp đã hết thời hạn lưu trữ và đã bị xoá theo quy định.",
        "",
        'Nếu thấy thông tin chưa đúng, hãy gửi yêu cầu điều chỉnh tại mục "Yêu cầu điều chỉnh" '
        "của cổng công dân.",
    ]
    return "\n".join(lines) + "\n"


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return None  # contents stay out (see the README)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, default=_json_value).encode("utf-8")


class _Sink(io.RawIOBase):
    """Where the ZIP writer puts its bytes until the stream takes them (not seekable)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.parts.append(chunk)
        self.size += len(chunk)
        return len(chunk)

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        self.size = 0
        return data


def stream_export(
    connect: Callable[[], Any], subject: Subject, generated_at: datetime
) -> Iterator[bytes]:
    """The export as a ZIP, in pieces, read with one connection (``connect()``) as it goes."""
    sink = _Sink()
    counts: dict[str, int] = {}
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", readme(subject, generated_at))
        with connect() as conn:
            for section in SECTIONS:
                with archive.open(section.filename, "w") as member:
                    head = {"tep": section.filename, "mo_ta": section.describe_vi}
                    member.write(_encode(head)[:-1] + b', "ban_ghi": [\n')
                    count = 0
                    for record in section.rows(conn, subject):
                        member.write((b",\n" if count else b"") + _encode(record))
                        count += 1
                        if sink.size >= CHUNK_BYTES:
                            yield sink.take()
                    member.write(b"\n]}\n")
                counts[section.filename] = count
                yield sink.take()
        summary = {
            "tep": SUMMARY_FILE,
            "mo_ta": "Số bản ghi của từng tệp.",
            "tao_luc": generated_at.isoformat(),
            "so_dinh_danh": subject.personal_id,
            "ma_so_bhxh": list(subject.codes),
            "so_ban_ghi": counts,
        }
        archive.writestr(SUMMARY_FILE, _encode(summary))
    yield sink.take()
