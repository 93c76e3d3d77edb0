"""Shipyard's own registry routes: approval queue, alias history, version lifecycle."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from shipyard.core.deps import ApproverDep, EditorDep, PlatformDep, ViewerDep
from shipyard.core.schemas import API_ERRORS
from shipyard.registry import aliases, groups, versions
from shipyard.registry.schemas import (
    AliasEventPublic,
    AliasEventsPublic,
    ApprovalCreate,
    ApprovalDecision,
    ApprovalRequestPublic,
    ApprovalRequestsPublic,
    LifecycleChange,
    ModelGroupCreate,
    ModelGroupPublic,
    ModelGroupsPublic,
    ModelVersionPublic,
    UseCaseLink,
)
from shipyard.registry.tables import ModelGroup

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/registry", tags=["registry"], responses=API_ERRORS)
RequestId = Annotated[int, Path(ge=1, lt=2**53, description="approval request id")]
VersionNumber = Annotated[int, Path(ge=1, lt=2**31)]


@router.get("/models/{name}/alias-history", summary="Every move of a model's aliases, oldest first")
def alias_history(
    name: str, platform: PlatformDep, _: ViewerDep, alias: Annotated[str | None, Query(max_length=255)] = None
) -> AliasEventsPublic:
    with platform.database.session() as session:
        events = aliases.alias_history(session, name=name, alias=alias)
        return AliasEventsPublic(events=[AliasEventPublic.model_validate(e) for e in events])


@router.get("/approvals", summary="Approval requests, newest first")
def list_approvals(
    platform: PlatformDep,
    _: ViewerDep,
    status: Annotated[
        str | None, Query(description="pending (default), approved, rejected, cancelled or all")
    ] = ("pending"),
    name: Annotated[str | None, Query(max_length=256)] = None,
) -> ApprovalRequestsPublic:
    with platform.database.session() as session:
        found = aliases.list_requests(session, status=None if status == "all" else status, name=name)
        return ApprovalRequestsPublic(requests=[ApprovalRequestPublic.model_validate(r) for r in found])


@router.post("/approvals", status_code=201, summary="Ask to move an alias (protected ones need an approver)")
def request_approval(body: ApprovalCreate, platform: PlatformDep, actor: EditorDep) -> ApprovalRequestPublic:
    with platform.database.session(write=True) as session:
        request = aliases.request_alias(
            session, actor=actor, name=body.name, alias=body.alias, version=body.version, reason=body.reason
        )
        return ApprovalRequestPublic.model_validate(request)


@router.post("/approvals/{request_id}/approve", summary="Approve a request; the alias moves now")
def approve(
    request_id: RequestId, body: ApprovalDecision, platform: PlatformDep, actor: ApproverDep
) -> ApprovalRequestPublic:
    with platform.database.session(write=True) as session:
        request = aliases.decide_request(
            session, actor=actor, request_id=request_id, approve=True, reason=body.reason
        )
        return ApprovalRequestPublic.model_validate(request)


@router.post("/approvals/{request_id}/reject", summary="Reject a request, with a reason")
def reject(
    request_id: RequestId, body: ApprovalDecision, platform: PlatformDep, actor: ApproverDep
) -> ApprovalRequestPublic:
    with platform.database.session(write=True) as session:
        request = aliases.decide_request(
            session, actor=actor, request_id=request_id, approve=False, reason=body.reason
        )
        return ApprovalRequestPublic.model_validate(request)


@router.post("/approvals/{request_id}/cancel", summary="Withdraw a pending request")
def cancel(request_id: RequestId, platform: PlatformDep, actor: EditorDep) -> ApprovalRequestPublic:
    with platform.database.session(write=True) as session:
        return ApprovalRequestPublic.model_validate(
            aliases.cancel_request(session, actor=actor, request_id=request_id)
        )


@router.post("/models/{name}/versions/{version}/lifecycle", summary="Move a version along its lifecycle")
def set_lifecycle(
    name: str, version: VersionNumber, body: LifecycleChange, platform: PlatformDep, actor: EditorDep
) -> ModelVersionPublic:
    with platform.database.session(write=True) as session:
        found = versions.set_lifecycle(
            session, actor=actor, name=name, version=version, lifecycle=body.lifecycle
        )
        return ModelVersionPublic.model_validate(found)


def _group_public(group: ModelGroup, models: list[str]) -> ModelGroupPublic:
    return ModelGroupPublic(
        id=group.id,
        name=group.name,
        description=group.description,
        use_case_id=group.use_case_id,
        models=models,
        created_by=group.created_by,
        creation_time=group.creation_time,
    )


@router.post("/groups", status_code=201, summary="Create a model group (models serving one use case)")
def create_group(body: ModelGroupCreate, platform: PlatformDep, actor: EditorDep) -> ModelGroupPublic:
    with platform.database.session(write=True) as session:
        group = groups.create_group(
            session, actor=actor, name=body.name, description=body.description, use_case_id=body.use_case_id
        )
        return _group_public(group, [])


@router.get("/groups", summary="List model groups with their models")
def list_groups(platform: PlatformDep, _: ViewerDep) -> ModelGroupsPublic:
    with platform.database.session() as session:
        found = groups.list_groups(session)
        members = groups.group_members(session, [g.id for g in found])
        return ModelGroupsPublic(groups=[_group_public(g, members[g.id]) for g in found])


@router.put("/groups/{group_id}/models/{name}", summary="Add a registered model to a group")
def add_to_group(group_id: str, name: str, platform: PlatformDep, actor: EditorDep) -> ModelGroupPublic:
    with platform.database.session(write=True) as session:
        groups.add_to_group(session, actor=actor, group_id=group_id, model_name=name)
        group = groups.get_group(session, group_id)
        return _group_public(group, groups.group_members(session, [group.id])[group.id])


@router.delete("/groups/{group_id}/models/{name}", summary="Remove a registered model from a group")
def remove_from_group(group_id: str, name: str, platform: PlatformDep, actor: EditorDep) -> ModelGroupPublic:
    with platform.database.session(write=True) as session:
        groups.remove_from_group(session, actor=actor, group_id=group_id, model_name=name)
        group = groups.get_group(session, group_id)
        return _group_public(group, groups.group_members(session, [group.id])[group.id])


@router.put("/models/{name}/use-case", summary="Link a registered model to the use case it serves")
def link_use_case(name: str, body: UseCaseLink, platform: PlatformDep, actor: EditorDep) -> UseCaseLink:
    with platform.database.session(write=True) as session:
        groups.link_use_case(session, actor=actor, model_name=name, use_case_id=body.use_case_id)
    return body
