"""A run's page (params, metric charts, artifacts, reproducibility, lineage) and the compare view."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from shipyard.core import files
from shipyard.core.errors import InvalidParameterError
from shipyard.registry.versions import search_model_versions
from shipyard.tracking import experiments as experiment_service
from shipyard.tracking.experiments import encode_offset
from shipyard.tracking.reproducibility import TAG_PREFIX, reproduce_steps
from shipyard.tracking.runs import get_run, load_records
from shipyard.tracking.search import search_run_rows, search_runs
from shipyard.tracking.tables import LatestMetric, Param, Run
from shipyard.ui.pages._common import read
from shipyard.ui.render import render
from shipyard.ui.series import TARGET_POINTS, metric_series
from shipyard.ui.session import ViewerDep, platform_of

__all__ = ["router"]

router = APIRouter()

MAX_COMPARE = 500
PREVIEW_BYTES = 256 * 1024
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
TEXT_SUFFIXES = (
    ".txt",
    ".json",
    ".yaml",
    ".yml",
    ".csv",
    ".md",
    ".log",
    ".py",
    ".toml",
    ".cfg",
    ".ini",
    ".html",
)
RunIds = Annotated[list[str] | None, Query(max_length=64)]


def _kind(path: str) -> str:
    lower = path.lower()
    if any(lower.endswith(s) for s in IMAGE_TYPES):
        return "image"
    if lower.endswith(".json"):
        return "json"
    if lower.endswith(TEXT_SUFFIXES) or "." not in lower.rsplit("/", 1)[-1]:
        return "text"
    return "binary"


def _run(session: Session, run_id: str) -> dict[str, Any]:
    run = get_run(session, run_id)
    record = load_records(session, [run])[0]
    experiment = experiment_service.get_experiment(session, run.experiment_id)
    artifacts = files.list_files(session, owner_type="run", owner_id=run.id)
    versions, _ = search_model_versions(session, filter_string=f"run_id = '{run.id}'", max_results=100)
    children, _ = search_runs(
        session,
        experiment_ids=[run.experiment_id],
        filter_string=f"tags.`mlflow.parentRunId` = '{run.id}'",
        max_results=100,
    )
    repro = {k.removeprefix(TAG_PREFIX): v for k, v in record.tags.items() if k.startswith(TAG_PREFIX)}
    tags = {k: v for k, v in record.tags.items() if not k.startswith(TAG_PREFIX)}
    return {
        "run": run,
        "experiment": experiment,
        "params": sorted(record.params.items()),
        "metrics": sorted(record.metrics, key=lambda m: m.key),
        "tags": sorted(tags.items()),
        "inputs": record.inputs,
        "outputs": record.outputs,
        "artifacts": [(a, _kind(a.path)) for a in artifacts],
        "versions": [v.version for v in versions],
        "children": [c.run for c in children],
        "parent_id": record.tags.get("mlflow.parentRunId"),
        "repro": sorted(repro.items()),
        "steps": reproduce_steps(record.tags, run.id) if repro else [],
    }


@router.get("/runs/{run_id}", include_in_schema=False)
async def run_page(request: Request, viewer: ViewerDep, run_id: str) -> Response:
    data = await read(request, lambda s: _run(s, run_id))
    return render(request, viewer, "runs/run.html", data, section="experiments", title=data["run"].name)


def _chart(session: Session, run_ids: list[str], key: str, names: dict[str, str]) -> dict[str, Any]:
    # Many runs share one chart: fewer points each keeps the payload near 30,000 points in all.
    series = metric_series(
        session, run_ids, key, target=max(200, min(TARGET_POINTS, 30_000 // max(1, len(run_ids))))
    )
    notes = []
    for s in series:
        if s.stored is None:
            notes.append(f"steps {s.span[0]:,} to {s.span[1]:,} sampled at {len(s.steps):,} points")
        elif s.downsampled:
            notes.append(f"{s.stored:,} points drawn as {len(s.steps):,}")
    note = f"Downsampled on the server (LTTB): {'; '.join(notes[:3])}" if notes else ""
    if len(notes) > 3:
        note += f" and {len(notes) - 3} more series"
    return {
        "key": key,
        "x_label": "step",
        "note": note,
        "series": [{"label": names.get(s.run_id, s.run_id[:8]), "x": s.steps, "y": s.values} for s in series],
    }


def _json(payload: dict[str, Any]) -> JSONResponse:
    return JSONResponse(payload, headers={"Cache-Control": "no-store"})


@router.get("/runs/{run_id}/chart", include_in_schema=False)
async def run_chart(
    request: Request, viewer: ViewerDep, run_id: str, key: Annotated[str, Query(min_length=1, max_length=250)]
) -> Response:
    def work(session: Session) -> dict[str, Any]:
        run = get_run(session, run_id)
        return _chart(session, [run.id], key, {run.id: key})

    return _json(await read(request, work))


def _artifact(session: Session, run_id: str, path: str) -> tuple[Any, Any]:
    run = get_run(session, run_id)
    return run, files.get_file(session, owner_type="run", owner_id=run.id, path=path)


@router.get("/runs/{run_id}/artifact", include_in_schema=False)
async def artifact_preview(
    request: Request,
    viewer: ViewerDep,
    run_id: str,
    path: Annotated[str, Query(min_length=1, max_length=1000)],
) -> Response:
    run, row = await read(request, lambda s: _artifact(s, run_id, path))
    kind = _kind(row.path)
    content = None
    truncated = False
    if kind in ("text", "json"):
        store = platform_of(request).artifacts
        raw = await run_in_threadpool(_head, store, row.digest)
        truncated = row.size > PREVIEW_BYTES
        content = raw.decode("utf-8", errors="replace")
        if kind == "json" and not truncated:
            try:
                content = json.dumps(json.loads(content), indent=2, ensure_ascii=False)
            except ValueError:
                kind = "text"
    data = {"run": run, "file": row, "kind": kind, "content": content, "truncated": truncated}
    return render(request, viewer, "runs/artifact.html", data, section="experiments", title=row.path)


def _head(store: Any, digest: str) -> bytes:
    with store.open(digest) as reader:
        return reader.read(PREVIEW_BYTES)


@router.get("/runs/{run_id}/artifact/raw", include_in_schema=False)
async def artifact_raw(
    request: Request,
    viewer: ViewerDep,
    run_id: str,
    path: Annotated[str, Query(min_length=1, max_length=1000)],
) -> Response:
    """Images inline (for previews); anything else as a download, never rendered by the browser."""
    _, row = await read(request, lambda s: _artifact(s, run_id, path))
    store = platform_of(request).artifacts
    body = await run_in_threadpool(store.read_bytes, row.digest)
    suffix = "." + row.path.rsplit(".", 1)[-1].lower() if "." in row.path else ""
    name = row.path.rsplit("/", 1)[-1].replace('"', "")
    if suffix in IMAGE_TYPES:
        return Response(
            body, media_type=IMAGE_TYPES[suffix], headers={"Cache-Control": "private, max-age=3600"}
        )
    return Response(
        body,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# -- compare ----------------------------------------------------------------------------------------
def _selected(
    session: Session,
    *,
    runs: list[str],
    experiment: str | None,
    filter_string: str | None,
    order: str | None,
    limit: int,
) -> list[Run]:
    """The runs to compare: the ids picked in the table, or the first ``limit`` matching a search."""
    if runs:
        rows = list(session.scalars(select(Run).where(Run.id.in_(runs[:MAX_COMPARE]))))
        by_id = {r.id: r for r in rows}
        missing = [r for r in runs if r not in by_id]
        if missing:
            raise InvalidParameterError(f"run {missing[0]!r} does not exist", field="runs")
        return [by_id[r] for r in dict.fromkeys(runs)]
    if experiment is None:
        raise InvalidParameterError(
            "pick runs to compare: tick them in an experiment's table, or give experiment and filter",
            field="runs",
        )
    found, _ = search_run_rows(
        session,
        experiment_ids=[experiment],
        filter_string=filter_string,
        order_by=[order] if order else None,
        max_results=limit,
        page_token=encode_offset(0),
    )
    return found


@dataclass(frozen=True)
class Compared:
    """What the compare view shows of a run: its params and latest metric values (None for NaN)."""

    run: Run
    params: dict[str, str]
    metrics: dict[str, float | None]


def _compared(session: Session, runs: list[Run]) -> list[Compared]:
    # Plain rows, not ORM objects: hydrating thousands of params and metrics cost more than the queries.
    ids = [run.id for run in runs]
    params: dict[str, dict[str, str]] = {run_id: {} for run_id in ids}
    metrics: dict[str, dict[str, float | None]] = {run_id: {} for run_id in ids}
    for run_id, key, value in session.execute(
        select(Param.run_id, Param.key, Param.value).where(Param.run_id.in_(ids))
    ):
        params[run_id][key] = value
    for run_id, key, value, is_nan in session.execute(
        select(LatestMetric.run_id, LatestMetric.key, LatestMetric.value, LatestMetric.is_nan).where(
            LatestMetric.run_id.in_(ids)
        )
    ):
        metrics[run_id][key] = None if is_nan else value
    return [Compared(run, params[run.id], metrics[run.id]) for run in runs]


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _compare(session: Session, **selection: Any) -> dict[str, Any]:
    records = _compared(session, _selected(session, **selection))
    param_keys = sorted({k for r in records for k in r.params})
    metric_keys = sorted({k for r in records for k in r.metrics})
    params = []
    for key in param_keys:
        values = [r.params.get(key) for r in records]
        params.append((key, values, len(set(values)) > 1))
    metrics = [(key, [r.metrics.get(key) for r in records]) for key in metric_keys]
    # Parallel coordinates: numeric params that differ, then every metric.
    axes = []
    for key, values, differs in params:
        numbers = [_number(v) for v in values]
        numeric = all(v is not None or raw is None for v, raw in zip(numbers, values, strict=True))
        if differs and numeric and any(v is not None for v in numbers):
            axes.append({"name": f"params.{key}", "values": numbers})
    for key, metric_values in metrics:
        finite = [v if v is not None and math.isfinite(v) else None for v in metric_values]
        axes.append({"name": f"metrics.{key}", "values": finite})
    return {
        "records": records,
        "params": params,
        "metrics": metrics,
        "parcoords": {"axes": axes[:12], "runs": [r.run.name for r in records]},
    }


def _selection(
    runs: list[str] | None, experiment: str | None, filter: str | None, order: str | None, limit: int
) -> dict[str, Any]:
    return {
        "runs": list(runs or []),
        "experiment": experiment,
        "filter_string": filter,
        "order": order,
        "limit": limit,
    }


Limit = Annotated[int, Query(ge=2, le=MAX_COMPARE)]
ShortText = Annotated[str | None, Query(max_length=2000)]


@router.get("/compare", include_in_schema=False)
async def compare_page(
    request: Request,
    viewer: ViewerDep,
    runs: RunIds = None,
    experiment: Annotated[str | None, Query(max_length=20)] = None,
    filter: ShortText = None,
    order: Annotated[str | None, Query(max_length=300)] = None,
    limit: Limit = 100,
) -> Response:
    if runs and len(runs) > MAX_COMPARE:
        raise InvalidParameterError(f"compare at most {MAX_COMPARE} runs; got {len(runs)}", field="runs")
    selection = _selection(runs, experiment, filter, order, limit)
    data = await read(request, lambda s: _compare(s, **selection))
    data["chart_query"] = request.url.query
    return render(request, viewer, "runs/compare.html", data, section="experiments", title="Compare runs")


@router.get("/compare/chart", include_in_schema=False)
async def compare_chart(
    request: Request,
    viewer: ViewerDep,
    key: Annotated[str, Query(min_length=1, max_length=250)],
    runs: RunIds = None,
    experiment: Annotated[str | None, Query(max_length=20)] = None,
    filter: ShortText = None,
    order: Annotated[str | None, Query(max_length=300)] = None,
    limit: Limit = 100,
) -> Response:
    selection = _selection(runs, experiment, filter, order, limit)

    def work(session: Session) -> dict[str, Any]:
        names = {run.id: run.name for run in _selected(session, **selection)}
        return _chart(session, list(names), key, names)

    return _json(await read(request, work))
