"""Model groups: several registered models that together serve one use case, and use-case links."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipyard.core import audit
from shipyard.core.auth import Principal, Role, require_role
from shipyard.core.errors import ConflictError, NotFoundError
from shipyard.core.validation import check_text
from shipyard.registry.models import get_registered_model
from shipyard.registry.tables import ModelGroup, ModelGroupMember, RegisteredModel
from shipyard.tracking._common import now_ms

__all__ = [
    "add_to_group",
    "create_group",
    "get_group",
    "group_members",
    "link_use_case",
    "list_groups",
    "models_of_use_case",
    "remove_from_group",
]


def _existing_use_case(session: Session, use_case_id: str | None) -> str | None:
    if not use_case_id:
        return None
    from shipyard.usecases.canvas import get_use_case

    return get_use_case(session, check_text(use_case_id, field="use_case_id", max_length=64)).id


def create_group(
    session: Session, *, actor: Principal, name: str, description: str = "", use_case_id: str | None = None
) -> ModelGroup:
    require_role(actor, Role.EDITOR)
    name = check_text(name, field="name", max_length=256, allow_empty=False)
    if session.scalar(select(ModelGroup.id).where(ModelGroup.name == name)) is not None:
        raise ConflictError(f"a model group named {name!r} exists", field="name")
    group = ModelGroup(
        id=uuid.uuid4().hex,
        name=name,
        description=check_text(description, field="description"),
        use_case_id=_existing_use_case(session, use_case_id),
        created_by=actor.name,
        creation_time=now_ms(),
    )
    session.add(group)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="model_group.create",
        object_type="model_group",
        object_id=group.id,
        after={"name": name, "use_case_id": use_case_id},
    )
    return group


def get_group(session: Session, group_id: str) -> ModelGroup:
    group = session.get(ModelGroup, group_id)
    if group is None:
        raise NotFoundError(f"model group {group_id!r} does not exist", field="group_id")
    return group


def list_groups(session: Session) -> list[ModelGroup]:
    return list(session.scalars(select(ModelGroup).order_by(ModelGroup.name)))


def models_of_use_case(session: Session, use_case_id: str) -> list[RegisteredModel]:
    """The registered models linked to a use case, by name."""
    query = select(RegisteredModel).where(RegisteredModel.use_case_id == use_case_id)
    return list(session.scalars(query.order_by(RegisteredModel.name)))


def group_members(session: Session, group_ids: list[str]) -> dict[str, list[str]]:
    members: dict[str, list[str]] = {group_id: [] for group_id in group_ids}
    for row in session.scalars(
        select(ModelGroupMember)
        .where(ModelGroupMember.group_id.in_(group_ids))
        .order_by(ModelGroupMember.model_name)
    ):
        members[row.group_id].append(row.model_name)
    return members


def add_to_group(session: Session, *, actor: Principal, group_id: str, model_name: str) -> None:
    require_role(actor, Role.EDITOR)
    group = get_group(session, group_id)
    model = get_registered_model(session, model_name)
    if session.get(ModelGroupMember, (group.id, model.name)) is None:
        session.add(ModelGroupMember(group_id=group.id, model_name=model.name))
        audit.record(
            session,
            actor=actor,
            action="model_group.add",
            object_type="model_group",
            object_id=group.id,
            after={"model": model.name},
        )


def remove_from_group(session: Session, *, actor: Principal, group_id: str, model_name: str) -> None:
    require_role(actor, Role.EDITOR)
    group = get_group(session, group_id)
    member = session.get(ModelGroupMember, (group.id, model_name))
    if member is None:
        raise NotFoundError(f"model {model_name!r} is not in group {group.name!r}", field="model_name")
    session.delete(member)
    audit.record(
        session,
        actor=actor,
        action="model_group.remove",
        object_type="model_group",
        object_id=group.id,
        before={"model": model_name},
    )


def link_use_case(session: Session, *, actor: Principal, model_name: str, use_case_id: str | None) -> None:
    """Record which use case a registered model serves (promotion then checks its red flags)."""
    require_role(actor, Role.EDITOR)
    model = get_registered_model(session, model_name)
    before = model.use_case_id
    model.use_case_id = _existing_use_case(session, use_case_id)
    audit.record(
        session,
        actor=actor,
        action="registered_model.link_use_case",
        object_type="registered_model",
        object_id=model.name,
        before={"use_case_id": before},
        after={"use_case_id": model.use_case_id},
    )
