"""Pushing the published open data to a CKAN-compatible portal (`nidb publish --push URL`).

Each dataset of the catalogue becomes one CKAN dataset (``package``) named by its identifier,
under the publisher's organisation, with its Vietnamese title, both descriptions, themes and
dates as extras, and one resource per file (the CSV, the Parquet copy when written). A dataset
already on the portal is updated (``package_update`` keeping its resources, then
``resource_update`` of each file by name), never created twice; the catalogue itself
(``catalog.jsonld``) goes with every dataset as a resource, so the portal holds the DCAT-AP text.
Files go as multipart uploads; the portal's answers are checked (its SHA-256 of each file must be
ours when it reports one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from nidb.analytics.catalog import LICENSE, sha256_of
from nidb.analytics.dataset import Dataset
from nidb.connectors.platforms import CkanClient, PlatformError

__all__ = ["PushError", "PushResult", "push_datasets"]

ORGANISATION = "bhxh-viet-nam"
MEDIA = {
    ".csv": "text/csv",
    ".parquet": "application/vnd.apache.parquet",
    ".jsonld": "application/ld+json",
}
FORMATS = {".csv": "CSV", ".parquet": "Parquet", ".jsonld": "JSON-LD"}


class PushError(PlatformError):
    """The portal accepted a call but its answer is not what was sent."""


@dataclass
class PushResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    files: int = 0


def _package(dataset: Dataset, on: date) -> dict[str, Any]:
    extras = {
        "title_en": dataset.title_en,
        "description_en": dataset.description_en,
        "issued": on.isoformat(),
        "themes": ",".join(dataset.themes),
        "kind": dataset.kind,
        "rows": str(dataset.rows),
        "suppressed_cells": str(dataset.suppressed),
    }
    if dataset.temporal is not None:
        extras["temporal_start"] = dataset.temporal[0].isoformat()
        extras["temporal_end"] = dataset.temporal[1].isoformat()
    return {
        "name": dataset.identifier,
        "title": dataset.title_vi,
        "notes": f"{dataset.description_vi}\n\n{dataset.description_en}",
        "license_id": LICENSE,
        "owner_org": ORGANISATION,
        "version": on.isoformat(),
        "tags": [{"name": theme.rsplit("/", 1)[-1]} for theme in dataset.themes],
        "extras": [{"key": key, "value": value} for key, value in sorted(extras.items())],
    }


def _files(out: Path, dataset: Dataset) -> list[Path]:
    names = [
        dataset.file,
        *([dataset.parquet_file] if dataset.parquet_file else []),
        "catalog.jsonld",
    ]
    return [out / name for name in names]


def push_datasets(client: CkanClient, out: Path, datasets: list[Dataset], on: date) -> PushResult:
    """Create or update every dataset and upload its files; PlatformError on the first failure
    (what was pushed before stays: a second push completes it, never duplicates it)."""
    result = PushResult()
    for dataset in datasets:
        metadata = _package(dataset, on)
        existing = client.find(dataset.identifier)
        if existing is None:
            package = client.action("package_create", json=metadata)
            result.created.append(dataset.identifier)
        else:
            listed = existing.get("resources")
            kept = [{"id": r.get("id")} for r in listed or [] if isinstance(r, dict)]
            package = client.action(
                "package_update", json={**metadata, "id": existing.get("id"), "resources": kept}
            )
            result.updated.append(dataset.identifier)
        package_id = client.field(package, "package_create/update", "id", str)
        resources = client.field(package, "package_create/update", "resources", list)
        by_name = {r.get("name"): r for r in resources if isinstance(r, dict)}
        for path in _files(out, dataset):
            fields = {
                "name": path.name,
                "format": FORMATS.get(path.suffix, path.suffix[1:]),
                "description": dataset.title_vi,
            }
            media = MEDIA.get(path.suffix, "application/octet-stream")
            if path.name in by_name:
                sent = client.upload(
                    "resource_update",
                    path,
                    {**fields, "id": str(by_name[path.name].get("id", ""))},
                    media,
                )
            else:
                sent = client.upload(
                    "resource_create", path, {**fields, "package_id": package_id}, media
                )
            reported = sent.get("hash")
            if reported and reported.removeprefix("sha256:") != sha256_of(path):
                raise PushError(
                    client.platform,
                    f"upload {path.name}",
                    f"tệp {path.name} đến cổng bị sai khác (SHA-256)",
                    f"{path.name} arrived altered (SHA-256 differs)",
                )
            result.files += 1
    return result
