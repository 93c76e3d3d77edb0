"""Endpoint configuration API of the control plane: ``/api/v1/endpoints``.

Changes are committed first, then handed to this process's data plane, which loads the version in
the background (``status`` shows its progress); other server processes pick them up on their next
poll of the store.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from shipyard.core.deps import EditorDep, PlatformDep, ViewerDep
from shipyard.core.errors import InvalidParameterError, NotFoundError
from shipyard.core.schemas import API_ERRORS
from shipyard.serving import endpoints
from shipyard.serving.manager import ServingManager
from shipyard.serving.schemas import (
    EndpointCreate,
    EndpointPublic,
    EndpointsPublic,
    EndpointStatus,
    EndpointUpdate,
)
from shipyard.serving.tables import ServingEndpoint

__all__ = ["check_resolves", "router", "status_of"]

router = APIRouter(prefix="/api/v1/endpoints", tags=["endpoints"], responses=API_ERRORS)
EndpointName = Annotated[str, Path(max_length=64, description="endpoint name")]


def _manager(request: Request) -> ServingManager | None:
    return getattr(request.app.state, "serving", None)


def status_of(manager: ServingManager | None, name: str) -> EndpointStatus:
    endpoint = manager.endpoints.get(name) if manager is not None else None
    if endpoint is None:
        return EndpointStatus(state="not_served")
    active = endpoint.active
    return EndpointStatus(
        state=endpoint.state,
        model_name=active.ref.name if active else None,
        version=active.ref.version if active else None,
        loading_version=endpoint.loading.version if endpoint.loading else None,
        error=endpoint.error,
        loaded_at=datetime.fromtimestamp(active.loaded_at, UTC) if active else None,
        load_seconds=round(active.load_seconds, 4) if active else None,
        in_flight=active.in_flight if active else 0,
        draining_versions=sorted(r.ref.version for r in endpoint.draining),
    )


def _public(row: ServingEndpoint, manager: ServingManager | None) -> EndpointPublic:
    base = f"/endpoints/{row.name}"
    return EndpointPublic(
        name=row.name,
        model_uri=row.model_uri,
        description=row.description,
        log_predictions=row.log_predictions,
        sample_rate=row.sample_rate,
        redact=list(row.redact or []),
        max_batch_rows=row.max_batch_rows,
        max_delay_ms=row.max_delay_ms,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        status=status_of(manager, row.name),
        urls={
            "predict": f"{base}/predict",
            "feedback": f"{base}/feedback",
            "invocations": f"{base}/invocations",
            "v2_infer": f"/v2/models/{row.name}/infer",
        },
    )


async def check_resolves(manager: ServingManager | None, uri: str) -> None:
    """Refuse (400 on ``model_uri``) a URI that names no model here; skipped when nothing is served."""
    if manager is None:
        return
    try:
        await run_in_threadpool(manager.source.resolve, uri)
    except (NotFoundError, InvalidParameterError) as exc:
        raise InvalidParameterError(
            f"model_uri {uri} does not name a model here: {exc}", field="model_uri"
        ) from None


async def _apply(request: Request, row: ServingEndpoint | None, name: str) -> None:
    manager = _manager(request)
    if manager is None:
        return
    if row is None:
        await manager.remove(name)
    else:
        await manager.put(endpoints.spec_of(row))


def _values(body: Any) -> dict[str, Any]:
    return {k: v for k, v in body.model_dump(exclude={"name"}).items() if v is not None}


@router.get("", summary="Endpoints, with what this process serves on each")
def list_endpoints(request: Request, platform: PlatformDep, _: ViewerDep) -> EndpointsPublic:
    manager = _manager(request)
    with platform.database.session() as session:
        return EndpointsPublic(endpoints=[_public(row, manager) for row in endpoints.list_endpoints(session)])


@router.post("", status_code=201, summary="Create an endpoint; its model loads in the background")
async def create_endpoint(
    request: Request, body: EndpointCreate, platform: PlatformDep, actor: EditorDep
) -> EndpointPublic:
    endpoints.check_model_uri(body.model_uri)
    await check_resolves(_manager(request), body.model_uri)

    def create() -> ServingEndpoint:
        with platform.database.session(write=True) as session:
            row = endpoints.create_endpoint(session, actor=actor, name=body.name, **_values(body))
            session.expunge(row)
            return row

    row = await run_in_threadpool(create)
    await _apply(request, row, row.name)
    return _public(row, _manager(request))


@router.get("/{name}", summary="One endpoint and its serving status")
def get_endpoint(name: EndpointName, request: Request, platform: PlatformDep, _: ViewerDep) -> EndpointPublic:
    with platform.database.session() as session:
        return _public(endpoints.get_endpoint(session, name), _manager(request))


@router.patch(
    "/{name}", summary="Change an endpoint (a new model URI swaps versions without failed requests)"
)
async def update_endpoint(
    name: EndpointName, request: Request, body: EndpointUpdate, platform: PlatformDep, actor: EditorDep
) -> EndpointPublic:
    values = _values(body)
    if "model_uri" in values:
        endpoints.check_model_uri(values["model_uri"])
        await check_resolves(_manager(request), values["model_uri"])

    def update() -> ServingEndpoint:
        with platform.database.session(write=True) as session:
            row = endpoints.update_endpoint(session, actor=actor, name=name, **values)
            session.expunge(row)
            return row

    row = await run_in_threadpool(update)
    await _apply(request, row, name)
    return _public(row, _manager(request))


@router.delete("/{name}", status_code=204, summary="Delete an endpoint; in-flight requests finish first")
async def delete_endpoint(
    name: EndpointName, request: Request, platform: PlatformDep, actor: EditorDep
) -> Response:
    def delete() -> None:
        with platform.database.session(write=True) as session:
            endpoints.delete_endpoint(session, actor=actor, name=name)

    await run_in_threadpool(delete)
    await _apply(request, None, name)
    return Response(status_code=204)
