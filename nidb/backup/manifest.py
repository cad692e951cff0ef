"""A backup's manifest (``manifest.json``): what the backup holds and how to check it.

A manifest comes back from outside at restore time, so `Manifest.load` validates every field
and checks the manifest's MAC (HMAC-SHA256 under a key derived from the backup key) before
anything in it is trusted.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from nidb.backup.errors import BackupRefused
from nidb.backup.sealed import BackupKey

__all__ = ["FORMAT", "MANIFEST_NAME", "DataFile", "Manifest"]

FORMAT = "nidb-backup/1"
MANIFEST_NAME = "manifest.json"
_MAX_MANIFEST_BYTES = 1 << 20
_NAME = re.compile(r"^[a-z0-9_]{1,63}$")
_FILE = re.compile(r"^data\.(sqlite3|pgdump)\.sealed$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class DataFile:
    """One file of the backup: its name in the folder, size and SHA-256 as written (sealed)."""

    name: str
    bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a backup holds (tables and row counts, access-log heads) and how it was made."""

    nidb_version: str
    alembic_revision: str | None
    engine: str
    server_version: str | None
    created_at: str
    tables: dict[str, int]
    access_log_heads: dict[int, tuple[int, str]]
    plain_bytes: int
    key_fingerprint: str
    files: tuple[DataFile, ...]
    cipher: str = "AES-256-GCM, 1 MiB chunks, HKDF-SHA256 per file (nidb.backup.sealed)"

    def _body(self) -> dict[str, Any]:
        body = asdict(self)
        body["access_log_heads"] = {
            str(lane): [seq, digest]
            for lane, (seq, digest) in sorted(self.access_log_heads.items())
        }
        body["files"] = [asdict(f) for f in self.files]
        return {"format": FORMAT, **body}

    def dumps(self, key: BackupKey) -> bytes:
        """The manifest as JSON, with its MAC under ``key``."""
        body = self._body()
        body["mac"] = key.mac(_canonical(body))
        return json.dumps(body, indent=2, ensure_ascii=False).encode() + b"\n"

    @classmethod
    def load(cls, path: Path, key: BackupKey) -> Manifest:
        """Read and check ``path``; raises BackupRefused naming what is wrong."""
        where = f"{path}"
        try:
            with path.open("rb") as handle:
                raw = handle.read(_MAX_MANIFEST_BYTES + 1)
        except OSError as error:
            raise BackupRefused(
                f"không đọc được bản kê {where} (cannot read the manifest): {error.strerror}"
            ) from None
        if len(raw) > _MAX_MANIFEST_BYTES:
            raise BackupRefused(f"bản kê {where} quá lớn (manifest larger than 1 MiB)")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise BackupRefused(f"bản kê {where} không phải JSON (manifest is not JSON)") from None
        if not isinstance(body, dict) or body.get("format") != FORMAT:
            raise BackupRefused(
                f"bản kê {where}: trường format phải là {FORMAT!r} "
                f"(not a manifest of this backup format)"
            )
        fingerprint = body.get("key_fingerprint")
        if fingerprint != key.fingerprint:
            raise BackupRefused(
                "sai khoá: bản sao lưu được mã hoá bằng khoá khác NIDB_BACKUP_KEY "
                f"(wrong key: the backup was sealed with key {str(fingerprint)[:16]!r}, "
                f"NIDB_BACKUP_KEY is {key.fingerprint!r})"
            )
        mac = body.pop("mac", None)
        if not isinstance(mac, str) or not _equal(mac, key.mac(_canonical(body))):
            raise BackupRefused(
                f"bản kê {where} đã bị sửa: mã xác thực không khớp "
                "(the manifest was changed: its MAC does not match)"
            )
        return _parse(body, where)


def _equal(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _field(body: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = body.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BackupRefused(
            f"bản kê {where}: trường {name!r} sai kiểu (field {name!r} has a bad type)"
        )
    return value


def _parse(body: dict[str, Any], where: str) -> Manifest:
    """The manifest's fields, each checked (the MAC says who wrote it, not that it is sane)."""
    tables_raw = _field(body, "tables", dict, where)
    tables: dict[str, int] = {}
    for name, count in tables_raw.items():
        if not _NAME.match(name) or not isinstance(count, int) or count < 0:
            raise BackupRefused(f"bản kê {where}: bảng {name[:70]!r} sai (bad table entry)")
        tables[name] = count
    heads: dict[int, tuple[int, str]] = {}
    for lane, pair in _field(body, "access_log_heads", dict, where).items():
        ok = (
            lane.isdigit()
            and isinstance(pair, list)
            and len(pair) == 2
            and isinstance(pair[0], int)
            and isinstance(pair[1], str)
            and _HEX64.match(pair[1])
        )
        if not ok:
            raise BackupRefused(f"bản kê {where}: mốc nhật ký lane {lane[:8]!r} sai (bad head)")
        heads[int(lane)] = (pair[0], pair[1])
    files = []
    for item in _field(body, "files", list, where):
        ok = (
            isinstance(item, dict)
            and isinstance(item.get("name"), str)
            and _FILE.match(item["name"])
            and isinstance(item.get("bytes"), int)
            and isinstance(item.get("sha256"), str)
            and _HEX64.match(item["sha256"])
        )
        if not ok:
            raise BackupRefused(f"bản kê {where}: mục files sai (bad file entry)")
        files.append(DataFile(item["name"], item["bytes"], item["sha256"]))
    engine = _field(body, "engine", str, where)
    if engine not in ("sqlite", "postgresql") or len(files) != 1:
        raise BackupRefused(f"bản kê {where}: engine hoặc files sai (bad engine or files)")
    revision = body.get("alembic_revision")
    server = body.get("server_version")
    return Manifest(
        nidb_version=_field(body, "nidb_version", str, where),
        alembic_revision=revision if isinstance(revision, str) else None,
        engine=engine,
        server_version=server if isinstance(server, str) else None,
        created_at=_field(body, "created_at", str, where),
        tables=tables,
        access_log_heads=heads,
        plain_bytes=_field(body, "plain_bytes", int, where),
        key_fingerprint=_field(body, "key_fingerprint", str, where),
        files=tuple(files),
        cipher=_field(body, "cipher", str, where),
    )
