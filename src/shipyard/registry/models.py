"""Registered models: create, read, rename, describe, tag, delete, search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from shipyard.core import audit
from shipyard.core.auth import Principal, Role, require_role
from shipyard.core.errors import ConflictError, InvalidParameterError, NotFoundError
from shipyard.core.validation import check_text
from shipyard.registry.tables import (
    AliasEvent,
    ApprovalRequest,
    ModelVersion,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)
from shipyard.tracking._common import check_key, now_ms
from shipyard.tracking.experiments import order_clauses, paginate

__all__ = [
    "ModelRecord",
    "check_model_name",
    "create_registered_model",
    "delete_registered_model",
    "delete_registered_model_tag",
    "get_registered_model",
    "load_model_records",
    "rename_registered_model",
    "search_registered_models",
    "set_registered_model_tag",
    "update_registered_model",
]

MAX_TAG_VALUE = 100_000


@dataclass(frozen=True)
class ModelRecord:
    model: RegisteredModel
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    latest_versions: list[ModelVersion] = field(default_factory=list)


def check_model_name(name: object, field: str = "name") -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameterError(f"Missing value for required parameter '{field}'", field=field)
    check_text(name, field=field, max_length=256)
    if "/" in name or (name.startswith("m-") and len(name) == 34):
        raise InvalidParameterError(
            f"Invalid value {name!r} for parameter '{field}': a registered model name may not contain '/' "
            "or look like a logged model id",
            field=field,
        )
    return name


def get_registered_model(session: Session, name: str) -> RegisteredModel:
    model = session.get(RegisteredModel, check_model_name(name))
    if model is None:
        raise NotFoundError(f"Registered Model with name={name} not found", field="name")
    return model


def load_model_records(session: Session, models: Sequence[RegisteredModel]) -> list[ModelRecord]:
    """Tags, aliases and the latest version per stage of many models, in three queries."""
    names = [model.name for model in models]
    tags: dict[str, dict[str, str]] = {n: {} for n in names}
    aliases: dict[str, dict[str, int]] = {n: {} for n in names}
    latest: dict[str, dict[str, ModelVersion]] = {n: {} for n in names}
    if names:
        for tag in session.scalars(select(RegisteredModelTag).where(RegisteredModelTag.name.in_(names))):
            tags[tag.name][tag.key] = tag.value
        for alias in session.scalars(
            select(RegisteredModelAlias).where(RegisteredModelAlias.name.in_(names))
        ):
            aliases[alias.name][alias.alias] = alias.version
        for version in session.scalars(
            select(ModelVersion).where(ModelVersion.name.in_(names)).order_by(ModelVersion.version)
        ):
            latest[version.name][version.current_stage] = version
    return [
        ModelRecord(
            m, tags[m.name], aliases[m.name], sorted(latest[m.name].values(), key=lambda v: v.version)
        )
        for m in models
    ]


def create_registered_model(
    session: Session,
    *,
    actor: Principal,
    name: str,
    description: str = "",
    tags: dict[str, str] | None = None,
    use_case_id: str | None = None,
) -> RegisteredModel:
    require_role(actor, Role.EDITOR)
    name = check_model_name(name)
    if session.get(RegisteredModel, name) is not None:
        raise ConflictError(f"Registered Model (name={name}) already exists.", field="name")
    now = now_ms()
    model = RegisteredModel(
        name=name,
        creation_time=now,
        last_updated_time=now,
        description=check_text(description or "", field="description"),
        user_id=actor.name,
        use_case_id=use_case_id,
    )
    session.add(model)
    for key, value in (tags or {}).items():
        session.add(RegisteredModelTag(name=name, key=check_key(key), value=_tag(value)))
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="registered_model.create",
        object_type="registered_model",
        object_id=name,
        after={"description": description, "tags": tags or {}},
    )
    return model


def _tag(value: object) -> str:
    text = "" if value is None else str(value)
    return check_text(text, field="value", max_length=MAX_TAG_VALUE)


def rename_registered_model(
    session: Session, *, actor: Principal, name: str, new_name: str
) -> RegisteredModel:
    require_role(actor, Role.EDITOR)
    model = get_registered_model(session, name)
    new_name = check_model_name(new_name, "new_name")
    if new_name == name:
        return model
    if session.get(RegisteredModel, new_name) is not None:
        raise ConflictError(f"Registered Model (name={new_name}) already exists.", field="new_name")
    # Children follow through ON UPDATE CASCADE; history and approvals are plain columns, renamed too.
    session.execute(
        update(RegisteredModel)
        .where(RegisteredModel.name == name)
        .values(name=new_name, last_updated_time=now_ms())
    )
    for table in (AliasEvent, ApprovalRequest):
        session.execute(update(table).where(table.name == name).values(name=new_name))
    session.expire_all()
    audit.record(
        session,
        actor=actor,
        action="registered_model.rename",
        object_type="registered_model",
        object_id=new_name,
        before={"name": name},
        after={"name": new_name},
    )
    return get_registered_model(session, new_name)


def update_registered_model(
    session: Session, *, actor: Principal, name: str, description: str
) -> RegisteredModel:
    require_role(actor, Role.EDITOR)
    model = get_registered_model(session, name)
    before = model.description
    model.description, model.last_updated_time = check_text(description, field="description"), now_ms()
    audit.record(
        session,
        actor=actor,
        action="registered_model.update",
        object_type="registered_model",
        object_id=name,
        before={"description": before},
        after={"description": description},
    )
    return model


def delete_registered_model(session: Session, *, actor: Principal, name: str) -> None:
    require_role(actor, Role.EDITOR)
    model = get_registered_model(session, name)
    versions = session.scalar(select(func.count()).select_from(ModelVersion).where(ModelVersion.name == name))
    session.delete(model)
    audit.record(
        session,
        actor=actor,
        action="registered_model.delete",
        object_type="registered_model",
        object_id=name,
        before={"versions": versions},
    )


def set_registered_model_tag(session: Session, *, actor: Principal, name: str, key: str, value: str) -> None:
    require_role(actor, Role.EDITOR)
    get_registered_model(session, name)
    row = session.get(RegisteredModelTag, (name, check_key(key)))
    before = row.value if row else None
    if row is None:
        session.add(RegisteredModelTag(name=name, key=key, value=_tag(value)))
    else:
        row.value = _tag(value)
    audit.record(
        session,
        actor=actor,
        action="registered_model.set_tag",
        object_type="registered_model",
        object_id=name,
        before={key: before},
        after={key: value},
    )


def delete_registered_model_tag(session: Session, *, actor: Principal, name: str, key: str) -> None:
    require_role(actor, Role.EDITOR)
    get_registered_model(session, name)
    result = session.execute(
        delete(RegisteredModelTag).where(RegisteredModelTag.name == name, RegisteredModelTag.key == key)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFoundError(f"No tag with key {key!r} on registered model {name}", field="key")
    audit.record(
        session,
        actor=actor,
        action="registered_model.delete_tag",
        object_type="registered_model",
        object_id=name,
        before={"key": key},
    )


def search_registered_models(
    session: Session,
    *,
    filter_string: str | None = None,
    max_results: int = 100,
    order_by: Sequence[str] | None = None,
    page_token: str | None = None,
) -> tuple[list[ModelRecord], str | None]:
    """Filter on ``name`` (=, !=, LIKE, ILIKE) and ``tags.<key>`` (=, !=); order by name or times."""
    from shipyard.registry.filters import parse_registry_filter, registry_condition

    if not 1 <= max_results <= 1000:
        raise InvalidParameterError(
            f"Invalid value {max_results} for parameter 'max_results': it must be between 1 and 1000",
            field="max_results",
        )
    query = select(RegisteredModel)
    for clause in parse_registry_filter(filter_string, attributes={"name"}):
        query = query.where(
            registry_condition(
                clause,
                RegisteredModel.name,
                RegisteredModelTag,
                (RegisteredModelTag.name,),
                {"name": RegisteredModel.name},
            )
        )
    columns = {
        "name": RegisteredModel.name,
        "timestamp": RegisteredModel.last_updated_time,
        "last_updated_timestamp": RegisteredModel.last_updated_time,
        "creation_timestamp": RegisteredModel.creation_time,
    }
    ordered = query.order_by(*order_clauses(order_by, columns), RegisteredModel.name)
    rows, token = paginate(session, ordered, max_results=max_results, page_token=page_token)
    return load_model_records(session, rows), token
