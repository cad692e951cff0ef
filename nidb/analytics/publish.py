"""``nidb publish``: aggregate open datasets with small-cell suppression, and their catalogue.

Each statistical dataset is a set of two-way tables with both margins and the grand total
(one table per scheme, per month…), suppressed by :func:`nidb.analytics.suppression.suppress_two_way`:
a hidden count is written as an empty cell with ``suppressed`` = ``true``. Reference data (the
province lists, the beneficiary groups, the facilities) is published as is. Files are written in
a fixed order with sorted rows, so the same store and the same ``--as-of`` give the same bytes;
``catalog.jsonld`` (DCAT-AP) describes all of them with their SHA-256 checksums.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from nidb.analytics import aggregates
from nidb.analytics.catalog import write_catalog
from nidb.analytics.dataset import Dataset
from nidb.analytics.icd10 import CHAPTERS, UNKNOWN_CHAPTER
from nidb.analytics.parquet_copy import write_parquet_copy
from nidb.analytics.quality import UNKNOWN_PROVINCE
from nidb.analytics.suppression import Key, suppress_two_way, two_way_counts
from nidb.domain.catalogues import BENEFICIARY_GROUPS, Scheme
from nidb.domain.provinces import PROVINCES_34, PROVINCES_63, successor
from nidb.domain.spreadsheet import safe_cell

TOTAL = "total"
NATIONAL = "VN"
PROVINCE_ROWS = (*sorted(PROVINCES_34), UNKNOWN_PROVINCE)


def province_name(code: str) -> str:
    """The province's name in the 34-province list; the country; or "not known"."""
    if code == NATIONAL:
        return "Toàn quốc"
    if code in PROVINCES_34:
        return PROVINCES_34[code].name
    return "Không xác định"


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> int:
    """Write a UTF-8 CSV (LF line ends) atomically; the number of data rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(map(safe_cell, header))
    writer.writerows(map(safe_cell, row) for row in rows)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_bytes(buffer.getvalue().encode("utf-8"))
    os.replace(temp, path)
    return len(rows)


def suppressed_table(
    cells: Mapping[tuple[Key, Key], int],
    rows: Sequence[Hashable],
    columns: Sequence[Hashable],
    k: int,
) -> tuple[dict[tuple[Hashable, Hashable], int], set[tuple[Hashable, Hashable]]]:
    """A two-way table with margins (``TOTAL`` column, ``NATIONAL`` row) and what to hide."""
    counts = two_way_counts(cells, rows, columns, NATIONAL, TOTAL)
    return counts, suppress_two_way(counts, rows, columns, NATIONAL, TOTAL, k)


def _table_rows(
    prefix: Sequence[object],
    counts: Mapping[tuple[Hashable, Hashable], int],
    hidden: set[tuple[Hashable, Hashable]],
    rows: Sequence[str],
    columns: Sequence[str],
    column_label: Callable[[str], Sequence[object]],
) -> list[list[object]]:
    """Lines of a suppressed table: every province (and the country) × every column and total;
    rows whose whole line is zero are left out (nothing to publish, nothing to protect)."""
    out: list[list[object]] = []
    for province in (*rows, NATIONAL):
        if counts[(province, TOTAL)] == 0 and province != NATIONAL:
            continue
        for column in (*columns, TOTAL):
            key = (province, column)
            shown = "" if key in hidden else counts[key]
            out.append(
                [
                    *prefix,
                    province,
                    province_name(province),
                    *column_label(column),
                    shown,
                    "true" if key in hidden else "false",
                ]
            )
    return out


def participants_dataset(engine: Engine, out: Path, on: date, k: int) -> Dataset:
    """Participants by scheme, province and age band."""
    counts = aggregates.participants(engine, on)
    bands = [label for label, _, _ in aggregates.AGE_BANDS] + [aggregates.UNKNOWN_AGE]
    lines: list[list[object]] = []
    hidden_total = 0
    for scheme in Scheme:
        cells = {(p, a): n for (s, p, a), n in counts.items() if s == scheme.value}
        table, hidden = suppressed_table(cells, PROVINCE_ROWS, bands, k)
        hidden_total += len(hidden)
        lines += _table_rows(
            [on.isoformat(), scheme.value], table, hidden, PROVINCE_ROWS, bands, lambda a: [a]
        )
    header = [
        "ref_date",
        "scheme",
        "province_code",
        "province_name",
        "age_band",
        "participants",
        "suppressed",
    ]
    d = Dataset(
        "participants-by-province-age",
        "participants_by_province_age.csv",
        "Người tham gia BHXH, BHYT, BHTN theo tỉnh và nhóm tuổi",
        "Participants in social, health and unemployment insurance by province and age band",
        "Số người có quá trình tham gia đang mở tại ngày tham chiếu, theo loại bảo hiểm, tỉnh "
        "(tỉnh của đơn vị sử dụng lao động, nếu không có thì tỉnh cấp thẻ) và nhóm tuổi. "
        f"Ô nhỏ hơn {k} được ẩn cùng các ô bổ sung.",
        "People with a participation period open on the reference date, by scheme, province "
        "(the employer's, else the card's) and age band. Cells below "
        f"{k} are suppressed, with complementary cells.",
        ("SOCI", "ECON"),
        (on, on),
        "statistics",
    )
    d.rows = _write_csv(out / d.file, header, lines)
    d.suppressed = hidden_total
    return d


def cardholders_dataset(engine: Engine, out: Path, on: date, k: int) -> Dataset:
    """Health-insurance card holders by province and beneficiary group."""
    cells = aggregates.cardholders(engine, on)
    groups = sorted(BENEFICIARY_GROUPS)
    extra = sorted({g for _, g in cells} - set(groups))
    columns = groups + extra
    table, hidden = suppressed_table(cells, PROVINCE_ROWS, columns, k)

    def label(code: str) -> list[object]:
        group = BENEFICIARY_GROUPS.get(code)
        return [code, group.name_vi if group else ("Tổng" if code == TOTAL else "")]

    lines = _table_rows([on.isoformat()], table, hidden, PROVINCE_ROWS, columns, label)
    header = [
        "ref_date",
        "province_code",
        "province_name",
        "group_code",
        "group_name",
        "cardholders",
        "suppressed",
    ]
    d = Dataset(
        "cardholders-by-province-group",
        "cardholders_by_province_group.csv",
        "Người có thẻ BHYT còn hạn theo tỉnh và nhóm đối tượng",
        "Holders of a valid health-insurance card by province and beneficiary group",
        "Số người có thẻ BHYT hiệu lực tại ngày tham chiếu, theo tỉnh cấp thẻ và mã đối tượng "
        f"(Quyết định 1351/QĐ-BHXH). Ô nhỏ hơn {k} được ẩn cùng các ô bổ sung.",
        "People holding an active health-insurance card on the reference date, by the card's "
        f"province and beneficiary group. Cells below {k} are suppressed, with complementary "
        "cells.",
        ("HEAL", "SOCI"),
        (on, on),
        "statistics",
    )
    d.rows = _write_csv(out / d.file, header, lines)
    d.suppressed = len(hidden)
    return d


def coverage_dataset(engine: Engine, out: Path, on: date, k: int) -> Dataset:
    """Health-insurance coverage: insured / living population, by birth-registration province."""
    cells = aggregates.coverage(engine, on)
    columns = ["insured", "uninsured"]
    table, hidden = suppressed_table(cells, PROVINCE_ROWS, columns, k)
    lines: list[list[object]] = []
    for province in (*PROVINCE_ROWS, NATIONAL):
        population = table[(province, TOTAL)]
        if population == 0 and province != NATIONAL:
            continue
        keys = [(province, "insured"), (province, "uninsured"), (province, TOTAL)]
        shown = ["" if key in hidden else table[key] for key in keys]
        rate = ""
        if not any(key in hidden for key in keys[::2]) and population:
            rate = f"{table[keys[0]] / population:.4f}"
        lines.append(
            [
                on.isoformat(),
                province,
                province_name(province),
                *shown,
                rate,
                "true" if any(key in hidden for key in keys) else "false",
            ]
        )
    header = [
        "ref_date",
        "province_code",
        "province_name",
        "insured",
        "uninsured",
        "population",
        "coverage_rate",
        "suppressed",
    ]
    d = Dataset(
        "health-insurance-coverage-by-province",
        "coverage_by_province.csv",
        "Tỷ lệ bao phủ BHYT theo tỉnh",
        "Health-insurance coverage rate by province",
        "Dân số còn sống theo trích xuất CSDL quốc gia về dân cư (theo tỉnh đăng ký khai sinh) "
        "và số người có thẻ BHYT hiệu lực qua hồ sơ đã xác thực; tỷ lệ = có thẻ / dân số. "
        f"Ô nhỏ hơn {k} được ẩn cùng các ô bổ sung.",
        "Living population of the population-database extract (by birth-registration province) "
        "and those holding an active card through a verified record; rate = insured / "
        f"population. Cells below {k} are suppressed, with complementary cells.",
        ("HEAL", "SOCI"),
        (on, on),
        "statistics",
    )
    d.rows = _write_csv(out / d.file, header, lines)
    d.suppressed = len(hidden)
    return d


def visits_dataset(engine: Engine, out: Path, on: date, k: int, months: int = 12) -> Dataset:
    """Insured visits by month, facility province and ICD-10 chapter (the last ``months``)."""
    first = _months_back(on, months - 1)
    counts = aggregates.visits(engine, first, on)
    chapters = [c.roman for c in CHAPTERS] + [UNKNOWN_CHAPTER]
    titles = {c.roman: c.title_vi for c in CHAPTERS}
    lines: list[list[object]] = []
    hidden_total = 0
    for month in sorted({m for m, _, _ in counts}):
        cells = {(p, c): n for (m, p, c), n in counts.items() if m == month}
        table, hidden = suppressed_table(cells, PROVINCE_ROWS, chapters, k)
        hidden_total += len(hidden)
        lines += _table_rows(
            [month],
            table,
            hidden,
            PROVINCE_ROWS,
            chapters,
            lambda c: [c, titles.get(c, "Tổng" if c == TOTAL else "")],
        )
    header = [
        "month",
        "province_code",
        "province_name",
        "icd10_chapter",
        "chapter_title",
        "visits",
        "suppressed",
    ]
    d = Dataset(
        "visits-by-icd10-chapter",
        "visits_by_icd10_chapter.csv",
        "Lượt khám chữa bệnh BHYT theo tháng, tỉnh và chương ICD-10",
        "Insured hospital visits by month, province and ICD-10 chapter",
        "Lượt khám chữa bệnh BHYT theo tháng vào viện, tỉnh của cơ sở khám chữa bệnh và chương "
        f"ICD-10 của chẩn đoán chính. Ô nhỏ hơn {k} được ẩn cùng các ô bổ sung.",
        "Insured visits by month of admission, the facility's province and the ICD-10 chapter "
        f"of the main diagnosis. Cells below {k} are suppressed, with complementary cells.",
        ("HEAL",),
        (first, on),
        "statistics",
    )
    d.rows = _write_csv(out / d.file, header, lines)
    d.suppressed = hidden_total
    return d


def _months_back(on: date, months: int) -> date:
    index = on.year * 12 + on.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def reference_datasets(engine: Engine, out: Path) -> list[Dataset]:
    """The shared catalogues: provinces (both lists), beneficiary groups, facilities."""
    provinces = []
    for listing, catalogue in (("63", PROVINCES_63), ("34", PROVINCES_34)):
        for code, p in sorted(catalogue.items()):
            provinces.append(
                [
                    listing,
                    code,
                    p.name,
                    p.valid_from or "",
                    p.valid_to or "",
                    successor(code) if listing == "63" else code,
                ]
            )
    groups = [
        [g.code, g.name_vi, g.payer.value, g.default_benefit_level]
        for _, g in sorted(BENEFICIARY_GROUPS.items())
    ]
    facilities = [
        [code, code[:2], province, province_name(province)]
        for code, province in aggregates.facility_codes(engine)
        if not code.endswith("000")
    ]
    specs: list[tuple[Dataset, list[str], Sequence[Sequence[object]]]] = [
        (
            Dataset(
                "ref-provinces",
                "ref_provinces.csv",
                "Danh mục tỉnh, thành phố (63 và 34)",
                "Provinces (the 63-list and the 34-list of 1 July 2025)",
                "Mã và tên tỉnh trước và sau Nghị quyết 202/2025/QH15, với mã tỉnh kế thừa.",
                "Province codes and names before and after Resolution 202/2025/QH15, with the "
                "successor of each old code.",
                ("REGI", "GOVE"),
                None,
                "reference",
            ),
            ["list", "code", "name", "valid_from", "valid_to", "successor_34"],
            provinces,
        ),
        (
            Dataset(
                "ref-beneficiary-groups",
                "ref_beneficiary_groups.csv",
                "Danh mục mã đối tượng tham gia BHYT",
                "Health-insurance beneficiary groups",
                "43 mã đối tượng (Quyết định 1351/QĐ-BHXH), bên đóng và mức hưởng mặc định.",
                "The 43 beneficiary group codes (Decision 1351/QĐ-BHXH), who pays and the "
                "default benefit level.",
                ("SOCI", "HEAL"),
                None,
                "reference",
            ),
            ["code", "name_vi", "payer", "default_benefit_level"],
            groups,
        ),
        (
            Dataset(
                "ref-facilities",
                "ref_facilities.csv",
                "Danh mục cơ sở khám chữa bệnh BHYT (mã)",
                "Health-care facilities (codes)",
                "Mã cơ sở khám chữa bệnh có trong thẻ hoặc lượt khám, với tỉnh.",
                "Facility codes named on cards or visits, with their province.",
                ("HEAL",),
                None,
                "reference",
            ),
            ["facility_code", "province_code_issued", "province_code", "province_name"],
            facilities,
        ),
    ]
    written = []
    for dataset, header, rows in specs:
        dataset.rows = _write_csv(out / dataset.file, header, rows)
        written.append(dataset)
    return written


def publish(
    engine: Engine, out: Path, on: date, k: int = 10, base_url: str = "", parquet: bool = False
) -> list[Dataset]:
    """Write every dataset (and, with ``parquet``, a Parquet copy of each) and
    ``catalog.jsonld`` into ``out``; the datasets written."""
    if k < 1:
        raise ValueError("min-cell must be at least 1")
    out.mkdir(parents=True, exist_ok=True)
    datasets = [
        participants_dataset(engine, out, on, k),
        cardholders_dataset(engine, out, on, k),
        coverage_dataset(engine, out, on, k),
        visits_dataset(engine, out, on, k),
        *reference_datasets(engine, out),
    ]
    if parquet:
        for dataset in datasets:
            dataset.parquet_file = write_parquet_copy(out / dataset.file).name
    write_catalog(out, datasets, on, base_url, k)
    return datasets
