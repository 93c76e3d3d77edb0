"""Runs and what they log: params (immutable), metrics (history + latest), tags, inputs, outputs.

Logging calls write one compact audit row per request (what and how much), not one per point, so
that every mutation is audited without doubling the volume of telemetry.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from shipyard.core import audit
from shipyard.core.auth import Principal, Role, require_role
from shipyard.core.errors import InvalidParameterError, NotFoundError
from shipyard.core.validation import check_text
from shipyard.tracking._common import (
    MAX_BATCH_METRICS,
    MAX_BATCH_PARAMS,
    MAX_BATCH_TAGS,
    MAX_BATCH_TOTAL,
    check_key,
    check_run_id,
    new_run_id,
    now_ms,
    param_value,
    tag_value,
    to_int,
)
from shipyard.tracking.experiments import decode_offset, encode_offset, experiment_state
from shipyard.tracking.metrics import MetricBatch, MetricPoint, log_metrics, read_history
from shipyard.tracking.records import (
    LatestValue,
    OutputModel,
    RunInfo,
    RunRecord,
    load_records,
    read_run_info,
)
from shipyard.tracking.tables import (
    Dataset,
    Param,
    Run,
    RunInput,
    RunOutput,
    RunTag,
)

__all__ = [
    "MLFLOW_LIMITS",
    "NATIVE_LIMITS",
    "BatchLimits",
    "LatestValue",
    "MetricBatch",
    "MetricPoint",
    "OutputModel",
    "RunInfo",
    "RunRecord",
    "create_run",
    "delete_run",
    "delete_tag",
    "get_metric_history",
    "get_run",
    "get_run_record",
    "load_records",
    "log_batch",
    "log_inputs",
    "log_outputs",
    "new_run_record",
    "restore_run",
    "set_tag",
    "update_run",
]

logger = logging.getLogger(__name__)

RUN_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
RUN_NAME_TAG = "mlflow.runName"
MAX_HISTORY_PAGE = 25_000
_ADJECTIVES = (
    "amber",
    "bold",
    "brisk",
    "calm",
    "clever",
    "eager",
    "gentle",
    "keen",
    "lucid",
    "merry",
    "nimble",
    "quiet",
    "rapid",
    "steady",
    "sunny",
    "vivid",
    "wise",
    "zesty",
)
_NOUNS = (
    "anchor",
    "brig",
    "buoy",
    "cutter",
    "dinghy",
    "ferry",
    "galley",
    "harbor",
    "keel",
    "ketch",
    "mast",
    "pier",
    "rudder",
    "schooner",
    "sloop",
    "tide",
    "wharf",
    "yawl",
)


_RUN_BY_ID = select(Run).where(Run.id == bindparam("run_id"))


def get_run(session: Session, run_id: str) -> Run:
    # A prebuilt SELECT: ``session.get`` builds its query anew on every call that misses the identity
    # map, which is every call of a request's fresh session.
    run = session.execute(_RUN_BY_ID, {"run_id": check_run_id(run_id)}).scalar()
    if run is None:
        raise NotFoundError(f"Run with id={run_id} not found", field="run_id")
    return run


def _active_run(session: Session, run_id: str) -> Run:
    run = get_run(session, run_id)
    if run.lifecycle_stage != "active":
        raise InvalidParameterError(
            f"The run {run_id} must be in the 'active' state. Current state is {run.lifecycle_stage}.",
            field="run_id",
        )
    return run


def _random_name() -> str:
    chooser = random.SystemRandom()
    return f"{chooser.choice(_ADJECTIVES)}-{chooser.choice(_NOUNS)}-{chooser.randint(100, 999)}"


def create_run(
    session: Session,
    *,
    actor: Principal,
    experiment_id: int | str = 0,
    run_name: str | None = None,
    start_time: int | None = None,
    user_id: str | None = None,
    tags: dict[str, str] | None = None,
) -> Run:
    require_role(actor, Role.EDITOR)
    experiment = experiment_state(session, experiment_id)
    if experiment.lifecycle_stage != "active":
        raise InvalidParameterError(
            f"The experiment {experiment.id} must be in the 'active' state. Current state is deleted.",
            field="experiment_id",
        )
    tags = dict(tags or {})
    name = run_name or tags.get(RUN_NAME_TAG) or _random_name()
    check_text(name, field="run_name", max_length=250)
    run_id = new_run_id()
    values = {
        "id": run_id,
        "experiment_id": experiment.id,
        "name": name,
        "user_id": check_text(user_id or actor.name, field="user_id", max_length=256),
        "status": "RUNNING",
        "start_time": to_int(start_time, field="start_time", default=now_ms()),
        "end_time": None,
        "lifecycle_stage": "active",
        "artifact_uri": f"mlflow-artifacts:/{experiment.id}/{run_id}/artifacts",
        "deleted_time": None,
    }
    tags[RUN_NAME_TAG] = name
    tag_rows = [{"run_id": run_id, "key": check_key(k), "value": tag_value(v)} for k, v in tags.items()]
    # Core INSERTs (a run per training job, many per sweep): the ORM's flush costs more than the SQL.
    # The object is then attached as if loaded, so callers may still change it through the session.
    connection = session.connection()
    connection.execute(_INSERT_RUN, values)
    connection.execute(_INSERT_TAG, tag_rows)
    run = Run(**values)
    make_transient_to_detached(run)
    session.add(run)
    audit.record(
        session,
        actor=actor,
        action="run.create",
        object_type="run",
        object_id=run_id,
        after={"experiment_id": experiment.id, "name": name},
    )
    return run


def new_run_record(run: Run, tags: dict[str, str] | None) -> RunRecord:
    """What ``create_run`` just stored, without reading it back: the given tags plus the run name."""
    return RunRecord(run, tags={**{k: tag_value(v) for k, v in (tags or {}).items()}, RUN_NAME_TAG: run.name})


def get_run_record(session: Session, run_id: str) -> RunRecord:
    """A run with everything it carries, for reads that only report it: plain rows, no ORM object."""
    info = read_run_info(session, check_run_id(run_id))
    if info is None:
        raise NotFoundError(f"Run with id={run_id} not found", field="run_id")
    return load_records(session, [info])[0]


_UPDATE_RUN = (
    update(Run.__table__)  # type: ignore[arg-type]
    .where(Run.__table__.c.id == bindparam("run_id"))
    .values(status=bindparam("new_status"), end_time=bindparam("new_end_time"), name=bindparam("new_name"))
)


def update_run(
    session: Session,
    *,
    actor: Principal,
    run_id: str,
    status: str | None = None,
    end_time: int | None = None,
    run_name: str | None = None,
) -> RunInfo:
    """Change a run's status, end time or name: a row read and one UPDATE (every finished run
    comes through here), leaving no stale copy in the session."""
    require_role(actor, Role.EDITOR)
    run = read_run_info(session, check_run_id(run_id))
    if run is None:
        raise NotFoundError(f"Run with id={run_id} not found", field="run_id")
    if run.lifecycle_stage != "active":
        raise InvalidParameterError(
            f"The run {run_id} must be in the 'active' state. Current state is {run.lifecycle_stage}.",
            field="run_id",
        )
    new_status, new_end_time, new_name = run.status, run.end_time, run.name
    if status is not None:
        if status not in RUN_STATUSES:
            raise InvalidParameterError(
                f"Invalid value {status!r} for parameter 'status'; expected one of {', '.join(RUN_STATUSES)}",
                field="status",
            )
        new_status = status
        if status in ("FINISHED", "FAILED", "KILLED"):
            new_end_time = to_int(end_time, field="end_time", default=now_ms())
    if end_time is not None and status is None:
        new_end_time = to_int(end_time, field="end_time")
    if run_name:
        new_name = check_text(run_name, field="run_name", max_length=250)
    # A Run the session already holds (created or read earlier in this transaction) keeps its pending
    # changes (flushed first) and reloads what this UPDATE wrote.
    held = session.identity_map.get(identity_key(Run, run.id))
    if held is not None:
        session.flush()
    session.connection().execute(
        _UPDATE_RUN,
        {"run_id": run.id, "new_status": new_status, "new_end_time": new_end_time, "new_name": new_name},
    )
    if held is not None:
        session.expire(held, ["status", "end_time", "name"])
    if run_name:
        _upsert_tags(session, run.id, {RUN_NAME_TAG: new_name})
    audit.record(
        session,
        actor=actor,
        action="run.update",
        object_type="run",
        object_id=run.id,
        before={"status": run.status, "end_time": run.end_time, "name": run.name},
        after={"status": new_status, "end_time": new_end_time, "name": new_name},
    )
    return run._replace(status=new_status, end_time=new_end_time, name=new_name)


def _set_stage(session: Session, actor: Principal, run_id: str, stage: str) -> Run:
    require_role(actor, Role.EDITOR)
    run = get_run(session, run_id)
    if run.lifecycle_stage != stage:
        before = run.lifecycle_stage
        run.lifecycle_stage = stage
        run.deleted_time = now_ms() if stage == "deleted" else None
        audit.record(
            session,
            actor=actor,
            action="run.delete" if stage == "deleted" else "run.restore",
            object_type="run",
            object_id=run.id,
            before={"lifecycle_stage": before},
            after={"lifecycle_stage": stage},
        )
    return run


def delete_run(session: Session, *, actor: Principal, run_id: str) -> Run:
    return _set_stage(session, actor, run_id, "deleted")


def restore_run(session: Session, *, actor: Principal, run_id: str) -> Run:
    return _set_stage(session, actor, run_id, "active")


def _tag_upsert(dialect: Any) -> Any:
    statement = dialect.insert(RunTag.__table__)
    return statement.on_conflict_do_update(
        index_elements=["run_id", "key"], set_={"value": statement.excluded.value}
    )


_INSERT_RUN = insert(Run.__table__)  # type: ignore[arg-type]
_INSERT_TAG = insert(RunTag.__table__)  # type: ignore[arg-type]
_INSERT_PARAM = insert(Param.__table__)  # type: ignore[arg-type]
_INSERT_PARAM_IF_NEW = {
    name: dialect.insert(Param.__table__).on_conflict_do_nothing()
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
}
_UPSERT_TAG = {"sqlite": _tag_upsert(sqlite), "postgresql": _tag_upsert(postgresql)}
_STAGE_OF_RUN = select(Run.__table__.c.lifecycle_stage).where(Run.__table__.c.id == bindparam("run_id"))
_PARAMS_OF_RUN = select(Param.__table__.c.key, Param.__table__.c.value).where(
    Param.__table__.c.run_id == bindparam("run_id"),
    Param.__table__.c.key.in_(bindparam("keys", expanding=True)),
)


def _upsert_tags(session: Session, run_id: str, tags: dict[str, str]) -> None:
    connection = session.connection()
    connection.execute(
        _UPSERT_TAG[connection.dialect.name],
        [{"run_id": run_id, "key": key, "value": value} for key, value in tags.items()],
    )


def _check_active(session: Session, run_id: str) -> str:
    """``_active_run`` for writers that need only the id: one column read, no ORM object."""
    # On the session's connection: a Core statement needs none of the ORM's execution machinery.
    stage = session.connection().execute(_STAGE_OF_RUN, {"run_id": check_run_id(run_id)}).scalar()
    if stage is None:
        raise NotFoundError(f"Run with id={run_id} not found", field="run_id")
    if stage != "active":
        raise InvalidParameterError(
            f"The run {run_id} must be in the 'active' state. Current state is {stage}.", field="run_id"
        )
    return run_id


def set_tag(session: Session, *, actor: Principal, run_id: str, key: str, value: str) -> None:
    log_batch(session, actor=actor, run_id=run_id, tags={key: value})


def delete_tag(session: Session, *, actor: Principal, run_id: str, key: str) -> None:
    require_role(actor, Role.EDITOR)
    run = _active_run(session, run_id)
    deleted = session.execute(delete(RunTag).where(RunTag.run_id == run.id, RunTag.key == key))
    if not deleted.rowcount:  # type: ignore[attr-defined]
        raise NotFoundError(f"No tag with name: {key} in run with id {run_id}", field="key")
    audit.record(
        session,
        actor=actor,
        action="run.delete_tag",
        object_type="run",
        object_id=run.id,
        before={"key": key},
    )


@dataclass(frozen=True)
class BatchLimits:
    metrics: int
    params: int
    tags: int
    total: int


# MLflow's limits (its client splits batches to fit); Shipyard's SDK sends larger columnar batches.
MLFLOW_LIMITS = BatchLimits(MAX_BATCH_METRICS, MAX_BATCH_PARAMS, MAX_BATCH_TAGS, MAX_BATCH_TOTAL)
NATIVE_LIMITS = BatchLimits(50_000, 1_000, 1_000, 52_000)


def _check_batch(
    metrics: Sequence[MetricPoint] | MetricBatch,
    params: dict[str, str],
    tags: dict[str, str],
    limits: BatchLimits,
) -> None:
    for name, items, limit in (
        ("metrics", metrics, limits.metrics),
        ("params", params, limits.params),
        ("tags", tags, limits.tags),
    ):
        if len(items) > limit:
            raise InvalidParameterError(
                f"A batch logging request can contain at most {limit} {name}. Got {len(items)} {name}.",
                field=name,
            )
    total = len(metrics) + len(params) + len(tags)
    if total > limits.total:
        raise InvalidParameterError(
            f"A batch logging request can contain at most {limits.total} metrics, params and tags "
            f"in total. Got {total}.",
            field="metrics",
        )


def log_batch(
    session: Session,
    *,
    actor: Principal,
    run_id: str,
    metrics: Sequence[MetricPoint] | MetricBatch = (),
    params: dict[str, Any] | Iterable[tuple[str, Any]] = (),
    tags: dict[str, Any] | Iterable[tuple[str, Any]] = (),
    limits: BatchLimits = MLFLOW_LIMITS,
) -> None:
    """Log metrics, params and tags in one transaction; all or nothing."""
    require_role(actor, Role.EDITOR)
    param_items = list(params.items() if isinstance(params, dict) else params)
    keys = [key for key, _ in param_items]
    if len(set(keys)) != len(keys):
        raise InvalidParameterError("Duplicate parameter keys have been submitted.", field="params")
    clean_params = {check_key(k): param_value(v) for k, v in param_items}
    clean_tags = {check_key(k): tag_value(v) for k, v in (tags.items() if isinstance(tags, dict) else tags)}
    _check_batch(metrics, clean_params, clean_tags, limits)
    for key in set(metrics.keys) if isinstance(metrics, MetricBatch) else {p.key for p in metrics}:
        check_key(key)
    run_id = _check_active(session, run_id)
    if clean_params:
        _log_params(session, run_id, clean_params)
    if clean_tags:
        _upsert_tags(session, run_id, clean_tags)
        if RUN_NAME_TAG in clean_tags:
            get_run(session, run_id).name = clean_tags[RUN_NAME_TAG][:250]
    if metrics:
        log_metrics(session, run_id, metrics)
    audit.record(
        session,
        actor=actor,
        action="run.log",
        object_type="run",
        object_id=run_id,
        after={"metrics": len(metrics), "params": sorted(clean_params)[:20], "tags": sorted(clean_tags)[:20]},
    )


def _log_params(session: Session, run_id: str, params: dict[str, str]) -> None:
    if len(params) == 1:
        # MLflow's log_param, one key per request: insert unless the key exists, read back only then.
        connection = session.connection()
        ((key, value),) = params.items()
        inserted = connection.execute(
            _INSERT_PARAM_IF_NEW[connection.dialect.name], {"run_id": run_id, "key": key, "value": value}
        )
        if inserted.rowcount == 1:
            return
    rows = session.execute(_PARAMS_OF_RUN, {"run_id": run_id, "keys": list(params)})
    existing: dict[str, str] = {key: value for key, value in rows}
    for key, value in params.items():
        if key in existing and existing[key] != value:
            raise InvalidParameterError(
                f"Changing param values is not allowed. Param with key='{key}' was already logged with "
                f"value='{existing[key]}' for run ID='{run_id}'. Attempted logging new value '{value}'.",
                field="params",
            )
    new = [{"run_id": run_id, "key": k, "value": v} for k, v in params.items() if k not in existing]
    if new:
        session.connection().execute(_INSERT_PARAM, new)


def get_metric_history(
    session: Session,
    *,
    run_id: str,
    key: str,
    max_results: int | None = None,
    page_token: str | None = None,
) -> tuple[list[tuple[float, bool, int, int]], str | None]:
    """(value, is_nan, timestamp, step) points by step then timestamp, and the next page token."""
    run = get_run(session, run_id)
    check_key(key, field="metric_key")
    limit = MAX_HISTORY_PAGE if max_results is None else max_results
    if not 1 <= limit <= MAX_HISTORY_PAGE * 4:
        raise InvalidParameterError(f"Invalid value {limit} for parameter 'max_results'", field="max_results")
    offset = decode_offset(page_token)
    points = read_history(session, run.id, key, limit=limit + 1, offset=offset)
    token = encode_offset(offset + limit) if len(points) > limit else None
    return points[:limit], token


def log_inputs(
    session: Session,
    *,
    actor: Principal,
    run_id: str,
    datasets: Sequence[dict[str, Any]],
) -> None:
    """Record the datasets a run used (name, digest, source, schema), deduplicated per experiment."""
    require_role(actor, Role.EDITOR)
    run = _active_run(session, run_id)
    for position, entry in enumerate(datasets):
        spec = entry.get("dataset") or {}
        where = f"datasets[{position}].dataset"
        values = {}
        for name, limit in (("name", 500), ("digest", 64), ("source_type", 36), ("source", 65535)):
            value = spec.get(name)
            if not isinstance(value, str) or not value:
                raise InvalidParameterError(
                    f"Missing value for required parameter '{where}.{name}'", field=f"{where}.{name}"
                )
            values[name] = check_text(value, field=f"{where}.{name}", max_length=limit)
        dataset = session.scalar(
            select(Dataset).where(
                Dataset.experiment_id == run.experiment_id,
                Dataset.name == values["name"],
                Dataset.digest == values["digest"],
            )
        )
        if dataset is None:
            dataset = Dataset(
                experiment_id=run.experiment_id,
                schema=spec.get("schema"),
                profile=spec.get("profile"),
                **values,
            )
            session.add(dataset)
            session.flush()
        tags = [{"key": str(t.get("key")), "value": str(t.get("value"))} for t in entry.get("tags") or []]
        context = next((t["value"] for t in tags if t["key"] == "mlflow.data.context"), None)
        if session.get(RunInput, (run.id, dataset.id)) is None:
            session.add(RunInput(run_id=run.id, dataset_id=dataset.id, tags=tags, context=context))
    audit.record(
        session,
        actor=actor,
        action="run.log_inputs",
        object_type="run",
        object_id=run.id,
        after={"datasets": [d.get("dataset", {}).get("name") for d in datasets]},
    )


def log_outputs(
    session: Session, *, actor: Principal, run_id: str, models: Sequence[tuple[str, int]]
) -> None:
    """Record the logged models (``m-…`` ids) a run produced, with the step they belong to."""
    from shipyard.tracking.logged_models import get_logged_model

    require_role(actor, Role.EDITOR)
    run = _active_run(session, run_id)
    for model_id, step in models:
        get_logged_model(session, model_id)
        existing = session.get(RunOutput, (run.id, model_id))
        if existing is None:
            session.add(RunOutput(run_id=run.id, model_id=model_id, step=step))
        else:
            existing.step = step
    audit.record(
        session,
        actor=actor,
        action="run.log_outputs",
        object_type="run",
        object_id=run.id,
        after={"models": [model_id for model_id, _ in models]},
    )
