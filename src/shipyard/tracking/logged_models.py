"""Logged models (MLflow 3.x ``m-<hex>``): a model's files and metadata, produced by a run.

Files live in the content-addressed store under owner ``logged_model``; the registry's versions
point at a logged model, so a version's bytes are always the server's own.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shipyard.core import audit
from shipyard.core.auth import Principal, Role, require_role
from shipyard.core.errors import InvalidParameterError, NotFoundError
from shipyard.core.validation import check_text
from shipyard.tracking._common import check_key, now_ms, param_value, tag_value
from shipyard.tracking.experiments import experiment_id_of, get_experiment, paginate
from shipyard.tracking.runs import get_run
from shipyard.tracking.tables import LoggedModel, LoggedModelParam, LoggedModelTag, Metric

__all__ = [
    "LoggedModelRecord",
    "create_logged_model",
    "delete_logged_model",
    "delete_logged_model_tag",
    "finalize_logged_model",
    "get_logged_model",
    "load_model_records",
    "log_model_params",
    "search_logged_models",
    "set_logged_model_tags",
]

STATUSES = ("LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED")


@dataclass(frozen=True)
class LoggedModelRecord:
    model: LoggedModel
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: list[Metric] = field(default_factory=list)


def get_logged_model(session: Session, model_id: str) -> LoggedModel:
    check_text(model_id, field="model_id", max_length=64)
    model = session.get(LoggedModel, model_id)
    if model is None or model.lifecycle_stage == "deleted":
        raise NotFoundError(f"Logged model with ID '{model_id}' not found.", field="model_id")
    return model


def load_model_records(session: Session, models: Sequence[LoggedModel]) -> list[LoggedModelRecord]:
    ids = [model.id for model in models]
    params: dict[str, dict[str, str]] = {i: {} for i in ids}
    tags: dict[str, dict[str, str]] = {i: {} for i in ids}
    metrics: dict[str, list[Metric]] = {i: [] for i in ids}
    if ids:
        for row in session.scalars(select(LoggedModelParam).where(LoggedModelParam.model_id.in_(ids))):
            params[row.model_id][row.key] = row.value
        for row in session.scalars(select(LoggedModelTag).where(LoggedModelTag.model_id.in_(ids))):
            tags[row.model_id][row.key] = row.value
        for metric in session.scalars(select(Metric).where(Metric.model_id.in_(ids)).order_by(Metric.id)):
            metrics[metric.model_id or ""].append(metric)
    return [LoggedModelRecord(m, params[m.id], tags[m.id], metrics[m.id]) for m in models]


def create_logged_model(
    session: Session,
    *,
    actor: Principal,
    experiment_id: int | str,
    name: str | None = None,
    model_type: str | None = None,
    source_run_id: str | None = None,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
) -> LoggedModel:
    require_role(actor, Role.EDITOR)
    experiment = get_experiment(session, experiment_id)
    if source_run_id:
        run = get_run(session, source_run_id)
        if run.experiment_id != experiment.id:
            raise InvalidParameterError(
                f"Run {source_run_id} belongs to experiment {run.experiment_id}, not {experiment.id}",
                field="source_run_id",
            )
    model_id = f"m-{uuid.uuid4().hex}"
    now = now_ms()
    model = LoggedModel(
        id=model_id,
        experiment_id=experiment.id,
        name=check_text(name or "model", field="name", max_length=500),
        model_type=check_text(model_type, field="model_type", max_length=500) if model_type else None,
        source_run_id=source_run_id or None,
        status="LOGGED_MODEL_PENDING",
        artifact_location=f"mlflow-artifacts:/{experiment.id}/models/{model_id}/artifacts",
        creation_time=now,
        last_updated_time=now,
    )
    session.add(model)
    session.flush()
    for key, value in (params or {}).items():
        session.add(LoggedModelParam(model_id=model_id, key=check_key(key), value=param_value(value)))
    for key, value in (tags or {}).items():
        session.add(LoggedModelTag(model_id=model_id, key=check_key(key), value=tag_value(value)))
    audit.record(
        session,
        actor=actor,
        action="logged_model.create",
        object_type="logged_model",
        object_id=model_id,
        after={"name": model.name, "source_run_id": source_run_id},
    )
    return model


def finalize_logged_model(session: Session, *, actor: Principal, model_id: str, status: str) -> LoggedModel:
    require_role(actor, Role.EDITOR)
    if status not in STATUSES:
        raise InvalidParameterError(
            f"Invalid value {status!r} for parameter 'status'; expected one of {', '.join(STATUSES)}",
            field="status",
        )
    model = get_logged_model(session, model_id)
    before = model.status
    model.status, model.last_updated_time = status, now_ms()
    audit.record(
        session,
        actor=actor,
        action="logged_model.finalize",
        object_type="logged_model",
        object_id=model_id,
        before={"status": before},
        after={"status": status},
    )
    return model


def delete_logged_model(session: Session, *, actor: Principal, model_id: str) -> None:
    require_role(actor, Role.EDITOR)
    model = get_logged_model(session, model_id)
    model.lifecycle_stage, model.last_updated_time = "deleted", now_ms()
    audit.record(
        session, actor=actor, action="logged_model.delete", object_type="logged_model", object_id=model_id
    )


def set_logged_model_tags(session: Session, *, actor: Principal, model_id: str, tags: dict[str, str]) -> None:
    require_role(actor, Role.EDITOR)
    model = get_logged_model(session, model_id)
    for key, value in tags.items():
        row = session.get(LoggedModelTag, (model.id, check_key(key)))
        if row is None:
            session.add(LoggedModelTag(model_id=model.id, key=key, value=tag_value(value)))
        else:
            row.value = tag_value(value)
    model.last_updated_time = now_ms()
    audit.record(
        session,
        actor=actor,
        action="logged_model.set_tags",
        object_type="logged_model",
        object_id=model_id,
        after={"tags": sorted(tags)[:20]},
    )


def delete_logged_model_tag(session: Session, *, actor: Principal, model_id: str, key: str) -> None:
    require_role(actor, Role.EDITOR)
    model = get_logged_model(session, model_id)
    result = session.execute(
        delete(LoggedModelTag).where(LoggedModelTag.model_id == model.id, LoggedModelTag.key == key)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFoundError(f"No tag with key {key!r} on logged model {model_id}", field="key")
    audit.record(
        session,
        actor=actor,
        action="logged_model.delete_tag",
        object_type="logged_model",
        object_id=model_id,
        before={"key": key},
    )


def log_model_params(session: Session, *, actor: Principal, model_id: str, params: dict[str, str]) -> None:
    require_role(actor, Role.EDITOR)
    model = get_logged_model(session, model_id)
    for key, value in params.items():
        row = session.get(LoggedModelParam, (model.id, check_key(key)))
        if row is None:
            session.add(LoggedModelParam(model_id=model.id, key=key, value=param_value(value)))
        elif row.value != param_value(value):
            raise InvalidParameterError(f"Changing param values is not allowed (key {key!r})", field="params")
    audit.record(
        session,
        actor=actor,
        action="logged_model.log_params",
        object_type="logged_model",
        object_id=model_id,
        after={"params": sorted(params)[:20]},
    )


_FILTERABLE = {"name", "source_run_id", "status", "model_type", "model_id"}


def search_logged_models(
    session: Session,
    *,
    experiment_ids: Sequence[int | str],
    filter_string: str | None = None,
    max_results: int = 100,
    page_token: str | None = None,
) -> tuple[list[LoggedModelRecord], str | None]:
    """Logged models of experiments, newest first; filters on attributes with =, !=, LIKE, ILIKE."""
    from shipyard.tracking.search import attribute_condition, parse_attribute_filter

    if not 1 <= max_results <= 50_000:
        raise InvalidParameterError(
            f"Invalid value {max_results} for parameter 'max_results'", field="max_results"
        )
    ids = [experiment_id_of(e, "experiment_ids") for e in experiment_ids]
    query = select(LoggedModel).where(LoggedModel.lifecycle_stage == "active")
    if ids:
        query = query.where(LoggedModel.experiment_id.in_(ids))
    for clause in parse_attribute_filter(filter_string, _FILTERABLE):
        column = LoggedModel.id if clause.key == "model_id" else getattr(LoggedModel, clause.key)
        query = query.where(attribute_condition(column, clause))
    ordered = query.order_by(LoggedModel.creation_time.desc(), LoggedModel.id)
    rows, token = paginate(session, ordered, max_results=max_results, page_token=page_token)
    return load_model_records(session, rows), token
