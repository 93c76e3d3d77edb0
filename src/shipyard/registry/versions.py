"""Model versions: created from this server's own artifacts only, with stages and a lifecycle.

A version's ``source`` must name something the server stores itself: a logged model
(``models:/m-<id>``), a run folder (``runs:/<run_id>/<path>``) or the artifact proxy's own URI
(``mlflow-artifacts:/<exp>/<run_id>/artifacts/<path>``). Local paths, ``file://`` and other schemes
are refused, so loading a version never reads bytes a client chose.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from shipyard.core import audit, webhooks
from shipyard.core.auth import Principal, Role, require_role
from shipyard.core.errors import InvalidParameterError, NotFoundError
from shipyard.core.paths import validate_artifact_path
from shipyard.core.validation import check_text
from shipyard.registry.models import MAX_TAG_VALUE, check_model_name, get_registered_model
from shipyard.registry.tables import ModelVersion, ModelVersionTag, RegisteredModelAlias
from shipyard.tracking._common import check_key, now_ms
from shipyard.tracking.experiments import order_clauses, paginate
from shipyard.tracking.logged_models import get_logged_model
from shipyard.tracking.runs import get_run

__all__ = [
    "STAGES",
    "VersionRecord",
    "create_model_version",
    "delete_model_version",
    "delete_model_version_tag",
    "get_latest_versions",
    "get_model_version",
    "load_version_records",
    "parse_version",
    "resolve_source",
    "search_model_versions",
    "set_lifecycle",
    "set_model_version_tag",
    "transition_stage",
    "update_model_version",
]

STAGES = ("None", "Staging", "Production", "Archived")
LIFECYCLE = ("draft", "published", "deprecated", "archived")
_LIFECYCLE_MOVES = {
    "draft": {"published", "archived"},
    "published": {"deprecated", "archived"},
    "deprecated": {"published", "archived"},
    "archived": set(),
}
_ARTIFACTS_URI = re.compile(r"^mlflow-artifacts:/(\d+)/([^/]+)/artifacts(?:/(.*))?$")
_MODEL_ARTIFACTS_URI = re.compile(r"^mlflow-artifacts:/(\d+)/models/(m-[0-9a-f]{32})/artifacts/?$")


@dataclass(frozen=True)
class VersionRecord:
    version: ModelVersion
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ResolvedSource:
    storage_location: str
    run_id: str | None
    model_id: str | None


def parse_version(value: object, field_name: str = "version") -> int:
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or not 0 < int(text) < 2**31:
        raise InvalidParameterError(
            f"Invalid value {value!r} for parameter '{field_name}': expected a positive integer",
            field=field_name,
        )
    return int(text)


def _invalid_source(source: str, why: str) -> InvalidParameterError:
    return InvalidParameterError(f"Invalid model version source: '{source}'. {why}", field="source")


def resolve_source(
    session: Session, source: str, *, run_id: str | None, model_id: str | None
) -> ResolvedSource:
    """Check that ``source`` names this server's own artifacts and return where they are stored."""
    if not isinstance(source, str) or not source:
        raise InvalidParameterError("Missing value for required parameter 'source'", field="source")
    if source.startswith("models:/m-"):
        source_model = source.removeprefix("models:/").rstrip("/")
        if model_id and model_id != source_model:
            raise _invalid_source(source, f"It does not match model_id {model_id!r}.")
        model = get_logged_model(session, source_model)
        if run_id and model.source_run_id and model.source_run_id != run_id:
            raise _invalid_source(source, f"The logged model was produced by run {model.source_run_id}.")
        return ResolvedSource(model.artifact_location, run_id or model.source_run_id, model.id)
    if source.startswith("runs:/"):
        source_run, _, path = source.removeprefix("runs:/").partition("/")
        if run_id and run_id != source_run:
            raise _invalid_source(source, f"It does not match run_id {run_id!r}.")
        run = get_run(session, source_run)
        if path:
            validate_artifact_path(path.rstrip("/"), field="source")
        return ResolvedSource(f"{run.artifact_uri}/{path}".rstrip("/"), run.id, model_id)
    if match := _MODEL_ARTIFACTS_URI.match(source):
        model = get_logged_model(session, match.group(2))
        if model.experiment_id != int(match.group(1)) or (model_id and model_id != model.id):
            raise _invalid_source(source, "It does not match the logged model it names.")
        return ResolvedSource(model.artifact_location, run_id or model.source_run_id, model.id)
    if match := _ARTIFACTS_URI.match(source):
        run = get_run(session, match.group(2))
        if run.experiment_id != int(match.group(1)):
            raise _invalid_source(source, f"Run {run.id} is not in experiment {match.group(1)}.")
        if run_id and run_id != run.id:
            raise _invalid_source(source, f"It lies in run {run.id}'s artifacts, not in run {run_id}'s.")
        if match.group(3):
            validate_artifact_path(match.group(3).rstrip("/"), field="source")
        return ResolvedSource(source.rstrip("/"), run.id, model_id)
    raise _invalid_source(
        source,
        "A version must come from this server's own artifacts: models:/m-<id>, runs:/<run_id>/<path> or "
        "mlflow-artifacts:/<experiment>/<run_id>/artifacts/<path>; local paths and other URIs are refused.",
    )


def get_model_version(session: Session, name: str, version: object) -> ModelVersion:
    number = parse_version(version)
    found = session.get(ModelVersion, (check_model_name(name), number))
    if found is None:
        raise NotFoundError(f"Model Version (name={name}, version={number}) not found", field="version")
    return found


def load_version_records(session: Session, versions: Sequence[ModelVersion]) -> list[VersionRecord]:
    keys = [(v.name, v.version) for v in versions]
    names = sorted({name for name, _ in keys})
    tags: dict[tuple[str, int], dict[str, str]] = {key: {} for key in keys}
    aliases: dict[tuple[str, int], list[str]] = {key: [] for key in keys}
    if names:
        for tag in session.scalars(select(ModelVersionTag).where(ModelVersionTag.name.in_(names))):
            if (tag.name, tag.version) in tags:
                tags[(tag.name, tag.version)][tag.key] = tag.value
        for alias in session.scalars(
            select(RegisteredModelAlias).where(RegisteredModelAlias.name.in_(names))
        ):
            if (alias.name, alias.version) in aliases:
                aliases[(alias.name, alias.version)].append(alias.alias)
    return [
        VersionRecord(v, tags[(v.name, v.version)], sorted(aliases[(v.name, v.version)])) for v in versions
    ]


def create_model_version(
    session: Session,
    *,
    actor: Principal,
    name: str,
    source: str,
    run_id: str | None = None,
    model_id: str | None = None,
    run_link: str | None = None,
    description: str = "",
    tags: dict[str, str] | None = None,
) -> ModelVersion:
    require_role(actor, Role.EDITOR)
    model = get_registered_model(session, name)
    resolved = resolve_source(session, source, run_id=run_id or None, model_id=model_id or None)
    latest = (
        session.scalar(select(func.max(ModelVersion.version)).where(ModelVersion.name == model.name)) or 0
    )
    now = now_ms()
    version = ModelVersion(
        name=model.name,
        version=latest + 1,
        creation_time=now,
        last_updated_time=now,
        description=check_text(description or "", field="description"),
        user_id=actor.name,
        source=source,
        storage_location=resolved.storage_location,
        run_id=resolved.run_id,
        model_id=resolved.model_id,
        run_link=run_link or None,
        status="READY",
        current_stage="None",
        lifecycle="draft",
    )
    session.add(version)
    model.last_updated_time = now
    session.flush()
    for key, value in (tags or {}).items():
        session.add(
            ModelVersionTag(
                name=model.name,
                version=version.version,
                key=check_key(key),
                value=check_text(str(value), field="value", max_length=MAX_TAG_VALUE),
            )
        )
    audit.record(
        session,
        actor=actor,
        action="model_version.create",
        object_type="model_version",
        object_id=f"{model.name}/{version.version}",
        after={"source": source, "run_id": resolved.run_id, "model_id": resolved.model_id},
    )
    webhooks.emit(
        session,
        "model_version.created",
        {"model": model.name, "version": version.version, "source": source, "run_id": resolved.run_id},
    )
    return version


def update_model_version(
    session: Session, *, actor: Principal, name: str, version: object, description: str
) -> ModelVersion:
    require_role(actor, Role.EDITOR)
    found = get_model_version(session, name, version)
    before = found.description
    found.description, found.last_updated_time = check_text(description, field="description"), now_ms()
    audit.record(
        session,
        actor=actor,
        action="model_version.update",
        object_type="model_version",
        object_id=f"{found.name}/{found.version}",
        before={"description": before},
        after={"description": description},
    )
    return found


def delete_model_version(session: Session, *, actor: Principal, name: str, version: object) -> None:
    require_role(actor, Role.EDITOR)
    found = get_model_version(session, name, version)
    held = list(
        session.scalars(
            select(RegisteredModelAlias).where(
                RegisteredModelAlias.name == found.name, RegisteredModelAlias.version == found.version
            )
        )
    )
    for alias in held:
        session.delete(alias)
    session.delete(found)
    audit.record(
        session,
        actor=actor,
        action="model_version.delete",
        object_type="model_version",
        object_id=f"{found.name}/{found.version}",
        before={"aliases": [a.alias for a in held]},
    )


def transition_stage(
    session: Session,
    *,
    actor: Principal,
    name: str,
    version: object,
    stage: str,
    archive_existing: bool = False,
) -> ModelVersion:
    """MLflow's deprecated stages, kept for old clients (aliases are the modern way)."""
    require_role(actor, Role.EDITOR)
    canonical = {s.lower(): s for s in STAGES}.get(str(stage).lower())
    if canonical is None:
        raise InvalidParameterError(
            f"Invalid Model Version stage: {stage}. Value must be one of {', '.join(STAGES)}.", field="stage"
        )
    found = get_model_version(session, name, version)
    before = found.current_stage
    if archive_existing and canonical in ("Staging", "Production"):
        for other in session.scalars(
            select(ModelVersion).where(
                ModelVersion.name == found.name,
                ModelVersion.current_stage == canonical,
                ModelVersion.version != found.version,
            )
        ):
            other.current_stage, other.last_updated_time = "Archived", now_ms()
    found.current_stage, found.last_updated_time = canonical, now_ms()
    audit.record(
        session,
        actor=actor,
        action="model_version.transition_stage",
        object_type="model_version",
        object_id=f"{found.name}/{found.version}",
        before={"stage": before},
        after={"stage": canonical, "archive_existing": archive_existing},
    )
    return found


def set_lifecycle(
    session: Session, *, actor: Principal, name: str, version: object, lifecycle: str
) -> ModelVersion:
    """Move a version along draft -> published -> deprecated -> archived (archived is final)."""
    require_role(actor, Role.EDITOR)
    found = get_model_version(session, name, version)
    if lifecycle not in LIFECYCLE:
        raise InvalidParameterError(
            f"lifecycle must be one of {', '.join(LIFECYCLE)}; got {lifecycle!r}", field="lifecycle"
        )
    if lifecycle != found.lifecycle and lifecycle not in _LIFECYCLE_MOVES[found.lifecycle]:
        raise InvalidParameterError(
            f"a {found.lifecycle} version cannot become {lifecycle}; allowed: "
            f"{', '.join(sorted(_LIFECYCLE_MOVES[found.lifecycle])) or 'none'}",
            field="lifecycle",
        )
    before = found.lifecycle
    found.lifecycle, found.last_updated_time = lifecycle, now_ms()
    audit.record(
        session,
        actor=actor,
        action="model_version.lifecycle",
        object_type="model_version",
        object_id=f"{found.name}/{found.version}",
        before={"lifecycle": before},
        after={"lifecycle": lifecycle},
    )
    return found


def set_model_version_tag(
    session: Session, *, actor: Principal, name: str, version: object, key: str, value: str
) -> None:
    require_role(actor, Role.EDITOR)
    found = get_model_version(session, name, version)
    row = session.get(ModelVersionTag, (found.name, found.version, check_key(key)))
    text = check_text(str(value), field="value", max_length=MAX_TAG_VALUE)
    before = row.value if row else None
    if row is None:
        session.add(ModelVersionTag(name=found.name, version=found.version, key=key, value=text))
    else:
        row.value = text
    audit.record(
        session,
        actor=actor,
        action="model_version.set_tag",
        object_type="model_version",
        object_id=f"{found.name}/{found.version}",
        before={key: before},
        after={key: value},
    )


def delete_model_version_tag(
    session: Session, *, actor: Principal, name: str, version: object, key: str
) -> None:
    require_role(actor, Role.EDITOR)
    found = get_model_version(session, name, version)
    row = session.get(ModelVersionTag, (found.name, found.version, key))
    if row is None:
        raise NotFoundError(
            f"No tag with key {key!r} on model version {found.name}/{found.version}", field="key"
        )
    session.delete(row)
    audit.record(
        session,
        actor=actor,
        action="model_version.delete_tag",
        object_type="model_version",
        object_id=f"{found.name}/{found.version}",
        before={"key": key},
    )


def get_latest_versions(session: Session, name: str, stages: Sequence[str] = ()) -> list[ModelVersion]:
    """The newest version in each requested stage (every stage when none is given)."""
    model = get_registered_model(session, name)
    wanted = {s.lower() for s in stages}
    latest: dict[str, ModelVersion] = {}
    for version in session.scalars(
        select(ModelVersion).where(ModelVersion.name == model.name).order_by(ModelVersion.version)
    ):
        if not wanted or version.current_stage.lower() in wanted:
            latest[version.current_stage] = version
    return sorted(latest.values(), key=lambda v: v.version)


def search_model_versions(
    session: Session,
    *,
    filter_string: str | None = None,
    max_results: int = 10_000,
    order_by: Sequence[str] | None = None,
    page_token: str | None = None,
) -> tuple[list[VersionRecord], str | None]:
    from shipyard.registry.filters import parse_registry_filter, registry_condition

    if not 1 <= max_results <= 200_000:
        raise InvalidParameterError(
            f"Invalid value {max_results} for parameter 'max_results'", field="max_results"
        )
    columns = {
        "name": ModelVersion.name,
        "run_id": ModelVersion.run_id,
        "source_path": ModelVersion.source,
        "version_number": ModelVersion.version,
        "model_id": ModelVersion.model_id,
        "current_stage": ModelVersion.current_stage,
    }
    query = select(ModelVersion)
    owner = tuple_(ModelVersion.name, ModelVersion.version)
    tag_owner = (ModelVersionTag.name, ModelVersionTag.version)
    for clause in parse_registry_filter(filter_string, attributes=set(columns)):
        query = query.where(registry_condition(clause, owner, ModelVersionTag, tag_owner, columns))
    orderable = {
        "name": ModelVersion.name,
        "version_number": ModelVersion.version,
        "creation_timestamp": ModelVersion.creation_time,
        "timestamp": ModelVersion.last_updated_time,
        "last_updated_timestamp": ModelVersion.last_updated_time,
    }
    ordering = order_clauses(order_by, orderable) or [ModelVersion.name, ModelVersion.version.desc()]
    rows, token = paginate(session, query.order_by(*ordering), max_results=max_results, page_token=page_token)
    return load_version_records(session, rows), token
