"""Experiments: create, read, search, rename, tag, delete and restore.

Experiment ids are integers in the store and strings on the wire (MLflow's convention); ``"0"`` is
the Default experiment, created by the migration.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, delete, select
from sqlalchemy.orm import Session

from shipyard.core import audit
from shipyard.core.auth import Principal, Role, require_role
from shipyard.core.errors import ConflictError, InvalidParameterError, NotFoundError
from shipyard.core.validation import check_text
from shipyard.tracking._common import check_key, now_ms, tag_value
from shipyard.tracking.tables import Experiment, ExperimentTag

__all__ = [
    "ExperimentPage",
    "ExperimentState",
    "create_experiment",
    "delete_experiment",
    "delete_experiment_tag",
    "experiment_id_of",
    "experiment_state",
    "get_experiment",
    "get_experiment_by_name",
    "get_experiment_tags",
    "order_clauses",
    "paginate",
    "rename_experiment",
    "restore_experiment",
    "search_experiments",
    "set_experiment_tag",
]

logger = logging.getLogger(__name__)

MAX_NAME = 500
MAX_EXPERIMENT_TAG_VALUE = 20_000
MAX_SEARCH = 50_000


def experiment_id_of(value: object, field: str = "experiment_id") -> int:
    """Parse an experiment id given as a string or number."""
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or len(text) > 18:
        raise InvalidParameterError(f"Invalid value {value!r} for parameter '{field}' supplied", field=field)
    return int(text)


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameterError("Missing value for required parameter 'name'", field="name")
    return check_text(name, field="name", max_length=MAX_NAME)


def get_experiment(session: Session, experiment_id: int | str) -> Experiment:
    key = experiment_id_of(experiment_id)
    experiment = session.get(Experiment, key)
    if experiment is None:
        raise NotFoundError(f"No Experiment with id={key} exists", field="experiment_id")
    return experiment


class ExperimentState(NamedTuple):
    id: int
    lifecycle_stage: str


_STATE_BY_ID = select(Experiment.__table__.c.id, Experiment.__table__.c.lifecycle_stage).where(
    Experiment.__table__.c.id == bindparam("experiment_id")
)


def experiment_state(session: Session, experiment_id: int | str) -> ExperimentState:
    """An experiment's id and lifecycle stage, for writers that need no more (one prebuilt SELECT)."""
    key = experiment_id_of(experiment_id)
    row = session.connection().execute(_STATE_BY_ID, {"experiment_id": key}).first()
    if row is None:
        raise NotFoundError(f"No Experiment with id={key} exists", field="experiment_id")
    return ExperimentState(row[0], row[1])


def get_experiment_by_name(session: Session, name: str) -> Experiment:
    experiment = session.scalar(select(Experiment).where(Experiment.name == _check_name(name)))
    if experiment is None:
        raise NotFoundError(f"Could not find experiment with name '{name}'", field="experiment_name")
    return experiment


def get_experiment_tags(session: Session, experiment_ids: list[int]) -> dict[int, dict[str, str]]:
    tags: dict[int, dict[str, str]] = {key: {} for key in experiment_ids}
    if experiment_ids:
        for row in session.scalars(
            select(ExperimentTag).where(ExperimentTag.experiment_id.in_(experiment_ids))
        ):
            tags[row.experiment_id][row.key] = row.value
    return tags


def create_experiment(
    session: Session,
    *,
    actor: Principal,
    name: str,
    tags: dict[str, str] | None = None,
) -> Experiment:
    """Create an experiment; its artifacts live in the platform's own store (clients never choose)."""
    require_role(actor, Role.EDITOR)
    name = _check_name(name)
    if session.scalar(select(Experiment.id).where(Experiment.name == name)) is not None:
        raise ConflictError(f"Experiment(name={name}) already exists.", field="name")
    now = now_ms()
    experiment = Experiment(name=name, artifact_location="", creation_time=now, last_update_time=now)
    session.add(experiment)
    session.flush()
    experiment.artifact_location = f"mlflow-artifacts:/{experiment.id}"
    for key, value in (tags or {}).items():
        session.add(ExperimentTag(experiment_id=experiment.id, key=check_key(key), value=_tag(value)))
    audit.record(
        session,
        actor=actor,
        action="experiment.create",
        object_type="experiment",
        object_id=str(experiment.id),
        after={"name": name, "tags": tags or {}},
    )
    logger.info("experiment %s (%s) created by %s", experiment.id, name, actor.name)
    return experiment


def _tag(value: object) -> str:
    return tag_value(value)[:MAX_EXPERIMENT_TAG_VALUE]


def rename_experiment(
    session: Session, *, actor: Principal, experiment_id: int | str, new_name: str
) -> Experiment:
    require_role(actor, Role.EDITOR)
    experiment = get_experiment(session, experiment_id)
    new_name = _check_name(new_name)
    if experiment.lifecycle_stage != "active":
        raise InvalidParameterError("Cannot rename a non-active experiment.", field="experiment_id")
    clash = session.scalar(
        select(Experiment.id).where(Experiment.name == new_name, Experiment.id != experiment.id)
    )
    if clash is not None:
        raise ConflictError(f"Experiment(name={new_name}) already exists.", field="new_name")
    before = experiment.name
    experiment.name, experiment.last_update_time = new_name, now_ms()
    audit.record(
        session,
        actor=actor,
        action="experiment.rename",
        object_type="experiment",
        object_id=str(experiment.id),
        before={"name": before},
        after={"name": new_name},
    )
    return experiment


def _set_stage(session: Session, actor: Principal, experiment_id: int | str, stage: str) -> Experiment:
    require_role(actor, Role.EDITOR)
    experiment = get_experiment(session, experiment_id)
    if experiment.id == 0 and stage == "deleted":
        raise InvalidParameterError("The Default experiment (id 0) cannot be deleted.", field="experiment_id")
    before = experiment.lifecycle_stage
    if before != stage:
        experiment.lifecycle_stage, experiment.last_update_time = stage, now_ms()
        action = "experiment.delete" if stage == "deleted" else "experiment.restore"
        audit.record(
            session,
            actor=actor,
            action=action,
            object_type="experiment",
            object_id=str(experiment.id),
            before={"lifecycle_stage": before},
            after={"lifecycle_stage": stage},
        )
    return experiment


def delete_experiment(session: Session, *, actor: Principal, experiment_id: int | str) -> Experiment:
    """Soft delete: the experiment and its runs stay restorable."""
    return _set_stage(session, actor, experiment_id, "deleted")


def restore_experiment(session: Session, *, actor: Principal, experiment_id: int | str) -> Experiment:
    return _set_stage(session, actor, experiment_id, "active")


def set_experiment_tag(
    session: Session, *, actor: Principal, experiment_id: int | str, key: str, value: str
) -> None:
    require_role(actor, Role.EDITOR)
    experiment = get_experiment(session, experiment_id)
    key = check_key(key)
    row = session.get(ExperimentTag, (experiment.id, key))
    before = row.value if row else None
    if row is None:
        session.add(ExperimentTag(experiment_id=experiment.id, key=key, value=_tag(value)))
    else:
        row.value = _tag(value)
    audit.record(
        session,
        actor=actor,
        action="experiment.set_tag",
        object_type="experiment",
        object_id=str(experiment.id),
        before={key: before},
        after={key: value},
    )


def delete_experiment_tag(session: Session, *, actor: Principal, experiment_id: int | str, key: str) -> None:
    require_role(actor, Role.EDITOR)
    experiment = get_experiment(session, experiment_id)
    deleted = session.execute(
        delete(ExperimentTag).where(ExperimentTag.experiment_id == experiment.id, ExperimentTag.key == key)
    )
    if not deleted.rowcount:  # type: ignore[attr-defined]
        raise NotFoundError(f"No tag with name: {key} in experiment {experiment.id}", field="key")
    audit.record(
        session,
        actor=actor,
        action="experiment.delete_tag",
        object_type="experiment",
        object_id=str(experiment.id),
        before={"key": key},
    )


@dataclass(frozen=True)
class ExperimentPage:
    experiments: list[Experiment]
    next_page_token: str | None


_VIEW_STAGES = {"ACTIVE_ONLY": ("active",), "DELETED_ONLY": ("deleted",), "ALL": ("active", "deleted")}


def view_stages(view_type: str | None) -> tuple[str, ...]:
    stages = _VIEW_STAGES.get((view_type or "ACTIVE_ONLY").upper())
    if stages is None:
        raise InvalidParameterError(
            f"Invalid view_type {view_type!r}; expected ACTIVE_ONLY, DELETED_ONLY or ALL", field="view_type"
        )
    return stages


def decode_offset(page_token: str | None) -> int:
    if not page_token:
        return 0
    try:
        offset = json.loads(base64.b64decode(page_token.encode()))["offset"]
        if isinstance(offset, int) and offset >= 0:
            return offset
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        pass
    raise InvalidParameterError(f"Invalid page token {page_token[:40]!r}", field="page_token")


def encode_offset(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def paginate(
    session: Session, query: Select[Any], *, max_results: int, page_token: str | None
) -> tuple[list[Any], str | None]:
    """One page of an ordered query and the token of the next page (None on the last page)."""
    offset = decode_offset(page_token)
    rows = list(session.scalars(query.offset(offset).limit(max_results + 1)))
    token = encode_offset(offset + max_results) if len(rows) > max_results else None
    return rows[:max_results], token


def order_clauses(
    order_by: list[str] | None, columns: dict[str, Any], *, attribute_prefix: bool = False
) -> list[Any]:
    """``["name", "creation_time DESC"]`` as ORDER BY terms over ``columns``; anything else is a 400."""
    ordering = []
    for clause in order_by or []:
        field, _, direction = clause.strip().partition(" ")
        if attribute_prefix:
            field = field.removeprefix("attributes.").removeprefix("attribute.")
        if field not in columns or direction.strip().upper() not in ("", "ASC", "DESC"):
            raise InvalidParameterError(f"Invalid order_by clause '{clause}'", field="order_by")
        column = columns[field]
        ordering.append(column.desc() if direction.strip().upper() == "DESC" else column.asc())
    return ordering


def search_experiments(
    session: Session,
    *,
    view_type: str | None = None,
    max_results: int = 1000,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
    page_token: str | None = None,
) -> ExperimentPage:
    """Experiments filtered on ``name`` (=, !=, LIKE, ILIKE), ordered by name or times, one page at a time."""
    from shipyard.tracking.search import attribute_condition, parse_attribute_filter

    if not 1 <= max_results <= MAX_SEARCH:
        raise InvalidParameterError(
            f"Invalid value {max_results} for parameter 'max_results' supplied; "
            f"it must be between 1 and {MAX_SEARCH}",
            field="max_results",
        )
    query = select(Experiment).where(Experiment.lifecycle_stage.in_(view_stages(view_type)))
    for clause in parse_attribute_filter(filter_string, {"name"}):
        query = query.where(attribute_condition(Experiment.name, clause))
    columns = {
        "name": Experiment.name,
        "creation_time": Experiment.creation_time,
        "last_update_time": Experiment.last_update_time,
        "experiment_id": Experiment.id,
    }
    ordering = order_clauses(order_by, columns, attribute_prefix=True) or [Experiment.creation_time.desc()]
    rows, token = paginate(
        session, query.order_by(*ordering, Experiment.id), max_results=max_results, page_token=page_token
    )
    return ExperimentPage(rows, token)
