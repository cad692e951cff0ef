"""Partner services: one POST endpoint per service, taking and returning signed envelopes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from nidb.api.observe import note_outcome
from nidb.api.schemas import EnvelopeDoc
from nidb.exchange.runtime import ExchangeRuntime, Route

REFUSALS = {
    # the refusals of a signed envelope, by HTTP status (every signed service documents them)
    400: "E_MALFORMED, E_WRONG_RECEIVER, E_WRONG_SERVICE",
    401: "E_UNSIGNED, E_BAD_SIGNATURE, E_UNKNOWN_SENDER, E_STALE, E_FUTURE",
    403: "E_NOT_GRANTED, E_SENDER_SUSPENDED",
    404: "E_SUBJECT_NOT_FOUND",
    409: "E_REPLAY",
    422: "E_BODY_INVALID",
    429: "E_RATE_LIMITED",
}


def component_schemas(routes: dict[str, Route]) -> dict[str, Any]:
    """The schemas the partner operations refer to (``#/components/schemas/…``): the envelope's
    parts and the bodies' nested models (PersonQueryBody, VisitIn, …). `nidb.api.app` adds them
    to the spec's components, so every ``$ref`` resolves."""
    found: dict[str, Any] = {}
    models: list[type[BaseModel]] = [EnvelopeDoc, *(route.body for route in routes.values())]
    for model in models:
        schema = model.model_json_schema(ref_template=_REF)
        found.update(schema.pop("$defs", {}))
    return found


_REF = "#/components/schemas/{model}"


def _openapi(route: Route) -> dict[str, Any]:
    body_schema = route.body.model_json_schema(ref_template=_REF)
    envelope = EnvelopeDoc.model_json_schema(ref_template=_REF)
    envelope.pop("$defs", None)  # in components (component_schemas)
    body_schema.pop("$defs", None)
    envelope["properties"]["body"] = body_schema
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": envelope}},
            "description": "A signed envelope (INTERCHANGE.md) whose body is "
            + route.body.__name__,
        }
    }


def hoist_definitions(schema: dict[str, Any]) -> dict[str, Any]:
    """Move the ``$defs`` of each partner service's request body into
    ``components.schemas``, where their ``$ref`` point (ReDoc and Swagger UI resolve references
    there only; left in place, ReDoc stops with "Invalid reference token")."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                defs = media.get("schema", {}).pop("$defs", None) or {}
                for name, definition in defs.items():
                    components.setdefault(name, definition)
    return schema


async def _answer(request: Request, service: str) -> Response:
    runtime: ExchangeRuntime = request.app.state.exchange
    reply = await runtime.answer_async(service, await request.body())
    note_outcome(request.scope, service, reply.result)
    return Response(reply.content, status_code=reply.status, media_type="application/json")


def _endpoint(route: Route) -> Any:
    async def endpoint(request: Request) -> Response:
        return await _answer(request, route.service.name)

    endpoint.__name__ = route.service.name.replace(".", "_").replace("/", "_")
    return endpoint


def mount(runtime_routes: dict[str, Route]) -> APIRouter:
    """A router with one endpoint per service."""
    router = APIRouter(prefix="/x", tags=["exchange"])
    for name, route in runtime_routes.items():
        router.add_api_route(
            f"/{name}",
            _endpoint(route),
            methods=["POST"],
            summary=route.service.title_vi,
            description=(
                f"Service `{name}`. Needs a grant of group `{route.service.required_group}`"
                + (
                    f"; the answer includes groups {', '.join(route.service.optional_groups)} "
                    "only where granted."
                    if route.service.optional_groups
                    else "."
                )
                + " Replies are signed envelopes; refusals carry `body.error.code`."
            ),
            response_model=EnvelopeDoc,
            responses={
                status: {"model": EnvelopeDoc, "description": codes}
                for status, codes in REFUSALS.items()
            },
            openapi_extra=_openapi(route),
        )
    return router
