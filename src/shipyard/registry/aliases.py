"""Aliases (``champion``, ``challenger`` …) with approvals for protected ones and a full history.

Moving a protected alias (``SHIPYARD_PROTECTED_ALIASES``, default ``champion``) needs the approver
role. An editor's move becomes a pending request that an approver accepts or rejects with a reason;
an approver's own move is recorded as approved by them. Every move, whoever made it, appends an
``AliasEvent`` with the version's run metrics at that moment, so "who held champion when, who asked,
who approved, on which numbers" is one query.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipyard.core import audit
from shipyard.core.auth import Principal, Role, require_role
from shipyard.core.errors import ConflictError, InvalidParameterError, NotFoundError, PermissionDeniedError
from shipyard.core.validation import check_text
from shipyard.registry.models import get_registered_model
from shipyard.registry.tables import AliasEvent, ApprovalRequest, ModelVersion, RegisteredModelAlias
from shipyard.registry.versions import get_model_version
from shipyard.tracking._common import now_ms
from shipyard.tracking.tables import LatestMetric

__all__ = [
    "AliasChange",
    "alias_history",
    "cancel_request",
    "decide_request",
    "delete_alias",
    "get_version_by_alias",
    "list_requests",
    "request_alias",
    "set_alias",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AliasChange:
    """What a set-alias call did: applied at once, or filed as a pending approval request."""

    applied: bool
    request: ApprovalRequest | None = None


def _check_alias(alias: object) -> str:
    if not isinstance(alias, str) or not alias:
        raise InvalidParameterError("Missing value for required parameter 'alias'", field="alias")
    check_text(alias, field="alias", max_length=255)
    if alias.lower() == "latest" or (alias[:1].lower() == "v" and alias[1:].isdigit()):
        raise InvalidParameterError(
            f"Invalid alias {alias!r}: 'latest' and v<number> are reserved", field="alias"
        )
    return alias


def _metrics_of(session: Session, version: ModelVersion) -> dict[str, float | None]:
    if not version.run_id:
        return {}
    rows = session.scalars(select(LatestMetric).where(LatestMetric.run_id == version.run_id))
    return {row.key: (None if row.is_nan else row.value) for row in rows}


def get_version_by_alias(session: Session, name: str, alias: str) -> ModelVersion:
    model = get_registered_model(session, name)
    row = session.get(RegisteredModelAlias, (model.name, _check_alias(alias)))
    if row is None:
        # MLflow answers a missing alias with INVALID_PARAMETER_VALUE, and clients rely on that.
        raise InvalidParameterError(f"Registered model alias {alias} not found.", field="alias")
    return get_model_version(session, model.name, row.version)


def _apply(
    session: Session,
    *,
    actor: Principal,
    version: ModelVersion,
    alias: str,
    requested_by: str,
    approved_by: str | None,
    approval_id: int | None = None,
    reason: str | None = None,
) -> None:
    row = session.get(RegisteredModelAlias, (version.name, alias))
    previous = row.version if row else None
    if row is None:
        session.add(RegisteredModelAlias(name=version.name, alias=alias, version=version.version))
    else:
        row.version = version.version
    session.add(
        AliasEvent(
            name=version.name,
            alias=alias,
            version=version.version,
            previous_version=previous,
            occurred_at=now_ms(),
            requested_by=requested_by,
            approved_by=approved_by,
            approval_id=approval_id,
            reason=reason,
            metrics=_metrics_of(session, version),
        )
    )
    audit.record(
        session,
        actor=actor,
        action="alias.set",
        object_type="registered_model",
        object_id=version.name,
        before={"alias": alias, "version": previous},
        after={"alias": alias, "version": version.version, "approved_by": approved_by},
    )
    logger.info(
        "alias %s of %s moved %s -> %s by %s", alias, version.name, previous, version.version, actor.name
    )


def set_alias(
    session: Session,
    *,
    actor: Principal,
    name: str,
    alias: str,
    version: object,
    protected: frozenset[str] = frozenset({"champion"}),
    reason: str | None = None,
) -> AliasChange:
    """Point ``alias`` at ``version``; for a protected alias an editor files a request instead."""
    require_role(actor, Role.EDITOR)
    alias = _check_alias(alias)
    found = get_model_version(session, name, version)
    if alias in protected and not actor.can(Role.APPROVER):
        return AliasChange(
            applied=False,
            request=request_alias(
                session, actor=actor, name=found.name, alias=alias, version=found.version, reason=reason
            ),
        )
    _apply(
        session,
        actor=actor,
        version=found,
        alias=alias,
        requested_by=actor.name,
        approved_by=actor.name if alias in protected else None,
        reason=reason,
    )
    return AliasChange(applied=True)


def delete_alias(
    session: Session,
    *,
    actor: Principal,
    name: str,
    alias: str,
    protected: frozenset[str] = frozenset({"champion"}),
) -> None:
    require_role(actor, Role.APPROVER if alias in protected else Role.EDITOR)
    model = get_registered_model(session, name)
    row = session.get(RegisteredModelAlias, (model.name, _check_alias(alias)))
    if row is None:
        raise InvalidParameterError(f"Registered model alias {alias} not found.", field="alias")
    session.delete(row)
    session.add(
        AliasEvent(
            name=model.name,
            alias=alias,
            version=None,
            previous_version=row.version,
            occurred_at=now_ms(),
            requested_by=actor.name,
            approved_by=actor.name if alias in protected else None,
        )
    )
    audit.record(
        session,
        actor=actor,
        action="alias.delete",
        object_type="registered_model",
        object_id=model.name,
        before={"alias": alias, "version": row.version},
    )


def request_alias(
    session: Session, *, actor: Principal, name: str, alias: str, version: object, reason: str | None = None
) -> ApprovalRequest:
    """File a request to move ``alias``; one pending request per model and alias at a time."""
    require_role(actor, Role.EDITOR)
    found = get_model_version(session, name, version)
    alias = _check_alias(alias)
    pending = session.scalar(
        select(ApprovalRequest).where(
            ApprovalRequest.name == found.name,
            ApprovalRequest.alias == alias,
            ApprovalRequest.status == "pending",
        )
    )
    if pending is not None:
        raise ConflictError(
            f"request #{pending.id} to move {alias!r} of {found.name} to version {pending.version} is still "
            "pending; an approver must decide it (or its author cancel it) first",
            field="alias",
        )
    request = ApprovalRequest(
        name=found.name,
        alias=alias,
        version=found.version,
        status="pending",
        requested_by=actor.name,
        requested_at=now_ms(),
        reason=check_text(reason, field="reason") if reason else None,
        metrics=_metrics_of(session, found),
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="approval.request",
        object_type="approval_request",
        object_id=str(request.id),
        after={"model": found.name, "alias": alias, "version": found.version},
    )
    return request


def _get_request(session: Session, request_id: int) -> ApprovalRequest:
    request = session.get(ApprovalRequest, request_id)
    if request is None:
        raise NotFoundError(f"approval request #{request_id} does not exist", field="request_id")
    return request


def decide_request(
    session: Session, *, actor: Principal, request_id: int, approve: bool, reason: str
) -> ApprovalRequest:
    """An approver accepts (the alias moves now) or rejects a pending request; a reason is required."""
    require_role(actor, Role.APPROVER)
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidParameterError("a decision needs a reason", field="reason")
    request = _get_request(session, request_id)
    if request.status != "pending":
        raise ConflictError(f"request #{request.id} was already {request.status}", field="request_id")
    request.status = "approved" if approve else "rejected"
    request.decided_by, request.decided_at = actor.name, now_ms()
    request.decision_reason = check_text(reason, field="reason")
    if approve:
        version = get_model_version(session, request.name, request.version)
        _apply(
            session,
            actor=actor,
            version=version,
            alias=request.alias,
            requested_by=request.requested_by,
            approved_by=actor.name,
            approval_id=request.id,
            reason=reason,
        )
    audit.record(
        session,
        actor=actor,
        action="approval.approve" if approve else "approval.reject",
        object_type="approval_request",
        object_id=str(request.id),
        before={"status": "pending"},
        after={"status": request.status, "reason": reason},
    )
    return request


def cancel_request(session: Session, *, actor: Principal, request_id: int) -> ApprovalRequest:
    require_role(actor, Role.EDITOR)
    request = _get_request(session, request_id)
    if request.requested_by != actor.name and not actor.can(Role.APPROVER):
        raise PermissionDeniedError(
            "only the requester or an approver can cancel a request", field="request_id"
        )
    if request.status != "pending":
        raise ConflictError(f"request #{request.id} was already {request.status}", field="request_id")
    request.status, request.decided_by, request.decided_at = "cancelled", actor.name, now_ms()
    audit.record(
        session,
        actor=actor,
        action="approval.cancel",
        object_type="approval_request",
        object_id=str(request.id),
        before={"status": "pending"},
        after={"status": "cancelled"},
    )
    return request


def list_requests(
    session: Session, *, status: str | None = "pending", name: str | None = None
) -> list[ApprovalRequest]:
    query = select(ApprovalRequest).order_by(ApprovalRequest.id.desc())
    if status:
        if status not in ("pending", "approved", "rejected", "cancelled"):
            raise InvalidParameterError(
                f"status must be pending, approved, rejected or cancelled; got {status!r}", field="status"
            )
        query = query.where(ApprovalRequest.status == status)
    if name:
        query = query.where(ApprovalRequest.name == name)
    return list(session.scalars(query.limit(1000)))


def alias_history(session: Session, *, name: str, alias: str | None = None) -> list[AliasEvent]:
    """Every move of the model's aliases, oldest first."""
    model = get_registered_model(session, name)
    query = select(AliasEvent).where(AliasEvent.name == model.name)
    if alias:
        query = query.where(AliasEvent.alias == alias)
    return list(session.scalars(query.order_by(AliasEvent.id)))
