"""The national open-data portal (Cổng dữ liệu quốc gia) stand-in: a CKAN-compatible action API.

The actions nidb's push uses, answered as CKAN 2.10 answers them (``{"success": true, "result":
...}``, or ``{"success": false, "error": {"__type": ..., <field>: [...]}}`` with HTTP 409 for a
validation error, 403 for a missing or wrong API key, 404 for an unknown dataset or resource):
``package_list``, ``package_show``, ``package_create``, ``package_update`` (the dataset's
metadata; resources listed by id are kept, others dropped, as CKAN does), ``resource_create``
and ``resource_update`` (a multipart ``upload`` file, or a ``url``). Each error also carries a
stable ``code`` and a ``message`` in Vietnamese then English. Files are kept in memory with
their SHA-256; ``GET /files/{resource_id}`` serves them back.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from nidb.apidocs import mount_offline_docs

__all__ = ["OpenDataPortal", "create_app", "serve"]

NAME = re.compile(r"^[a-z0-9_-]{2,100}$")
MAX_FILE = 200 << 20
PACKAGE_FIELDS = ("title", "notes", "license_id", "owner_org", "version", "url")


class CkanError(Exception):
    def __init__(
        self, status: int, kind: str, code: str, vi: str, en: str, field: str = ""
    ) -> None:
        super().__init__(code)
        self.status, self.kind, self.code, self.vi, self.en, self.field = (
            status,
            kind,
            code,
            vi,
            en,
            field,
        )

    def answer(self) -> JSONResponse:
        error: dict[str, Any] = {
            "__type": self.kind,
            "code": self.code,
            "message": f"{self.vi} ({self.en})",
        }
        if self.field:
            error[self.field] = [self.en]
        return JSONResponse({"success": False, "error": error}, status_code=self.status)


def _invalid(field: str, code: str, vi: str, en: str) -> CkanError:
    return CkanError(409, "Validation Error", code, vi, en, field)


@dataclass
class OpenDataPortal:
    packages: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)

    def package(self, ref: object) -> dict[str, Any]:
        for package in self.packages.values():
            if ref in (package["id"], package["name"]):
                return package
        raise CkanError(
            404,
            "Not Found Error",
            "DATASET_NOT_FOUND",
            f"không có bộ dữ liệu {str(ref)[:60]!r}",
            f"no dataset {str(ref)[:60]!r}",
        )

    def resource(self, ref: object) -> tuple[dict[str, Any], dict[str, Any]]:
        for package in self.packages.values():
            for resource in package["resources"]:
                if resource["id"] == ref:
                    return package, resource
        raise CkanError(
            404,
            "Not Found Error",
            "RESOURCE_NOT_FOUND",
            f"không có tài nguyên {str(ref)[:60]!r}",
            f"no resource {str(ref)[:60]!r}",
        )


def _text(
    data: dict[str, Any], name: str, *, required: bool = False, limit: int = 10_000
) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise _invalid(name, "FIELD_MISSING", f"thiếu trường {name}", f"{name} is missing")
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise _invalid(
            name,
            "FIELD_INVALID",
            f"trường {name} không hợp lệ",
            f"{name} must be text of at most {limit} characters",
        )
    return value


def _metadata(data: dict[str, Any]) -> dict[str, Any]:
    name = _text(data, "name", required=True, limit=100)
    if not NAME.match(name or ""):
        raise _invalid(
            "name",
            "NAME_INVALID",
            "tên bộ dữ liệu chỉ gồm chữ thường không dấu, số, - và _ (2–100 ký tự)",
            "name must be 2-100 lowercase ASCII letters, digits, - or _",
        )
    found: dict[str, Any] = {"name": name}
    for key in PACKAGE_FIELDS:
        found[key] = _text(data, key, limit=1000 if key != "notes" else 20_000)
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(
        isinstance(t, dict) and isinstance(t.get("name"), str) and 0 < len(t["name"]) <= 100
        for t in tags
    ):
        raise _invalid(
            "tags",
            "TAGS_INVALID",
            "thẻ phải là danh sách {name}",
            "tags must be a list of {name: text}",
        )
    extras = data.get("extras", [])
    if not isinstance(extras, list) or not all(
        isinstance(e, dict) and isinstance(e.get("key"), str) and isinstance(e.get("value"), str)
        for e in extras
    ):
        raise _invalid(
            "extras",
            "EXTRAS_INVALID",
            "extras phải là danh sách {key, value}",
            "extras must be a list of {key: text, value: text}",
        )
    found["tags"] = [{"name": t["name"]} for t in tags]
    found["extras"] = [{"key": e["key"], "value": e["value"]} for e in extras]
    return found


def create_app(api_keys: dict[str, str], held: OpenDataPortal | None = None) -> FastAPI:
    """The portal; ``api_keys``: user → API key (any of them may write)."""
    portal = held or OpenDataPortal()
    app = FastAPI(
        title="Cổng dữ liệu quốc gia (CKAN API) — stand-in",
        summary="A CKAN-compatible open-data portal as nidb's tests and demos see it.",
        version="1",
        docs_url=None,
        redoc_url=None,
    )
    mount_offline_docs(app)
    app.state.portal = portal

    def authorise(request: Request) -> str:
        given = request.headers.get("authorization") or request.headers.get("x-ckan-api-key")
        for user, key in api_keys.items():
            if given and hmac.compare_digest(given.encode(), key.encode()):
                return user
        raise CkanError(
            403,
            "Authorization Error",
            "API_KEY_INVALID" if given else "API_KEY_MISSING",
            "thiếu hoặc sai khóa API (Authorization)",
            "missing or wrong API key (Authorization header)",
        )

    async def body_of(request: Request) -> tuple[dict[str, Any], UploadFile | None]:
        kind = request.headers.get("content-type", "")
        if kind.startswith("multipart/form-data"):
            form = await request.form()
            upload = form.get("upload")
            data = {k: v for k, v in form.items() if isinstance(v, str)}
            return data, upload if isinstance(upload, UploadFile) else None
        try:
            data = await request.json()
        except ValueError:
            raise _invalid(
                "body", "BODY_NOT_JSON", "nội dung không phải JSON", "the body is not JSON"
            ) from None
        if not isinstance(data, dict):
            raise _invalid(
                "body",
                "BODY_NOT_OBJECT",
                "nội dung phải là một đối tượng JSON",
                "the body must be a JSON object",
            )
        return data, None

    async def resource_values(
        request: Request, data: dict[str, Any], upload: UploadFile | None, rid: str
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key in ("name", "description", "format", "mimetype"):
            values[key] = _text(data, key, limit=1000)
        if upload is not None:
            content = await upload.read(MAX_FILE + 1)
            if len(content) > MAX_FILE:
                raise _invalid(
                    "upload",
                    "FILE_TOO_LARGE",
                    "tệp quá lớn (tối đa 200 MiB)",
                    "file larger than 200 MiB",
                )
            portal.files[rid] = content
            values.update(
                url=f"{str(request.base_url).rstrip('/')}/files/{rid}",
                url_type="upload",
                size=len(content),
                hash=f"sha256:{hashlib.sha256(content).hexdigest()}",
            )
        elif data.get("url"):
            values.update(url=_text(data, "url", limit=2000), url_type=None, size=None, hash=None)
        else:
            raise _invalid(
                "url",
                "URL_OR_UPLOAD_MISSING",
                "cần tệp tải lên (upload) hoặc url",
                "an upload file or a url is needed",
            )
        values["last_modified"] = datetime.now(UTC).isoformat()
        return values

    @app.exception_handler(CkanError)
    async def on_ckan_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, CkanError)
        return error.answer()

    def ok(result: Any) -> dict[str, Any]:
        return {"success": True, "result": result}

    @app.get("/api/3/action/package_list", tags=["ckan"])
    async def package_list() -> dict[str, Any]:
        return ok(sorted(p["name"] for p in portal.packages.values()))

    @app.get("/api/3/action/package_show", tags=["ckan"])
    async def package_show(id: str) -> dict[str, Any]:
        return ok(portal.package(id))

    @app.post("/api/3/action/package_create", tags=["ckan"])
    async def package_create(request: Request) -> dict[str, Any]:
        user = authorise(request)
        data, _ = await body_of(request)
        values = _metadata(data)
        if any(p["name"] == values["name"] for p in portal.packages.values()):
            raise _invalid(
                "name",
                "NAME_TAKEN",
                f"tên {values['name']} đã được dùng",
                "That URL is already in use.",
            )
        now = datetime.now(UTC).isoformat()
        package = {
            "id": str(uuid.uuid4()),
            **values,
            "creator_user_id": user,
            "metadata_created": now,
            "metadata_modified": now,
            "resources": [],
        }
        portal.packages[package["id"]] = package
        portal.actions.append(f"package_create {values['name']}")
        return ok(package)

    @app.post("/api/3/action/package_update", tags=["ckan"])
    async def package_update(request: Request) -> dict[str, Any]:
        authorise(request)
        data, _ = await body_of(request)
        package = portal.package(data.get("id") or data.get("name"))
        values = _metadata({**data, "name": data.get("name") or package["name"]})
        kept = data.get("resources", [])
        if not isinstance(kept, list):
            raise _invalid(
                "resources",
                "RESOURCES_INVALID",
                "resources phải là danh sách",
                "resources must be a list",
            )
        keep = {r.get("id") for r in kept if isinstance(r, dict)}
        package.update(
            values,
            metadata_modified=datetime.now(UTC).isoformat(),
            resources=[r for r in package["resources"] if r["id"] in keep],
        )
        portal.actions.append(f"package_update {package['name']}")
        return ok(package)

    @app.post("/api/3/action/resource_create", tags=["ckan"])
    async def resource_create(request: Request) -> dict[str, Any]:
        authorise(request)
        data, upload = await body_of(request)
        package = portal.package(_text(data, "package_id", required=True))
        rid = str(uuid.uuid4())
        resource = {
            "id": rid,
            "package_id": package["id"],
            **await resource_values(request, data, upload, rid),
        }
        package["resources"].append(resource)
        portal.actions.append(f"resource_create {package['name']}/{resource['name']}")
        return ok(resource)

    @app.post("/api/3/action/resource_update", tags=["ckan"])
    async def resource_update(request: Request) -> dict[str, Any]:
        authorise(request)
        data, upload = await body_of(request)
        package, resource = portal.resource(_text(data, "id", required=True))
        resource.update(await resource_values(request, data, upload, resource["id"]))
        portal.actions.append(f"resource_update {package['name']}/{resource['name']}")
        return ok(resource)

    @app.get("/files/{resource_id}", tags=["files"])
    async def download(resource_id: str) -> Response:
        content = portal.files.get(resource_id)
        if content is None:
            return CkanError(
                404, "Not Found Error", "FILE_NOT_FOUND", "không có tệp", "no such file"
            ).answer()
        return Response(content, media_type="application/octet-stream")

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "datasets": len(portal.packages)}

    return app


def serve(api_keys: dict[str, str], host: str = "127.0.0.1", port: int = 8034) -> None:
    """Serve the open-data portal until interrupted."""
    uvicorn.run(create_app(api_keys), host=host, port=port, log_level="warning")
