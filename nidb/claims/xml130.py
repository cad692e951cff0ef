"""Read an XML 130 envelope (Decision 130/QĐ-BYT, amended by 4750/QĐ-BYT) safely, table by table.

The envelope ``GIAMDINHHS`` carries the facility code and one ``HOSO`` per visit, each a list of
``FILEHOSO`` (``LOAIHOSO`` = XML1, XML2, …; ``NOIDUNGFILE`` = the table as base64-encoded XML).
Every document, the envelope and each decoded table, is parsed by defusedxml with DTDs
forbidden, so neither entity expansion (billion laughs) nor external entities (XXE) can run;
sizes are capped before decoding. A broken envelope raises `EnvelopeError`; a broken table
gives a `ParsedClaim` with its `ClaimError`s (table, row, field, value, code, Vietnamese,
English) and no values, so nothing of it is stored.

Fields read (domain-research.md §7): XML1 MA_LK, MA_THE_BHYT, MA_DKBD, MA_BENH_CHINH,
MA_DOITUONG_KCB (1 đúng tuyến, 2 cấp cứu, 3 trái tuyến; 1 with MA_NOI_DI or GIAY_CHUYEN_TUYEN
is a referral), MA_LOAI_KCB (03, 04 inpatient), NGAY_VAO, NGAY_RA (yyyyMMddHHmm, Vietnam time),
T_TONGCHI_BH, MA_CSKCB; XML2 MA_THUOC, TEN_THUOC, SO_LUONG, DON_GIA, THANH_TIEN_BH; XML3
MA_DICH_VU (or MA_VAT_TU), TEN_DICH_VU (or TEN_VAT_TU), SO_LUONG, DON_GIA_BH, THANH_TIEN_BH;
XML11 kept whole (its leaf fields) for the sick-leave benefit.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from xml.etree.ElementTree import Element, ParseError
from zoneinfo import ZoneInfo

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from nidb.domain.claims import Route
from nidb.domain.errors import DomainError
from nidb.domain.identifiers import BhxhCode, HealthCardCode

VN = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_TABLE_BYTES = 1_000_000
"""A decoded table larger than this is refused (a visit's tables are a few kilobytes)."""
MAX_LINES = 500
MAX_QUANTITY = Decimal(10_000)
"""More than ten thousand units of one drug or service in one visit is absurd."""
MAX_PRICE = 10_000_000_000
MAX_CLAIMS = 100
INPATIENT_TYPES = frozenset({"03", "04"})
REQUIRED_TABLES = ("XML1", "XML2", "XML3")
KNOWN_TABLES = frozenset({f"XML{n}" for n in range(1, 16)})


class EnvelopeError(ValueError):
    """The envelope as a whole cannot be read."""

    def __init__(self, code: str, vi: str, en: str) -> None:
        super().__init__(code, vi, en)
        self.code, self.vi, self.en = code, vi, en

    def __str__(self) -> str:
        return f"{self.code}: {self.vi} ({self.en})"


@dataclass(frozen=True, slots=True)
class ClaimError:
    """One broken rule of one field of one row of one table, for the facility to fix."""

    table: str
    row: int
    field: str
    value: str
    code: str
    message_vi: str
    message_en: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "row": self.row,
            "field": self.field,
            "value": self.value[:100],
            "code": self.code,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
        }


@dataclass
class ClaimLineIn:
    line_no: int
    kind: str
    item_code: str
    name: str
    quantity_milli: int
    unit_price: int
    amount: int


@dataclass
class ParsedClaim:
    """One HOSO: its key, its summary and lines when valid, else its errors."""

    ma_lk: str
    summary: dict[str, Any] = field(default_factory=dict)
    lines: list[ClaimLineIn] = field(default_factory=list)
    sick_leave: dict[str, str] | None = None
    errors: list[ClaimError] = field(default_factory=list)


@dataclass
class Envelope:
    facility_code: str
    claims: list[ParsedClaim]


def _safe_parse(data: str | bytes, what: str) -> Element:
    try:
        root: Element = fromstring(data, forbid_dtd=True)
    except DefusedXmlException as error:
        raise EnvelopeError(
            "XML_FORBIDDEN",
            f"{what}: có khai báo DTD/thực thể (bị cấm)",
            f"{what}: DTD or entity declarations are forbidden ({type(error).__name__})",
        ) from None
    except (ParseError, ValueError) as error:
        raise EnvelopeError(
            "XML_MALFORMED",
            f"{what}: không phải XML hợp lệ",
            f"{what}: not well-formed XML ({error})",
        ) from None
    return root


def _leaf(element: Element, name: str) -> str:
    child = element.find(name)
    return (child.text or "").strip() if child is not None else ""


def parse_envelope(text: str) -> Envelope:
    """The facility and the claims of an envelope; raises `EnvelopeError` if it is unreadable."""
    root = _safe_parse(text, "GIAMDINHHS")
    if root.tag != "GIAMDINHHS":
        raise EnvelopeError(
            "ENVELOPE_ROOT", "phần tử gốc phải là GIAMDINHHS", "root element must be GIAMDINHHS"
        )
    unit = root.find("THONGTINDONVI")
    facility = _leaf(unit, "MACSKCB") if unit is not None else ""
    if len(facility) != 5 or not facility.isdigit():
        raise EnvelopeError(
            "ENVELOPE_FACILITY",
            "THONGTINDONVI/MACSKCB phải là mã cơ sở 5 chữ số",
            "THONGTINDONVI/MACSKCB must be a 5-digit facility code",
        )
    files = root.findall("THONGTINHOSO/DANHSACHHOSO/HOSO")
    if not files:
        raise EnvelopeError("ENVELOPE_EMPTY", "không có hồ sơ nào", "no HOSO in the envelope")
    if len(files) > MAX_CLAIMS:
        raise EnvelopeError(
            "ENVELOPE_TOO_MANY",
            f"quá {MAX_CLAIMS} hồ sơ trong một lần gửi",
            f"more than {MAX_CLAIMS} claims in one envelope",
        )
    return Envelope(facility, [_parse_hoso(hoso, number) for number, hoso in enumerate(files, 1)])


def _parse_hoso(hoso: Element, number: int) -> ParsedClaim:
    claim = ParsedClaim(ma_lk="")
    tables: dict[str, Element] = {}
    for item in hoso.findall("FILEHOSO"):
        kind = _leaf(item, "LOAIHOSO").upper()
        if kind not in KNOWN_TABLES:
            claim.errors.append(_err(f"HOSO {number}", 0, "LOAIHOSO", kind, "TABLE_UNKNOWN"))
            continue
        raw = _leaf(item, "NOIDUNGFILE")
        if len(raw) > MAX_TABLE_BYTES * 4 // 3 + 4:
            claim.errors.append(_err(kind, 0, "NOIDUNGFILE", raw[:20], "TABLE_TOO_LARGE"))
            continue
        try:
            decoded = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            claim.errors.append(_err(kind, 0, "NOIDUNGFILE", raw[:20], "BASE64_INVALID"))
            continue
        try:
            tables[kind] = _safe_parse(decoded, kind)
        except EnvelopeError as error:
            claim.errors.append(
                ClaimError(kind, 0, "NOIDUNGFILE", "", error.code, error.vi, error.en)
            )
    for kind in REQUIRED_TABLES:
        if kind not in tables and not any(e.table == kind for e in claim.errors):
            claim.errors.append(_err(kind, 0, "LOAIHOSO", kind, "TABLE_MISSING"))
    if claim.errors:
        return claim
    _read_summary(claim, tables["XML1"])
    _read_lines(claim, tables["XML2"], "XML2", "drug")
    _read_lines(claim, tables["XML3"], "XML3", "service")
    if "XML11" in tables:
        claim.sick_leave = {
            el.tag: (el.text or "").strip()[:200] for el in tables["XML11"].iter() if len(el) == 0
        }
    if not claim.errors:
        total = sum(line.amount for line in claim.lines)
        if abs(total - claim.summary["claimed_total"]) > max(1, len(claim.lines)):
            claim.errors.append(
                _err(
                    "XML1", 1, "T_TONGCHI_BH", str(claim.summary["claimed_total"]), "TOTAL_MISMATCH"
                )
            )
    if claim.errors:
        claim.summary, claim.lines = {}, []
    return claim


def _rows(root: Element) -> list[Element]:
    return [el for el in root.iter() if el.find("MA_LK") is not None]


def _read_summary(claim: ParsedClaim, root: Element) -> None:
    rows = _rows(root)
    if len(rows) != 1:
        claim.errors.append(_err("XML1", 0, "MA_LK", str(len(rows)), "SUMMARY_NOT_ONE"))
        return
    row = rows[0]
    errors = claim.errors
    ma_lk = _leaf(row, "MA_LK")
    claim.ma_lk = ma_lk
    if not ma_lk or len(ma_lk) > 100:
        errors.append(_err("XML1", 1, "MA_LK", ma_lk, "REQUIRED" if not ma_lk else "TOO_LONG"))
    card = _leaf(row, "MA_THE_BHYT").split(";")[0].strip().upper()
    try:
        HealthCardCode.parse(card) if len(card) == 15 else BhxhCode.parse(card)
    except DomainError:
        errors.append(_err("XML1", 1, "MA_THE_BHYT", card, "CARD_CODE_INVALID"))
    admitted = _moment(errors, row, "NGAY_VAO")
    discharged = _moment(errors, row, "NGAY_RA")
    if admitted and discharged and discharged < admitted:
        errors.append(
            _err("XML1", 1, "NGAY_RA", _leaf(row, "NGAY_RA"), "DISCHARGE_BEFORE_ADMISSION")
        )
    if discharged and discharged > datetime.now(UTC).replace(tzinfo=None):
        errors.append(_err("XML1", 1, "NGAY_RA", _leaf(row, "NGAY_RA"), "DATE_FUTURE"))
    icd = _leaf(row, "MA_BENH_CHINH").replace(".", "").upper()
    if not (3 <= len(icd) <= 8 and icd[0].isalpha() and icd[1:3].isdigit()):
        errors.append(_err("XML1", 1, "MA_BENH_CHINH", icd, "ICD10_INVALID"))
    route_code = _leaf(row, "MA_DOITUONG_KCB")[:1]
    referred = bool(_leaf(row, "MA_NOI_DI") or _leaf(row, "GIAY_CHUYEN_TUYEN"))
    routes = {
        "1": Route.REFERRAL if referred else Route.RIGHT,
        "2": Route.EMERGENCY,
        "3": Route.WRONG,
    }
    if route_code not in routes:
        errors.append(
            _err("XML1", 1, "MA_DOITUONG_KCB", _leaf(row, "MA_DOITUONG_KCB"), "ROUTE_INVALID")
        )
    total = _money(errors, "XML1", 1, row, "T_TONGCHI_BH")
    facility = _leaf(row, "MA_CSKCB")
    registered = _leaf(row, "MA_DKBD")
    if errors:
        return
    claim.summary = {
        "card_code": card,
        "bhxh_code": card[-10:],
        "registered_facility": registered[:5] or None,
        "facility_in_table": facility,
        "admitted_at": admitted,
        "discharged_at": discharged,
        "inpatient": _leaf(row, "MA_LOAI_KCB").zfill(2) in INPATIENT_TYPES,
        "route": str(routes[route_code]),
        "icd10": icd,
        "claimed_total": total,
    }


def _read_lines(claim: ParsedClaim, root: Element, table: str, kind: str) -> None:
    rows = _rows(root)
    if len(claim.lines) + len(rows) > MAX_LINES:
        claim.errors.append(_err(table, 0, "MA_LK", str(len(rows)), "TOO_MANY_LINES"))
        return
    code_fields = ("MA_THUOC",) if kind == "drug" else ("MA_DICH_VU", "MA_VAT_TU")
    name_fields = ("TEN_THUOC",) if kind == "drug" else ("TEN_DICH_VU", "TEN_VAT_TU")
    price_field = "DON_GIA" if kind == "drug" else "DON_GIA_BH"
    for number, row in enumerate(rows, 1):
        before = len(claim.errors)
        if _leaf(row, "MA_LK") != claim.ma_lk:
            claim.errors.append(_err(table, number, "MA_LK", _leaf(row, "MA_LK"), "MA_LK_MISMATCH"))
        code = next((_leaf(row, f) for f in code_fields if _leaf(row, f)), "")
        if not code or len(code) > 50:
            claim.errors.append(
                _err(table, number, code_fields[0], code, "REQUIRED" if not code else "TOO_LONG")
            )
        name = next((_leaf(row, f) for f in name_fields if _leaf(row, f)), "")[:300]
        quantity = _quantity(claim.errors, table, number, row)
        price = _money(claim.errors, table, number, row, price_field)
        amount = _money(claim.errors, table, number, row, "THANH_TIEN_BH")
        if len(claim.errors) > before or quantity is None or price is None or amount is None:
            continue
        expected = int((quantity * price).quantize(Decimal(1), ROUND_HALF_UP))
        if abs(expected - amount) > 1:
            claim.errors.append(
                _err(table, number, "THANH_TIEN_BH", str(amount), "AMOUNT_MISMATCH")
            )
            continue
        claim.lines.append(
            ClaimLineIn(
                len(claim.lines) + 1, kind, code, name or code, int(quantity * 1000), price, amount
            )
        )


def _moment(errors: list[ClaimError], row: Element, name: str) -> datetime | None:
    raw = _leaf(row, name)
    try:
        if len(raw) != 12 or not raw.isdigit():
            raise ValueError
        local = datetime.strptime(raw, "%Y%m%d%H%M").replace(tzinfo=VN)
    except ValueError:
        errors.append(_err("XML1", 1, name, raw, "DATE_FORMAT"))
        return None
    return local.astimezone(UTC).replace(tzinfo=None)


def _decimal(raw: str) -> Decimal | None:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _quantity(errors: list[ClaimError], table: str, number: int, row: Element) -> Decimal | None:
    raw = _leaf(row, "SO_LUONG")
    value = _decimal(raw)
    if value is None or value.as_tuple().exponent < -3:  # type: ignore[operator]
        errors.append(_err(table, number, "SO_LUONG", raw, "NUMBER_INVALID"))
        return None
    if value <= 0:
        errors.append(_err(table, number, "SO_LUONG", raw, "NOT_POSITIVE"))
        return None
    if value > MAX_QUANTITY:
        errors.append(_err(table, number, "SO_LUONG", raw, "ABSURD"))
        return None
    return value


def _money(
    errors: list[ClaimError], table: str, number: int, row: Element, name: str
) -> int | None:
    raw = _leaf(row, name)
    value = _decimal(raw)
    if value is None:
        errors.append(_err(table, number, name, raw, "NUMBER_INVALID"))
        return None
    if value < 0:
        errors.append(_err(table, number, name, raw, "NEGATIVE"))
        return None
    if value > MAX_PRICE * (MAX_LINES if name.startswith("T_") else 1):
        errors.append(_err(table, number, name, raw, "ABSURD"))
        return None
    return int(value.quantize(Decimal(1), ROUND_HALF_UP))


MESSAGES: dict[str, tuple[str, str]] = {
    "TABLE_UNKNOWN": ("loại bảng không có trong QĐ 130", "not a table of Decision 130"),
    "TABLE_TOO_LARGE": ("bảng quá lớn", "table too large"),
    "BASE64_INVALID": ("nội dung không phải base64 hợp lệ", "content is not valid base64"),
    "TABLE_MISSING": ("thiếu bảng bắt buộc", "required table missing"),
    "TOTAL_MISMATCH": (
        "tổng chi BHYT khác tổng các dòng thuốc, dịch vụ",
        "claimed total differs from the sum of the lines",
    ),
    "SUMMARY_NOT_ONE": ("bảng XML1 phải có đúng một hồ sơ", "XML1 must hold exactly one visit"),
    "REQUIRED": ("bắt buộc phải có", "required"),
    "TOO_LONG": ("quá dài", "too long"),
    "CARD_CODE_INVALID": ("mã thẻ BHYT không hợp lệ", "invalid health-card code"),
    "CARD_NOT_FOUND": ("không có thẻ BHYT này", "no such health card"),
    "DISCHARGE_BEFORE_ADMISSION": ("ngày ra trước ngày vào", "discharged before admitted"),
    "DATE_FUTURE": ("ngày ở tương lai", "date in the future"),
    "DATE_FORMAT": ("ngày giờ phải có dạng yyyyMMddHHmm", "date must be yyyyMMddHHmm"),
    "ICD10_INVALID": ("mã bệnh ICD-10 không hợp lệ", "invalid ICD-10 code"),
    "ROUTE_INVALID": (
        "mã đối tượng KCB phải bắt đầu bằng 1, 2 hoặc 3",
        "route must start 1, 2 or 3",
    ),
    "TOO_MANY_LINES": (f"quá {MAX_LINES} dòng", f"more than {MAX_LINES} lines"),
    "MA_LK_MISMATCH": ("MA_LK khác với bảng XML1", "MA_LK differs from XML1"),
    "AMOUNT_MISMATCH": ("thành tiền khác số lượng × đơn giá", "amount is not quantity × price"),
    "NUMBER_INVALID": ("không phải số hợp lệ (tối đa 3 chữ số thập phân)", "not a valid number"),
    "NOT_POSITIVE": ("phải lớn hơn 0", "must be greater than 0"),
    "NEGATIVE": ("không được âm", "must not be negative"),
    "ABSURD": ("giá trị vượt mức hợp lý", "value beyond any plausible amount"),
    "DUPLICATE_IN_ENVELOPE": ("MA_LK gửi hai lần trong một lần gửi", "MA_LK twice in one envelope"),
    "FACILITY_NOT_SENDER": (
        "mã cơ sở khác cơ sở gửi hồ sơ",
        "facility code is not the sender's",
    ),
}


def _err(table: str, row: int, field_name: str, value: str, code: str) -> ClaimError:
    vi, en = MESSAGES[code]
    return ClaimError(table, row, field_name, value, code, vi, en)


def error(table: str, row: int, field_name: str, value: str, code: str) -> ClaimError:
    """A coded error with its messages (for the checks the intake makes against the store)."""
    return _err(table, row, field_name, value, code)
