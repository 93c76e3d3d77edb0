"""Experiments and the runs table: MLflow filter syntax, column chooser, server-side sorting and paging."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shipyard.core.errors import InvalidParameterError
from shipyard.tracking import experiments as experiment_service
from shipyard.tracking.experiments import encode_offset
from shipyard.tracking.search import search_runs
from shipyard.tracking.tables import Run
from shipyard.ui.pages._common import read
from shipyard.ui.render import NavItem, navigation, render
from shipyard.ui.session import ViewerDep

__all__ = ["router"]

router = APIRouter()
navigation(NavItem("Experiments", "/experiments", "experiments"))

PAGE_SIZES = (25, 50, 100, 200)
MAX_PAGE = 100_000
DEFAULT_METRIC_COLUMNS = 5
DEFAULT_PARAM_COLUMNS = 4
Text = Annotated[str | None, Query(max_length=2000)]


def _experiments(session: Session, name: str | None, page: int) -> dict[str, Any]:
    filter_string = None
    if name:
        escaped = name.replace("\\", "\\\\").replace("'", "\\'")
        filter_string = f"name ILIKE '%{escaped}%'"
    found = experiment_service.search_experiments(
        session,
        max_results=50,
        filter_string=filter_string,
        order_by=["last_update_time DESC"],
        page_token=encode_offset(page * 50) if page else None,
    )
    ids = [e.id for e in found.experiments]
    counts = dict(
        session.execute(
            select(Run.experiment_id, func.count())
            .where(Run.experiment_id.in_(ids), Run.lifecycle_stage == "active")
            .group_by(Run.experiment_id)
        ).all()
    )
    return {"experiments": found.experiments, "counts": counts, "has_next": bool(found.next_page_token)}


@router.get("/experiments", include_in_schema=False)
async def experiment_list(
    request: Request,
    viewer: ViewerDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=0, le=MAX_PAGE)] = 0,
) -> Response:
    data = await read(request, lambda s: _experiments(s, q, page))
    data.update(q=q or "", page=page)
    return render(request, viewer, "experiments/index.html", data, section="experiments", title="Experiments")


def order_clause(order: str | None) -> list[str] | None:
    """``metrics.acc DESC`` (as the table's header links write it), checked by the search itself."""
    return [order] if order else None


def _runs(
    session: Session,
    experiment_id: str,
    *,
    filter_string: str | None,
    order: str | None,
    page: int,
    size: int,
    columns: list[str],
) -> dict[str, Any]:
    experiment = experiment_service.get_experiment(session, experiment_id)
    error = None
    try:
        records, token = search_runs(
            session,
            experiment_ids=[experiment.id],
            filter_string=filter_string,
            order_by=order_clause(order),
            max_results=size,
            page_token=encode_offset(page * size) if page else None,
        )
    except InvalidParameterError as exc:
        records, token, error = [], None, exc
    metric_keys = sorted({m.key for r in records for m in r.metrics})
    param_keys = sorted({k for r in records for k in r.params})
    available = [f"metrics.{k}" for k in metric_keys] + [f"params.{k}" for k in param_keys]
    chosen = [c for c in columns if c.startswith(("metrics.", "params.", "tags."))]
    if not chosen:
        chosen = [f"metrics.{k}" for k in metric_keys[:DEFAULT_METRIC_COLUMNS]]
        chosen += [f"params.{k}" for k in param_keys[:DEFAULT_PARAM_COLUMNS]]
    available += [c for c in chosen if c not in available]
    rows = []
    for record in records:
        metrics = {m.key: (None if m.is_nan else m.value) for m in record.metrics}
        cells = []
        for column in chosen:
            kind, _, key = column.partition(".")
            if kind == "metrics":
                cells.append(metrics.get(key))
            elif kind == "params":
                cells.append(record.params.get(key))
            else:
                cells.append(record.tags.get(key))
        rows.append({"run": record.run, "cells": cells, "tags": record.tags})
    return {
        "experiment": experiment,
        "rows": rows,
        "columns": chosen,
        "available": available,
        "has_next": token is not None,
        "error": error,
    }


@router.get("/experiments/{experiment_id}", include_in_schema=False)
async def runs_table(
    request: Request,
    viewer: ViewerDep,
    experiment_id: str,
    filter: Text = None,
    order: Annotated[str | None, Query(max_length=300)] = None,
    page: Annotated[int, Query(ge=0, le=MAX_PAGE)] = 0,
    size: Annotated[int, Query(ge=1, le=max(PAGE_SIZES))] = 50,
    cols: Annotated[list[str] | None, Query(max_length=300)] = None,
) -> Response:
    columns = list(cols or [])[:40]
    data = await read(
        request,
        lambda s: _runs(
            s,
            experiment_id,
            filter_string=filter,
            order=order,
            page=page,
            size=size,
            columns=columns,
        ),
    )
    error = data.pop("error")
    data.update(
        filter=filter or "",
        order=order or "",
        page=page,
        size=size,
        sizes=PAGE_SIZES,
        filter_error=error.message if error and error.field != "order_by" else None,
        order_error=error.message if error and error.field == "order_by" else None,
    )
    template = "experiments/runs.html"
    if request.headers.get("hx-request") and request.headers.get("hx-target") == "runs":
        template = "experiments/_runs_table.html"
    status = error.status_code if error else 200
    title = data["experiment"].name
    return render(request, viewer, template, data, status_code=status, section="experiments", title=title)
