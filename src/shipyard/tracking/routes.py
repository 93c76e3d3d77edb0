"""Shipyard's own tracking routes: columnar logging for the SDK, run reads, metric history, files.

Experiments and run lifecycles are served by the MLflow-compatible API (``compat/mlflow``), which
the SDK also uses; these routes add what that protocol makes slow or lacks.
"""

from __future__ import annotations

from fastapi import APIRouter

from shipyard.core.deps import EditorDep, PlatformDep, ViewerDep
from shipyard.core.file_routes import artifact_file_routes
from shipyard.core.schemas import API_ERRORS
from shipyard.tracking import logged_models, runs
from shipyard.tracking._common import to_float
from shipyard.tracking.runs import NATIVE_LIMITS, MetricBatch, RunRecord
from shipyard.tracking.schemas import MetricHistoryPublic, RunLog, RunPublic

__all__ = ["files_router", "logged_model_files_router", "router", "run_public"]

router = APIRouter(prefix="/api/v1/runs", tags=["tracking"], responses=API_ERRORS)
files_router = artifact_file_routes(
    owner_type="run", prefix="/api/v1/runs", check_owner=runs.get_run, tags=["tracking"]
)
# Logged models' files with their digests, so that a model fetch can verify them (the MLflow
# artifact proxy lists sizes only).
logged_model_files_router = artifact_file_routes(
    owner_type="logged_model",
    prefix="/api/v1/logged-models",
    check_owner=logged_models.get_logged_model,
    tags=["tracking"],
)


def run_public(record: RunRecord) -> RunPublic:
    run = record.run
    return RunPublic(
        run_id=run.id,
        experiment_id=str(run.experiment_id),
        name=run.name,
        status=run.status,
        start_time=run.start_time,
        end_time=run.end_time,
        lifecycle_stage=run.lifecycle_stage,
        artifact_uri=run.artifact_uri,
        params=record.params,
        tags=record.tags,
        metrics={m.key: (float("nan") if m.is_nan else m.value) for m in record.metrics},
    )


@router.post("/{run_id}/log", status_code=204, summary="Log metric columns, params and tags in one batch")
def log(run_id: str, body: RunLog, platform: PlatformDep, actor: EditorDep) -> None:
    batch = MetricBatch()
    if body.metrics is not None:
        columns = body.metrics
        values = columns.value
        if not set(map(type, values)) <= {float}:  # strings ("NaN", "Infinity") are the rare case
            values = [to_float(value, field=f"metrics.value[{i}]") for i, value in enumerate(values)]
        batch = MetricBatch(columns.key, values, columns.step, columns.timestamp)
    with platform.database.session(write=True) as session:
        runs.log_batch(
            session,
            actor=actor,
            run_id=run_id,
            metrics=batch,
            params=body.params,
            tags=body.tags,
            limits=NATIVE_LIMITS,
        )


@router.get("/{run_id}", summary="A run with its params, latest metrics and tags")
def get_run(run_id: str, platform: PlatformDep, _: ViewerDep) -> RunPublic:
    with platform.database.session() as session:
        return run_public(runs.load_records(session, [runs.get_run(session, run_id)])[0])


@router.get("/{run_id}/metrics/{key}", summary="A metric's full history as columns")
def metric_history(run_id: str, key: str, platform: PlatformDep, _: ViewerDep) -> MetricHistoryPublic:
    with platform.database.session() as session:
        points, _ = runs.get_metric_history(session, run_id=run_id, key=key, max_results=100_000)
    return MetricHistoryPublic(
        key=key,
        step=[p[3] for p in points],
        timestamp=[p[2] for p in points],
        value=[float("nan") if p[1] else p[0] for p in points],
    )
