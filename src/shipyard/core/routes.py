"""Core HTTP routes: health, readiness, version, tokens, audit log and raw blobs."""

from __future__ import annotations

import platform as py_platform
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from shipyard._version import __version__
from shipyard.core import audit, auth, migrate
from shipyard.core.artifacts import check_digest
from shipyard.core.deps import AdminDep, EditorDep, PlatformDep, ViewerDep
from shipyard.core.errors import StoreUnavailableError
from shipyard.core.schemas import (
    API_ERRORS,
    AuditEventPublic,
    AuditEventsPublic,
    BlobPublic,
    HealthPublic,
    ReadyPublic,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    TokensPublic,
    VersionPublic,
    error_responses,
)
from shipyard.core.transfer import receive_blob, send_blob

__all__ = ["api_router", "public_router"]

# Reachable without a token: probes from load balancers and orchestrators.
public_router = APIRouter(tags=["system"], responses=error_responses(422))
api_router = APIRouter(prefix="/api/v1", responses=API_ERRORS)


@public_router.get("/health", summary="Liveness: the process answers")
def health() -> HealthPublic:
    return HealthPublic()


@public_router.get(
    "/ready",
    summary="Readiness: the store answers and the schema is current",
    responses={503: {"model": ReadyPublic, "description": "Store unreachable or migrations pending"}},
)
def ready(platform: PlatformDep, response: Response) -> ReadyPublic:
    try:
        platform.database.ping()
        status = migrate.schema_status(platform.database)
    except StoreUnavailableError as exc:
        response.status_code = 503
        return ReadyPublic(status="unavailable", database=exc.message, schema_revision=None, schema_head=None)
    if not status.up_to_date:
        response.status_code = 503
    return ReadyPublic(
        status="ready" if status.up_to_date else "migrations pending",
        database="ok",
        schema_revision=status.current,
        schema_head=status.head,
    )


@public_router.get("/version", summary="Server version")
def version() -> VersionPublic:
    return VersionPublic(version=__version__, python=py_platform.python_version())


# -- tokens ---------------------------------------------------------------------------------------
@api_router.post("/tokens", status_code=201, tags=["tokens"], summary="Create a token (shown once)")
def create_token(body: TokenCreate, platform: PlatformDep, actor: AdminDep) -> TokenCreated:
    with platform.database.session(write=True) as session:
        token, secret = auth.create_token(
            session, actor=actor, name=body.name, role=body.role, expires_in_days=body.expires_in_days
        )
        return TokenCreated(token=TokenPublic.model_validate(token), secret=secret)


@api_router.get("/tokens", tags=["tokens"], summary="List tokens")
def list_tokens(platform: PlatformDep, _: AdminDep, include_revoked: bool = False) -> TokensPublic:
    with platform.database.session() as session:
        tokens = auth.list_tokens(session, include_revoked=include_revoked)
        return TokensPublic(tokens=[TokenPublic.model_validate(t) for t in tokens])


@api_router.delete("/tokens/{token_id}", tags=["tokens"], summary="Revoke a token")
def revoke_token(token_id: str, platform: PlatformDep, actor: AdminDep) -> TokenPublic:
    with platform.database.session(write=True) as session:
        return TokenPublic.model_validate(auth.revoke_token(session, actor=actor, token_id=token_id))


# -- audit ----------------------------------------------------------------------------------------
@api_router.get("/audit", tags=["audit"], summary="List audit events, newest first")
def list_audit(
    platform: PlatformDep,
    _: ViewerDep,
    actor: str | None = None,
    action: Annotated[str | None, Query(description="exact, or a prefix ending in '.*'")] = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    max_results: Annotated[int, Query(ge=1, le=audit.MAX_PAGE)] = 100,
    page_token: str | None = None,
) -> AuditEventsPublic:
    with platform.database.session() as session:
        page = audit.list_events(
            session,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            since=since,
            until=until,
            max_results=max_results,
            page_token=page_token,
        )
        return AuditEventsPublic(
            events=[AuditEventPublic.model_validate(e) for e in page.events],
            next_page_token=page.next_page_token,
        )


# -- blobs ----------------------------------------------------------------------------------------
@api_router.post(
    "/blobs",
    status_code=201,
    tags=["artifacts"],
    summary="Upload raw bytes; the server names them by SHA-256",
    openapi_extra={
        "requestBody": {
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
        }
    },
)
async def upload_blob(request: Request, platform: PlatformDep, actor: EditorDep) -> BlobPublic:
    info = await receive_blob(request, platform.artifacts, max_bytes=platform.settings.max_upload_bytes)

    def _audit() -> None:
        with platform.database.session(write=True) as session:
            audit.record(
                session,
                actor=actor,
                action="blob.upload",
                object_type="blob",
                object_id=info.digest,
                after={"size": info.size, "created": info.created},
            )

    await run_in_threadpool(_audit)
    return BlobPublic(digest=info.digest, size=info.size, created=info.created)


@api_router.get(
    "/blobs/{digest}",
    tags=["artifacts"],
    summary="Download a blob (verified against its hash)",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download_blob(digest: str, platform: PlatformDep, _: ViewerDep) -> StreamingResponse:
    return await send_blob(platform.artifacts, check_digest(digest))


@api_router.head("/blobs/{digest}", tags=["artifacts"], summary="Whether a blob exists, and its size")
async def head_blob(digest: str, platform: PlatformDep, _: ViewerDep) -> Response:
    size = await run_in_threadpool(platform.artifacts.size, check_digest(digest))
    return Response(headers={"Content-Length": str(size), "ETag": f'"{digest}"'})
