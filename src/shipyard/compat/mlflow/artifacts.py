"""MLflow's artifact proxy (``/api/2.0/mlflow-artifacts/artifacts/...``) and run artifact listing.

The client addresses files as ``<experiment>/<run_id>/artifacts/<file>`` for runs and
``<experiment>/models/<model_id>/artifacts/<file>`` for logged models. Both map onto the core's
content-addressed file index; the client never chooses where bytes are stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import delete
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from shipyard.compat.mlflow._wire import Params, json_response, optional, string
from shipyard.core import audit, files
from shipyard.core.deps import EditorDep, PlatformDep, ViewerDep
from shipyard.core.errors import InvalidParameterError, NotFoundError
from shipyard.core.paths import validate_artifact_path
from shipyard.core.schemas import API_ERRORS
from shipyard.core.tables import ArtifactFile
from shipyard.core.transfer import receive_blob, send_blob
from shipyard.tracking import logged_models, runs
from shipyard.tracking.experiments import experiment_id_of

__all__ = ["router"]

router = APIRouter(tags=["mlflow"], responses=API_ERRORS)
PROXY = "/api/2.0/mlflow-artifacts/artifacts"


@dataclass(frozen=True)
class Location:
    owner_type: str  # "run" or "logged_model"
    owner_id: str
    path: str  # inside the owner's artifacts; "" is the root


def locate(session: Session, artifact_path: str) -> Location:
    """Resolve a proxy path to an owner that exists in that experiment, and a validated file path."""
    parts = artifact_path.strip("/").split("/")
    if len(parts) >= 4 and parts[1] == "models" and parts[3] == "artifacts":
        owner_type, owner_id, rest = "logged_model", parts[2], parts[4:]
        owner_experiment = logged_models.get_logged_model(session, owner_id).experiment_id
    elif len(parts) >= 3 and parts[2] == "artifacts":
        owner_type, owner_id, rest = "run", parts[1], parts[3:]
        owner_experiment = runs.get_run(session, owner_id).experiment_id
    else:
        raise InvalidParameterError(
            f"artifact path {artifact_path!r} must look like <experiment>/<run_id>/artifacts/<file> or "
            "<experiment>/models/<model_id>/artifacts/<file>",
            field="path",
        )
    if experiment_id_of(parts[0], "path") != owner_experiment:
        raise NotFoundError(f"{owner_type} {owner_id} is not in experiment {parts[0]}", field="path")
    path = "/".join(rest)
    return Location(owner_type, owner_id, validate_artifact_path(path, allow_empty=True) if path else "")


def _listing(session: Session, location: Location) -> list[dict[str, object]]:
    """Immediate children of a folder: files with sizes, then sub-folders (names relative to it)."""
    prefix = f"{location.path.rstrip('/')}/" if location.path else ""
    entries: dict[str, dict[str, object]] = {}
    for row in files.list_files(
        session, owner_type=location.owner_type, owner_id=location.owner_id, prefix=location.path
    ):
        name, _, deeper = row.path[len(prefix) :].partition("/")
        if deeper:
            entries.setdefault(name, {"path": name, "is_dir": True})
        else:
            entries[name] = {"path": name, "is_dir": False, "file_size": row.size}
    return sorted(entries.values(), key=lambda entry: str(entry["path"]))


@router.put(f"{PROXY}/{{artifact_path:path}}", summary="MLflow: upload an artifact file")
async def upload_artifact(
    artifact_path: str, request: Request, platform: PlatformDep, actor: EditorDep
) -> Response:
    def _locate() -> Location:
        with platform.database.session() as session:
            return locate(session, artifact_path)

    location = await run_in_threadpool(_locate)
    if not location.path:
        raise InvalidParameterError("an artifact upload needs a file name after 'artifacts/'", field="path")
    blob = await receive_blob(
        request, platform.artifacts, max_bytes=platform.settings.max_upload_bytes, any_content_type=True
    )

    def _register() -> None:
        with platform.database.session(write=True) as session:
            files.register_file(
                session,
                actor=actor,
                owner_type=location.owner_type,
                owner_id=location.owner_id,
                path=location.path,
                blob=blob,
            )

    await run_in_threadpool(_register)
    return Response(status_code=200)


@router.get(
    f"{PROXY}/{{artifact_path:path}}",
    summary="MLflow: download an artifact file",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download_artifact(artifact_path: str, platform: PlatformDep, _: ViewerDep) -> StreamingResponse:
    def _digest() -> str:
        with platform.database.session() as session:
            location = locate(session, artifact_path)
            return files.get_file(
                session, owner_type=location.owner_type, owner_id=location.owner_id, path=location.path
            ).digest

    digest = await run_in_threadpool(_digest)
    return await send_blob(platform.artifacts, digest, filename=artifact_path)


@router.delete(f"{PROXY}/{{artifact_path:path}}", summary="MLflow: delete an artifact file")
def delete_artifact(artifact_path: str, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        location = locate(session, artifact_path)
        row = files.get_file(
            session, owner_type=location.owner_type, owner_id=location.owner_id, path=location.path
        )
        session.execute(delete(ArtifactFile).where(ArtifactFile.id == row.id))
        audit.record(
            session,
            actor=actor,
            action="artifact.delete",
            object_type=location.owner_type,
            object_id=location.owner_id,
            before={"path": row.path, "digest": row.digest},
        )
    return Response(status_code=200)


@router.get(PROXY, summary="MLflow: list a folder of artifacts")
def list_artifacts(params: Params, platform: PlatformDep, _: ViewerDep) -> Response:
    path = optional(params, "path", "")
    if not path:
        return json_response({})
    with platform.database.session() as session:
        entries = _listing(session, locate(session, str(path)))
    return json_response({"files": entries} if entries else {})


@router.get("/api/2.0/mlflow/artifacts/list", summary="MLflow: list a run's artifacts")
def list_run_artifacts(params: Params, platform: PlatformDep, _: ViewerDep) -> Response:
    run_id = string(params, "run_id", "run_uuid")
    folder = optional(params, "path", "")
    with platform.database.session() as session:
        run = runs.get_run(session, run_id)
        location = Location("run", run.id, validate_artifact_path(folder, allow_empty=True) if folder else "")
        entries = _listing(session, location)
    prefix = f"{location.path.rstrip('/')}/" if location.path else ""
    body: dict[str, object] = {"root_uri": run.artifact_uri}
    if entries:
        body["files"] = [{**entry, "path": prefix + str(entry["path"])} for entry in entries]
    return json_response(body)


@router.get("/api/3.0/mlflow/server-info", summary="MLflow: server capabilities")
def server_info(_: ViewerDep) -> Response:
    # Multipart uploads stay off: our uploads stream to the content-addressed store in one request.
    return json_response(
        {"store_type": "SqlStore", "multipart_uploads_enabled": False, "multipart_downloads_enabled": False}
    )
