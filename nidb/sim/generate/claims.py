"""Synthetic health-insurance claims: the insurer's catalogues and XML 130 claims with known
errors and their ground truth.

Catalogues (layouts in docs/interchange.md, "Claims catalogues"): facilities per province (the
``PP001`` hospital of each province is provincial, level 2, and of Hà Nội and Hồ Chí Minh City
central, level 1; ``PP002``–``PP010`` district hospitals, level 3; the rest commune stations,
level 4), and drugs and services with prices in the range of the Ministry of Health's price
lists. Claims are drawn over given cards; a share of them carries one seeded error each, named
as the assessment names its rules, so a benchmark can measure each rule's precision and recall.
"""

from __future__ import annotations

import base64
import csv
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

DRUGS: tuple[tuple[str, str, str, int, int], ...] = (
    ("40.17", "Paracetamol 500mg", "viên", 350, 100),
    ("40.18", "Amoxicillin 500mg", "viên", 1_200, 100),
    ("40.19", "Cefuroxim 500mg", "viên", 6_800, 100),
    ("40.20", "Omeprazol 20mg", "viên", 900, 100),
    ("40.21", "Metformin 850mg", "viên", 650, 100),
    ("40.22", "Amlodipin 5mg", "viên", 500, 100),
    ("40.23", "Losartan 50mg", "viên", 2_100, 100),
    ("40.24", "Atorvastatin 20mg", "viên", 1_900, 100),
    ("40.25", "Natri clorid 0,9% 500ml", "chai", 9_500, 100),
    ("40.26", "Glucose 5% 500ml", "chai", 11_000, 100),
    ("40.27", "Ceftriaxon 1g", "lọ", 24_000, 100),
    ("40.28", "Insulin glargine 100UI/ml", "bút", 265_000, 50),
    ("40.29", "Salbutamol 2,5mg/2,5ml", "ống", 4_600, 100),
    ("40.30", "Vitamin B1 100mg", "ống", 1_500, 100),
    ("40.31", "Diclofenac 75mg", "ống", 3_200, 100),
    ("40.32", "Human albumin 20% 50ml", "chai", 650_000, 50),
)
SERVICES: tuple[tuple[str, str, str, int, int], ...] = (
    ("02.1896", "Khám bệnh (tuyến tỉnh)", "lần", 42_100, 100),
    ("02.1897", "Khám bệnh (tuyến huyện)", "lần", 38_700, 100),
    ("03.1900", "Ngày giường bệnh nội khoa", "ngày", 199_100, 100),
    ("22.0120", "Tổng phân tích tế bào máu ngoại vi", "lần", 46_200, 100),
    ("23.0058", "Định lượng glucose máu", "lần", 21_500, 100),
    ("23.0075", "Định lượng creatinin máu", "lần", 21_500, 100),
    ("18.0001", "Chụp X-quang ngực thẳng", "lần", 65_400, 100),
    ("18.0070", "Siêu âm ổ bụng", "lần", 43_900, 100),
    ("18.0200", "Chụp CT sọ não không tiêm thuốc cản quang", "lần", 522_000, 100),
    ("21.0014", "Điện tim thường", "lần", 32_800, 100),
    ("10.0020", "Phẫu thuật cắt ruột thừa nội soi", "lần", 2_858_000, 100),
    ("13.0015", "Đỡ đẻ thường ngôi chỏm", "lần", 675_000, 100),
    ("17.0001", "Chụp cộng hưởng từ sọ não", "lần", 1_724_000, 50),
)
CATALOGUE_FROM = date(2024, 1, 1)
ERROR_KINDS = (
    "over_price",
    "not_in_catalogue",
    "duplicate_line",
    "card_invalid",
    "card_suspended",
    "wrong_route",
    "overlapping_inpatient",
)
"""Seeded errors, named like the assessment's rules."""


def facility_level(code: str) -> int:
    """The level of a synthetic facility code (see the module's docstring)."""
    number = int(code[2:])
    if number == 1:
        return 1 if code[:2] in ("01", "79") else 2
    return 3 if number <= 10 else 4


def facility_rows(provinces: list[str], per_province: int = 12) -> list[dict[str, Any]]:
    """Facilities under contract, ``per_province`` in each province."""
    names = {
        1: "Bệnh viện trung ương",
        2: "Bệnh viện đa khoa tỉnh",
        3: "Trung tâm y tế huyện",
        4: "Trạm y tế xã",
    }
    rows = []
    for province in provinces:
        for number in range(1, per_province + 1):
            code = f"{province}{number:03d}"
            level = facility_level(code)
            rows.append(
                {
                    "code": code,
                    "name": f"{names[level]} {code}",
                    "level": level,
                    "province_code": province,
                    "contract_from": CATALOGUE_FROM.isoformat(),
                    "contract_to": "",
                }
            )
    return rows


def item_rows(kind: str) -> list[dict[str, Any]]:
    """The drug or service catalogue."""
    return [
        {
            "code": code,
            "name": name,
            "unit": unit,
            "price": price,
            "payment_ratio": ratio,
            "valid_from": CATALOGUE_FROM.isoformat(),
            "valid_to": "",
        }
        for code, name, unit, price, ratio in (DRUGS if kind == "drugs" else SERVICES)
    ]


def write_catalogues(
    out_dir: Path, provinces: list[str], per_province: int = 12
) -> dict[str, Path]:
    """Write facilities.csv, drugs.csv and services.csv; their paths by kind."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for kind, rows in (
        ("facilities", facility_rows(provinces, per_province)),
        ("drugs", item_rows("drugs")),
        ("services", item_rows("services")),
    ):
        path = out_dir / f"claims_{kind}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        paths[kind] = path
    return paths


@dataclass
class LineDraft:
    kind: str  # drug | service
    code: str
    name: str
    quantity: str
    price: int

    @property
    def amount(self) -> int:
        from decimal import ROUND_HALF_UP, Decimal

        return int((Decimal(self.quantity) * self.price).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass
class ClaimDraft:
    """One visit's claim as a hospital would send it (times in Vietnam time)."""

    ma_lk: str
    facility: str
    card_code: str
    registered_facility: str
    admitted: datetime
    discharged: datetime
    inpatient: bool
    route_code: str = "1"
    referral: bool = False
    icd10: str = "J06.9"
    lines: list[LineDraft] = field(default_factory=list)
    sick_leave: dict[str, str] | None = None


def _b64(xml: str) -> str:
    return base64.b64encode(xml.encode("utf-8")).decode("ascii")


def _fields(tag: str, values: dict[str, Any]) -> str:
    inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in values.items())
    return f"<{tag}>{inner}</{tag}>"


def xml_tables(claim: ClaimDraft) -> dict[str, str]:
    """The XML1, XML2, XML3 (and XML11) documents of one claim."""
    when = "%Y%m%d%H%M"
    total = sum(line.amount for line in claim.lines)
    xml1 = _fields(
        "TONG_HOP",
        {
            "MA_LK": claim.ma_lk,
            "STT": 1,
            "MA_THE_BHYT": claim.card_code,
            "MA_DKBD": claim.registered_facility,
            "MA_BENH_CHINH": claim.icd10,
            "MA_DOITUONG_KCB": claim.route_code,
            "MA_NOI_DI": "01001" if claim.referral else "",
            "MA_LOAI_KCB": "03" if claim.inpatient else "01",
            "NGAY_VAO": claim.admitted.strftime(when),
            "NGAY_RA": claim.discharged.strftime(when),
            "T_TONGCHI_BH": total,
            "MA_CSKCB": claim.facility,
        },
    )
    drugs = [
        _fields(
            "CHI_TIET_THUOC",
            {
                "MA_LK": claim.ma_lk,
                "STT": n,
                "MA_THUOC": line.code,
                "TEN_THUOC": line.name,
                "SO_LUONG": line.quantity,
                "DON_GIA": line.price,
                "THANH_TIEN_BH": line.amount,
            },
        )
        for n, line in enumerate((x for x in claim.lines if x.kind == "drug"), 1)
    ]
    services = [
        _fields(
            "CHI_TIET_DVKT",
            {
                "MA_LK": claim.ma_lk,
                "STT": n,
                "MA_DICH_VU": line.code,
                "TEN_DICH_VU": line.name,
                "SO_LUONG": line.quantity,
                "DON_GIA_BH": line.price,
                "THANH_TIEN_BH": line.amount,
            },
        )
        for n, line in enumerate((x for x in claim.lines if x.kind == "service"), 1)
    ]
    tables = {
        "XML1": xml1,
        "XML2": f"<CHITIEU_CHITIET_THUOC><DSACH_CHI_TIET_THUOC>{''.join(drugs)}</DSACH_CHI_TIET_THUOC></CHITIEU_CHITIET_THUOC>",
        "XML3": f"<CHITIEU_CHITIET_DVKT_VTYT><DSACH_CHI_TIET_DVKT>{''.join(services)}</DSACH_CHI_TIET_DVKT></CHITIEU_CHITIET_DVKT_VTYT>",
    }
    if claim.sick_leave:
        tables["XML11"] = _fields(
            "CHUNG_TU_NGHI_VIEC_HUONG_BHXH", {"MA_LK": claim.ma_lk, **claim.sick_leave}
        )
    return tables


def envelope(
    facility: str, tables_per_claim: list[dict[str, str]], made: date | None = None
) -> str:
    """A GIAMDINHHS envelope holding each claim's tables, base64-encoded, as a hospital sends it."""
    hoso = "".join(
        "<HOSO>"
        + "".join(
            f"<FILEHOSO><LOAIHOSO>{kind}</LOAIHOSO><NOIDUNGFILE>{content if raw else _b64(content)}</NOIDUNGFILE></FILEHOSO>"
            for kind, (content, raw) in (
                (k, (v[4:], True) if v.startswith("RAW:") else (v, False))
                for k, v in tables.items()
            )
        )
        + "</HOSO>"
        for tables in tables_per_claim
    )
    return (
        f"<GIAMDINHHS><THONGTINDONVI><MACSKCB>{facility}</MACSKCB></THONGTINDONVI>"
        f"<THONGTINHOSO><NGAYLAP>{(made or date.today()).strftime('%Y%m%d')}</NGAYLAP>"
        f"<SOLUONGHOSO>{len(tables_per_claim)}</SOLUONGHOSO><DANHSACHHOSO>{hoso}</DANHSACHHOSO>"
        f"</THONGTINHOSO></GIAMDINHHS>"
    )


@dataclass(frozen=True)
class CardForClaims:
    """What the claim generator needs of a card."""

    card_code: str
    facility_code: str
    valid_from: date
    valid_to: date
    suspended: bool = False


@dataclass
class SyntheticClaims:
    claims: list[ClaimDraft]
    truth: list[dict[str, str]]
    """One row per seeded error: facility, ma_lk, line (0 for the whole claim), rule."""


def _lines(rng: np.random.Generator, drugs: int, services: int) -> list[LineDraft]:
    """Distinct drugs and services (an honest claim repeats no item)."""
    lines = []
    for kind, table, count in (("service", SERVICES, services), ("drug", DRUGS, drugs)):
        for index in rng.choice(len(table), size=min(count, len(table)), replace=False):
            code, name, _unit, price, _ratio = table[int(index)]
            quantity = str(int(rng.integers(1, 30))) if kind == "drug" else "1"
            lines.append(LineDraft(kind, code, name, quantity, price))
    return lines


def synthetic_claims(
    rng: np.random.Generator,
    cards: list[CardForClaims],
    count: int,
    error_share: float,
    visit_from: date,
    visit_days: int,
) -> SyntheticClaims:
    """``count`` claims over ``cards``; ``error_share`` of them carry one seeded error each."""
    claims: list[ClaimDraft] = []
    truth: list[dict[str, str]] = []
    live = [c for c in cards if not c.suspended]
    suspended = [c for c in cards if c.suspended]
    busy: dict[str, list[tuple[datetime, datetime]]] = {}
    for number in range(count):
        error = (
            ERROR_KINDS[int(rng.integers(len(ERROR_KINDS)))] if rng.random() < error_share else None
        )
        if error == "card_suspended" and not suspended:
            error = None
        card = (
            suspended[int(rng.integers(len(suspended)))]
            if error == "card_suspended"
            else live[int(rng.integers(len(live)))]
        )
        facility = card.facility_code
        day = visit_from + timedelta(days=int(rng.integers(visit_days)))
        if error == "card_invalid":
            day = card.valid_from - timedelta(days=int(rng.integers(10, 60)))
        else:
            day = min(max(day, card.valid_from), card.valid_to)
        inpatient = rng.random() < 0.15 or error == "overlapping_inpatient"
        admitted = datetime(day.year, day.month, day.day, 8, int(rng.integers(60)))
        discharged = admitted + (
            timedelta(days=int(rng.integers(2, 8))) if inpatient else timedelta(hours=2)
        )
        # keep honest inpatient stays of one card apart, so only seeded overlaps overlap
        stays = busy.setdefault(card.card_code, [])
        if inpatient and any(a < discharged and admitted < b for a, b in stays):
            inpatient = False
            discharged = admitted + timedelta(hours=2)
            if error == "overlapping_inpatient":
                error = None
        route = "1"
        if error == "wrong_route":
            facility = card.facility_code[:2] + "001"  # the province hospital (level 1 or 2)
            if facility == card.facility_code:
                facility = card.facility_code[:2] + "002"
            route, inpatient = "3", False
            discharged = admitted + timedelta(hours=2)
            if facility_level(facility) == 3:
                error = None  # district hospitals are open to everyone (thông tuyến huyện)
                route = "1"
                facility = card.facility_code
        lines = _lines(rng, int(rng.integers(1, 5)), int(rng.integers(1, 4)))
        lines = [x for x in lines if x.code != "03.1900"]
        if inpatient:
            lines.append(
                LineDraft(
                    "service",
                    "03.1900",
                    "Ngày giường bệnh nội khoa",
                    str(max(1, (discharged - admitted).days)),
                    199_100,
                )
            )
        ma_lk = f"LK{number:08d}"
        seeded_line = 0
        if error == "over_price":
            seeded_line = int(rng.integers(len(lines))) + 1
            lines[seeded_line - 1].price = int(lines[seeded_line - 1].price * 1.3) + 1
        elif error == "not_in_catalogue":
            seeded_line = len(lines) + 1
            lines.append(LineDraft("drug", "99.9999", "Thuốc ngoài danh mục", "2", 150_000))
        elif error == "duplicate_line":
            seeded_line = len(lines) + 1
            original = lines[int(rng.integers(len(lines)))]
            lines.append(
                LineDraft(
                    original.kind, original.code, original.name, original.quantity, original.price
                )
            )
        claim = ClaimDraft(
            ma_lk,
            facility,
            card.card_code,
            card.facility_code,
            admitted,
            discharged,
            inpatient,
            route,
            icd10="J06.9",
            lines=lines,
        )
        claims.append(claim)
        if inpatient:
            stays.append((admitted, discharged))
        if error == "overlapping_inpatient":
            # a second stay at another facility inside the first: the later one is the error
            other = card.facility_code[:2] + f"{int(card.facility_code[2:]) % 9 + 2:03d}"
            second = ClaimDraft(
                f"LK{number:08d}B",
                other,
                card.card_code,
                card.facility_code,
                admitted + timedelta(days=1),
                discharged,
                True,
                "1",
                True,
                lines=[LineDraft("service", "03.1900", "Ngày giường bệnh nội khoa", "1", 199_100)],
            )
            claims.append(second)
            truth.append({"facility": other, "ma_lk": second.ma_lk, "line": "0", "rule": error})
        elif error is not None:
            truth.append(
                {"facility": facility, "ma_lk": ma_lk, "line": str(seeded_line), "rule": error}
            )
    return SyntheticClaims(claims, truth)
