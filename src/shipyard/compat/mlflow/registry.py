"""MLflow model-registry REST endpoints over Shipyard's registry services.

Setting a protected alias (``champion`` by default) as an editor files an approval request and
answers 403 PERMISSION_DENIED naming the request, so an unchanged MLflow script learns what to do.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from shipyard.compat.mlflow._wire import (
    READ_ONLY,
    Params,
    as_list,
    empty_response,
    json_response,
    key_values,
    optional,
    required,
    string,
)
from shipyard.core.deps import EditorDep, PlatformDep, ViewerDep
from shipyard.core.errors import PermissionDeniedError
from shipyard.core.schemas import API_ERRORS
from shipyard.registry import aliases, models, versions
from shipyard.registry.models import ModelRecord
from shipyard.registry.versions import VersionRecord
from shipyard.tracking._common import to_int

__all__ = ["router"]

router = APIRouter(prefix="/api/2.0/mlflow", tags=["mlflow"], responses=API_ERRORS)


def version_json(record: VersionRecord) -> dict[str, Any]:
    version = record.version
    body: dict[str, Any] = {
        "name": version.name,
        "version": str(version.version),
        "creation_timestamp": version.creation_time,
        "last_updated_timestamp": version.last_updated_time,
        "user_id": version.user_id,
        "current_stage": version.current_stage,
        "description": version.description,
        "source": version.source,
        "status": version.status,
        "tags": [{"key": k, "value": v} for k, v in record.tags.items()],
        "aliases": record.aliases,
    }
    for key, value in (
        ("run_id", version.run_id),
        ("run_link", version.run_link),
        ("model_id", version.model_id),
        ("status_message", version.status_message),
    ):
        if value:
            body[key] = value
    return body


def model_json(session: Session, record: ModelRecord) -> dict[str, Any]:
    model = record.model
    latest = versions.load_version_records(session, record.latest_versions)
    return {
        "name": model.name,
        "creation_timestamp": model.creation_time,
        "last_updated_timestamp": model.last_updated_time,
        "user_id": model.user_id,
        "description": model.description,
        "latest_versions": [version_json(v) for v in latest],
        "tags": [{"key": k, "value": v} for k, v in record.tags.items()],
        "aliases": [{"alias": a, "version": str(v)} for a, v in sorted(record.aliases.items())],
    }


def _model_body(session: Session, name: str) -> dict[str, Any]:
    record = models.load_model_records(session, [models.get_registered_model(session, name)])[0]
    return {"registered_model": model_json(session, record)}


def _version_body(session: Session, name: str, version: object) -> dict[str, Any]:
    found = versions.get_model_version(session, name, version)
    return {"model_version": version_json(versions.load_version_records(session, [found])[0])}


def _protected(platform: Any) -> frozenset[str]:
    return frozenset(platform.settings.protected_aliases)


# -- registered models ----------------------------------------------------------------------------
@router.post("/registered-models/create", summary="MLflow: create a registered model")
def create_registered_model(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        model = models.create_registered_model(
            session,
            actor=actor,
            name=string(params, "name"),
            description=optional(params, "description", ""),
            tags=key_values(params, "tags"),
        )
        return json_response(_model_body(session, model.name))


@router.get("/registered-models/get", summary="MLflow: get a registered model")
def get_registered_model(params: Params, platform: PlatformDep, _: ViewerDep) -> Response:
    with platform.database.session() as session:
        return json_response(_model_body(session, string(params, "name")))


@router.post("/registered-models/rename", summary="MLflow: rename a registered model")
def rename_registered_model(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        model = models.rename_registered_model(
            session, actor=actor, name=string(params, "name"), new_name=string(params, "new_name")
        )
        return json_response(_model_body(session, model.name))


@router.patch("/registered-models/update", summary="MLflow: update a registered model's description")
def update_registered_model(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        models.update_registered_model(
            session,
            actor=actor,
            name=string(params, "name"),
            description=str(optional(params, "description", "")),
        )
        return json_response(_model_body(session, string(params, "name")))


@router.delete("/registered-models/delete", summary="MLflow: delete a registered model and its versions")
def delete_registered_model(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        models.delete_registered_model(session, actor=actor, name=string(params, "name"))
    return empty_response()


@router.get("/registered-models/search", summary="MLflow: search registered models")
def search_registered_models(params: Params, platform: PlatformDep, _: ViewerDep) -> Response:
    with platform.database.session() as session:
        records, token = models.search_registered_models(
            session,
            filter_string=optional(params, "filter"),
            max_results=to_int(optional(params, "max_results"), field="max_results", default=100),
            order_by=as_list(params, "order_by"),
            page_token=optional(params, "page_token"),
        )
        body: dict[str, Any] = {"registered_models": [model_json(session, r) for r in records]}
        if token:
            body["next_page_token"] = token
        return json_response(body)


@router.post(
    "/registered-models/get-latest-versions",
    summary="MLflow: latest version per stage",
    openapi_extra=READ_ONLY,
)
@router.get(
    "/registered-models/get-latest-versions",
    summary="MLflow: latest version per stage",
    operation_id="get_latest_versions_get",
)
def get_latest_versions(params: Params, platform: PlatformDep, _: ViewerDep) -> Response:
    with platform.database.session() as session:
        found = versions.get_latest_versions(session, string(params, "name"), as_list(params, "stages"))
        return json_response(
            {"model_versions": [version_json(r) for r in versions.load_version_records(session, found)]}
        )


@router.post("/registered-models/set-tag", summary="MLflow: set a registered model tag")
def set_registered_model_tag(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        models.set_registered_model_tag(
            session,
            actor=actor,
            name=string(params, "name"),
            key=string(params, "key"),
            value=str(optional(params, "value", "")),
        )
    return empty_response()


@router.delete("/registered-models/delete-tag", summary="MLflow: delete a registered model tag")
def delete_registered_model_tag(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        models.delete_registered_model_tag(
            session, actor=actor, name=string(params, "name"), key=string(params, "key")
        )
    return empty_response()


@router.post("/registered-models/alias", summary="MLflow: point an alias at a version")
def set_alias(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        change = aliases.set_alias(
            session,
            actor=actor,
            name=string(params, "name"),
            alias=string(params, "alias"),
            version=required(params, "version"),
            protected=_protected(platform),
        )
    if change.request is not None:
        request = change.request
        raise PermissionDeniedError(
            f"alias {request.alias!r} is protected: approval request #{request.id} to move it to version "
            f"{request.version} was filed; an approver must accept it "
            f"(shipyard registry approve {request.id} --reason ...)",
            field="alias",
        )
    return empty_response()


@router.delete("/registered-models/alias", summary="MLflow: remove an alias")
def delete_alias(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        aliases.delete_alias(
            session,
            actor=actor,
            name=string(params, "name"),
            alias=string(params, "alias"),
            protected=_protected(platform),
        )
    return empty_response()


@router.get("/registered-models/alias", summary="MLflow: the version an alias points at")
def get_version_by_alias(params: Params, platform: PlatformDep, _: ViewerDep) -> Response:
    with platform.database.session() as session:
        found = aliases.get_version_by_alias(session, string(params, "name"), string(params, "alias"))
        return json_response(
            {"model_version": version_json(versions.load_version_records(session, [found])[0])}
        )


# -- model versions -------------------------------------------------------------------------------
@router.post("/model-versions/create", summary="MLflow: create a model version")
def create_model_version(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        created = versions.create_model_version(
            session,
            actor=actor,
            name=string(params, "name"),
            source=string(params, "source"),
            run_id=optional(params, "run_id"),
            model_id=optional(params, "model_id"),
            run_link=optional(params, "run_link"),
            description=optional(params, "description", ""),
            tags=key_values(params, "tags"),
        )
        return json_response(_version_body(session, created.name, created.version))


@router.get("/model-versions/get", summary="MLflow: get a model version")
def get_model_version(params: Params, platform: PlatformDep, _: ViewerDep) -> Response:
    with platform.database.session() as session:
        return json_response(_version_body(session, string(params, "name"), required(params, "version")))


@router.patch("/model-versions/update", summary="MLflow: update a model version's description")
def update_model_version(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        found = versions.update_model_version(
            session,
            actor=actor,
            name=string(params, "name"),
            version=required(params, "version"),
            description=str(optional(params, "description", "")),
        )
        return json_response(_version_body(session, found.name, found.version))


@router.delete("/model-versions/delete", summary="MLflow: delete a model version")
def delete_model_version(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        versions.delete_model_version(
            session, actor=actor, name=string(params, "name"), version=required(params, "version")
        )
    return empty_response()


@router.get("/model-versions/search", summary="MLflow: search model versions")
def search_model_versions(params: Params, platform: PlatformDep, _: ViewerDep) -> Response:
    with platform.database.session() as session:
        records, token = versions.search_model_versions(
            session,
            filter_string=optional(params, "filter"),
            max_results=to_int(optional(params, "max_results"), field="max_results", default=10_000),
            order_by=as_list(params, "order_by"),
            page_token=optional(params, "page_token"),
        )
    body: dict[str, Any] = {"model_versions": [version_json(r) for r in records]}
    if token:
        body["next_page_token"] = token
    return json_response(body)


@router.get("/model-versions/get-download-uri", summary="MLflow: where a version's files are")
def get_download_uri(params: Params, platform: PlatformDep, _: ViewerDep) -> Response:
    with platform.database.session() as session:
        found = versions.get_model_version(session, string(params, "name"), required(params, "version"))
        return json_response({"artifact_uri": found.storage_location})


@router.post("/model-versions/transition-stage", summary="MLflow: move a version to a stage (deprecated)")
def transition_stage(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    archive = str(optional(params, "archive_existing_versions", "false")).lower() == "true"
    with platform.database.session(write=True) as session:
        found = versions.transition_stage(
            session,
            actor=actor,
            name=string(params, "name"),
            version=required(params, "version"),
            stage=string(params, "stage"),
            archive_existing=archive,
        )
        return json_response(_version_body(session, found.name, found.version))


@router.post("/model-versions/set-tag", summary="MLflow: set a model version tag")
def set_model_version_tag(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        versions.set_model_version_tag(
            session,
            actor=actor,
            name=string(params, "name"),
            version=required(params, "version"),
            key=string(params, "key"),
            value=str(optional(params, "value", "")),
        )
    return empty_response()


@router.delete("/model-versions/delete-tag", summary="MLflow: delete a model version tag")
def delete_model_version_tag(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        versions.delete_model_version_tag(
            session,
            actor=actor,
            name=string(params, "name"),
            version=required(params, "version"),
            key=string(params, "key"),
        )
    return empty_response()
