"""The DCAT-AP catalogue (JSON-LD) of the open datasets: ``catalog.jsonld``.

DCAT-AP 3 classes and properties: a ``dcat:Catalog`` whose ``dcat:dataset`` entries carry
titles and descriptions in Vietnamese and English, publisher, issue date, temporal and spatial
coverage, themes (the EU data-theme vocabulary), licence, and ``dcat:Distribution``s with
download URL, media type, byte size and an SPDX SHA-256 checksum of the file as written.
The dates are the reference date, not the time of writing, so the same store and reference
date give the same catalogue.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from nidb.analytics.dataset import Dataset

CONTEXT: dict[str, str] = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "spdx": "http://spdx.org/rdf/terms#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "adms": "http://www.w3.org/ns/adms#",
}
DEFAULT_BASE_URL = "https://opendata.nidb.invalid/"
LICENSE = "http://creativecommons.org/licenses/by/4.0/"
VIETNAM = "http://publications.europa.eu/resource/authority/country/VNM"
THEMES = "http://publications.europa.eu/resource/authority/data-theme/"
CSV_TYPE = "https://www.iana.org/assignments/media-types/text/csv"
PUBLISHER = {
    "@type": "foaf:Organization",
    "foaf:name": [
        {"@language": "vi", "@value": "Bảo hiểm xã hội Việt Nam"},
        {"@language": "en", "@value": "Vietnam Social Security"},
    ],
}


def _text(vi: str, en: str) -> list[dict[str, str]]:
    return [{"@language": "vi", "@value": vi}, {"@language": "en", "@value": en}]


def _date(value: date) -> dict[str, str]:
    return {"@value": value.isoformat(), "@type": "xsd:date"}


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


FORMATS = {
    "csv": ("CSV", CSV_TYPE, "http://publications.europa.eu/resource/authority/file-type/CSV"),
    "parquet": (
        "Parquet",
        "https://www.iana.org/assignments/media-types/application/vnd.apache.parquet",
        "http://publications.europa.eu/resource/authority/file-type/PARQUET",
    ),
}


def _distribution(path: Path, d: Dataset, base_url: str, kind: str) -> dict[str, Any]:
    """The ``dcat:Distribution`` of one file of a dataset, with its size and SHA-256."""
    label, media_type, file_type = FORMATS[kind]
    url = base_url + path.name
    return {
        "@id": f"{base_url}distribution/{d.identifier}-{kind}",
        "@type": "dcat:Distribution",
        "dct:title": _text(f"{d.title_vi} ({label})", f"{d.title_en} ({label})"),
        "dcat:downloadURL": {"@id": url},
        "dcat:accessURL": {"@id": url},
        "dcat:mediaType": {"@id": media_type},
        "dct:format": {"@id": file_type},
        "dcat:byteSize": {"@value": str(os.path.getsize(path)), "@type": "xsd:nonNegativeInteger"},
        "spdx:checksum": {
            "@type": "spdx:Checksum",
            "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256"},
            "spdx:checksumValue": {"@value": sha256_of(path), "@type": "xsd:hexBinary"},
        },
        "dct:license": {"@id": LICENSE},
    }


def dataset_entry(out: Path, d: Dataset, issued: date, base_url: str) -> dict[str, Any]:
    """The ``dcat:Dataset`` node of one written dataset."""
    entry: dict[str, Any] = {
        "@id": f"{base_url}dataset/{d.identifier}",
        "@type": "dcat:Dataset",
        "dct:identifier": d.identifier,
        "dct:title": _text(d.title_vi, d.title_en),
        "dct:description": _text(d.description_vi, d.description_en),
        "dct:publisher": PUBLISHER,
        "dct:issued": _date(issued),
        "dct:spatial": {"@id": VIETNAM},
        "dct:license": {"@id": LICENSE},
        "dcat:theme": [{"@id": THEMES + theme} for theme in d.themes],
        "dcat:keyword": _text(
            "bảo hiểm xã hội" if d.kind == "statistics" else "danh mục",
            "social insurance" if d.kind == "statistics" else "reference data",
        ),
        "dcat:distribution": [
            _distribution(out / d.file, d, base_url, "csv"),
            *(
                [_distribution(out / d.parquet_file, d, base_url, "parquet")]
                if d.parquet_file
                else []
            ),
        ],
    }
    if d.temporal is not None:
        entry["dct:temporal"] = {
            "@type": "dct:PeriodOfTime",
            "dcat:startDate": _date(d.temporal[0]),
            "dcat:endDate": _date(d.temporal[1]),
        }
    return entry


def catalog_document(
    out: Path, datasets: Sequence[Dataset], issued: date, base_url: str, k: int
) -> dict[str, Any]:
    """The whole JSON-LD document."""
    base_url = base_url or DEFAULT_BASE_URL
    if not base_url.endswith("/"):
        base_url += "/"
    return {
        "@context": CONTEXT,
        "@id": f"{base_url}catalog",
        "@type": "dcat:Catalog",
        "dct:title": _text(
            "Dữ liệu mở của Cơ sở dữ liệu quốc gia về bảo hiểm",
            "Open data of the National Insurance Database",
        ),
        "dct:description": _text(
            f"Số liệu tổng hợp, đã ẩn ô nhỏ hơn {k} (kể cả ẩn bổ sung), và danh mục dùng chung.",
            f"Aggregate statistics with cells below {k} suppressed (with complementary "
            "suppression), and shared reference data.",
        ),
        "dct:publisher": PUBLISHER,
        "dct:issued": _date(issued),
        "dct:language": [
            {"@id": "http://publications.europa.eu/resource/authority/language/VIE"},
            {"@id": "http://publications.europa.eu/resource/authority/language/ENG"},
        ],
        "dct:spatial": {"@id": VIETNAM},
        "dct:license": {"@id": LICENSE},
        "dcat:dataset": [dataset_entry(out, d, issued, base_url) for d in datasets],
    }


def write_catalog(
    out: Path, datasets: Sequence[Dataset], issued: date, base_url: str, k: int
) -> Path:
    """Write ``catalog.jsonld`` (sorted keys, UTF-8) next to the datasets."""
    document = catalog_document(out, datasets, issued, base_url, k)
    path = out / "catalog.jsonld"
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(
        json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    os.replace(temp, path)
    return path
