"""Shipyard's own registry routes: approval queue, alias history, version lifecycle."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from shipyard.core.deps import ApproverDep, EditorDep, PlatformDep, ViewerDep
from shipyard.core.schemas import API_ERRORS
from shipyard.registry import aliases, versions
from shipyard.registry.schemas import (
    AliasEventPublic,
    AliasEventsPublic,
    ApprovalCreate,
    ApprovalDecision,
    ApprovalRequestPublic,
    ApprovalRequestsPublic,
    LifecycleChange,
    ModelVersionPublic,
)

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
