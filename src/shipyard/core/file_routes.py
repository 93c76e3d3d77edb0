"""A router factory that stages mount to expose an owner's artifact files (a run's, a dataset's...).

    router = artifact_file_routes(owner_type="run", prefix="/api/v1/runs", check_owner=get_run)

gives ``PUT {prefix}/{owner_id}/artifacts?path=…`` (raw body), ``GET {prefix}/{owner_id}/artifacts``
(list, ``?prefix=``) and ``GET {prefix}/{owner_id}/artifacts/content?path=…`` (download).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from shipyard.core import files
from shipyard.core.deps import EditorDep, PlatformDep, ViewerDep
from shipyard.core.paths import validate_artifact_path
from shipyard.core.schemas import API_ERRORS, ArtifactFilePublic, ArtifactFilesPublic
from shipyard.core.transfer import receive_blob, send_blob

__all__ = ["artifact_file_routes"]

PathQuery = Annotated[
    str, Query(description="Logical path of the file inside its owner, e.g. 'model/model.skops'")
]


def artifact_file_routes(
    *, owner_type: str, prefix: str, check_owner: Callable[[Session, str], Any], tags: list[str] | None = None
) -> APIRouter:
    """``check_owner(session, owner_id)`` must raise ``NotFoundError`` for an unknown owner."""
    router = APIRouter(prefix=prefix, tags=tags or [owner_type], responses=API_ERRORS)

    def _check(platform: Any, owner_id: str) -> None:
        with platform.database.session() as session:
            check_owner(session, owner_id)

    @router.put(
        "/{owner_id}/artifacts",
        status_code=201,
        summary=f"Upload a file of a {owner_type}",
        openapi_extra={
            "requestBody": {
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
            }
        },
    )
    async def upload(
        owner_id: str, path: PathQuery, request: Request, platform: PlatformDep, actor: EditorDep
    ) -> ArtifactFilePublic:
        validate_artifact_path(path)  # before reading a byte of the body
        await run_in_threadpool(_check, platform, owner_id)
        blob = await receive_blob(request, platform.artifacts, max_bytes=platform.settings.max_upload_bytes)

        def _register() -> ArtifactFilePublic:
            with platform.database.session(write=True) as session:
                row = files.register_file(
                    session, actor=actor, owner_type=owner_type, owner_id=owner_id, path=path, blob=blob
                )
                return ArtifactFilePublic.model_validate(row)

        return await run_in_threadpool(_register)

    @router.get("/{owner_id}/artifacts", summary=f"List the files of a {owner_type}")
    def list_artifacts(
        owner_id: str, platform: PlatformDep, _: ViewerDep, prefix: Annotated[str, Query()] = ""
    ) -> ArtifactFilesPublic:
        with platform.database.session() as session:
            check_owner(session, owner_id)
            rows = files.list_files(session, owner_type=owner_type, owner_id=owner_id, prefix=prefix)
            return ArtifactFilesPublic(files=[ArtifactFilePublic.model_validate(r) for r in rows])

    @router.get(
        "/{owner_id}/artifacts/content",
        summary=f"Download a file of a {owner_type}",
        response_class=StreamingResponse,
        responses={200: {"content": {"application/octet-stream": {}}}},
    )
    async def download(
        owner_id: str, path: PathQuery, platform: PlatformDep, _: ViewerDep
    ) -> StreamingResponse:
        def _lookup() -> str:
            with platform.database.session() as session:
                check_owner(session, owner_id)
                return files.get_file(session, owner_type=owner_type, owner_id=owner_id, path=path).digest

        digest = await run_in_threadpool(_lookup)
        return await send_blob(platform.artifacts, digest, filename=path)

    return router
