"""Monitoring pages: monitors per endpoint, drift per column over time with its type, the dataset verdict
of each window, a window's distributions against the reference, delayed-label performance, alerts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from shipyard.core.auth import Role, require_role
from shipyard.core.errors import NotFoundError, ShipyardError
from shipyard.monitoring import views
from shipyard.monitoring.monitors import get_monitor
from shipyard.monitoring.tables import AlertEvent, AlertRule, Monitor, MonitorResult
from shipyard.serving.endpoints import check_endpoint_name
from shipyard.ui.distributions import window_distributions
from shipyard.ui.pages._common import read, redirect
from shipyard.ui.pages.endpoints import predlog_of
from shipyard.ui.render import NavItem, navigation, render
from shipyard.ui.session import PosterDep, ViewerDep, platform_of

__all__ = ["router"]

router = APIRouter()
navigation(NavItem("Monitoring", "/monitoring", "monitoring"))

PAGE = 50
CHART_WINDOWS = 500  # the drift and performance charts show this many latest windows
EVENTS = 50
Page = Annotated[int, Query(ge=0, le=100_000)]
WindowId = Annotated[int | None, Query(ge=1, le=2**62)]


def _monitors(session: Session, endpoint: str | None, page: int) -> dict[str, Any]:
    query = select(Monitor).order_by(Monitor.endpoint, Monitor.name)
    if endpoint:
        query = query.where(Monitor.endpoint == endpoint)
    rows = list(session.scalars(query.offset(page * PAGE).limit(PAGE + 1)))
    ids = [row.id for row in rows[:PAGE]]
    latest_ids = (
        select(func.max(MonitorResult.id))
        .where(MonitorResult.monitor_id.in_(ids))
        .group_by(MonitorResult.monitor_id)
    )
    latest = {
        r.monitor_id: r
        for r in session.scalars(select(MonitorResult).where(MonitorResult.id.in_(latest_ids)))
    }
    firing = dict(
        session.execute(
            select(AlertRule.monitor_id, func.count())
            .where(AlertRule.monitor_id.in_(ids), AlertRule.state == "firing")
            .group_by(AlertRule.monitor_id)
        ).all()
    )
    return {"rows": rows[:PAGE], "has_next": len(rows) > PAGE, "latest": latest, "firing": firing}


@router.get("/monitoring", include_in_schema=False)
async def monitors_page(
    request: Request,
    viewer: ViewerDep,
    endpoint: Annotated[str | None, Query(max_length=64)] = None,
    page: Page = 0,
) -> Response:
    if endpoint:
        check_endpoint_name(endpoint)
    data = await read(request, lambda s: _monitors(s, endpoint, page))
    data.update(endpoint=endpoint or "", page=page)
    return render(request, viewer, "monitoring/index.html", data, section="monitoring", title="Monitoring")


def _monitor(session: Session, monitor_id: str, window: int | None, page: int) -> dict[str, Any]:
    monitor = get_monitor(session, monitor_id)
    results = list(
        session.scalars(
            select(MonitorResult)
            .where(MonitorResult.monitor_id == monitor.id)
            .order_by(MonitorResult.id.desc())
            .offset(page * PAGE)
            .limit(PAGE + 1)
        )
    )
    chosen = None
    if window is not None:
        chosen = session.get(MonitorResult, window)
        if chosen is None or chosen.monitor_id != monitor.id:
            raise NotFoundError(f"monitor {monitor.id} has no window {window}", field="window")
    elif page == 0:
        chosen = next((r for r in results if r.columns), results[0] if results else None)
    rules = list(
        session.scalars(select(AlertRule).where(AlertRule.monitor_id == monitor.id).order_by(AlertRule.id))
    )
    events = list(
        session.scalars(
            select(AlertEvent)
            .where(AlertEvent.monitor_id == monitor.id)
            .order_by(AlertEvent.id.desc())
            .limit(EVENTS)
        )
    )
    names = {rule.id: rule.name for rule in rules}
    metrics = sorted({key for r in results for key in (r.performance or {})})
    return {
        "monitor": monitor,
        "results": results[:PAGE],
        "has_next": len(results) > PAGE,
        "chosen": chosen,
        "rules": rules,
        "events": events,
        "rule_names": names,
        "performance_metrics": metrics,
    }


@router.get("/monitoring/{monitor_id}", include_in_schema=False)
async def monitor_page(
    request: Request, viewer: ViewerDep, monitor_id: str, window: WindowId = None, page: Page = 0
) -> Response:
    data = await read(request, lambda s: _monitor(s, monitor_id, window, page))
    data.update(page=page)
    title = f"{data['monitor'].endpoint} · {data['monitor'].name}"
    return render(request, viewer, "monitoring/monitor.html", data, section="monitoring", title=title)


def _windows_for_chart(session: Session, monitor_id: str) -> list[Any]:
    get_monitor(session, monitor_id)
    rows = session.execute(
        select(
            MonitorResult.window_end,
            MonitorResult.columns,
            MonitorResult.performance,
            MonitorResult.drift_share,
        )
        .where(MonitorResult.monitor_id == monitor_id)
        .order_by(MonitorResult.window_end.desc())
        .limit(CHART_WINDOWS)
    ).all()
    return list(reversed(rows))


def _short(value: Any) -> float | None:
    """Five significant digits: more than a chart can show, and half the JSON."""
    return float(f"{value:.5g}") if isinstance(value, int | float) and not isinstance(value, bool) else None


def drift_chart(rows: list[Any], drift_types: dict[str, str]) -> dict[str, Any]:
    """Each tested column's drift score per window (x: window end, seconds since the epoch)."""
    xs: dict[str, list[float]] = {}
    ys: dict[str, list[float | None]] = {}
    for row in rows:
        at = row.window_end.timestamp()
        for column in row.columns or []:
            name = column["column"]
            xs.setdefault(name, []).append(at)
            ys.setdefault(name, []).append(_short(column.get("score")))
    series = [
        {
            "label": f"{name} ({drift_types[name]})" if drift_types.get(name) else name,
            "x": xs[name],
            "y": ys[name],
        }
        for name in sorted(xs)
    ]
    note = "Score of each column's test per window (p-values: lower means drift; distances: higher)."
    return {"x_label": "window end", "x_time": True, "note": note, "series": series}


def performance_chart(rows: list[Any]) -> dict[str, Any]:
    """Delayed-label performance per window, one series per metric."""
    xs: dict[str, list[float]] = {}
    ys: dict[str, list[float | None]] = {}
    for row in rows:
        at = row.window_end.timestamp()
        for key, value in sorted((row.performance or {}).items()):
            if isinstance(value, int | float) and not isinstance(value, bool):
                xs.setdefault(key, []).append(at)
                ys.setdefault(key, []).append(_short(value))
    series = [{"label": key, "x": xs[key], "y": ys[key]} for key in sorted(xs)]
    return {"x_label": "window end", "x_time": True, "note": "", "series": series}


@router.get("/monitoring/{monitor_id}/chart", include_in_schema=False)
async def monitor_chart(
    request: Request,
    viewer: ViewerDep,
    monitor_id: str,
    kind: Annotated[str, Query(pattern="^(drift|performance)$")] = "drift",
) -> Response:
    def work(session: Session) -> dict[str, Any]:
        rows = _windows_for_chart(session, monitor_id)
        if kind == "performance":
            return performance_chart(rows)
        latest = session.scalar(
            select(MonitorResult.drift_types)
            .where(MonitorResult.monitor_id == monitor_id, MonitorResult.drift_type.is_not(None))
            .order_by(MonitorResult.window_end.desc())
            .limit(1)
        )
        return drift_chart(rows, latest or {})

    return JSONResponse(await read(request, work), headers={"Cache-Control": "no-store"})


@router.get("/monitoring/{monitor_id}/windows/{window}", include_in_schema=False)
async def window_distributions_part(
    request: Request, viewer: ViewerDep, monitor_id: str, window: int
) -> Response:
    """The chosen window's distributions against the reference (loaded by htmx after the page)."""

    def work(session: Session) -> tuple[Monitor, MonitorResult]:
        monitor = get_monitor(session, monitor_id)
        found = session.get(MonitorResult, window) if 0 < window < 2**62 else None
        if found is None or found.monitor_id != monitor.id:
            raise NotFoundError(f"monitor {monitor.id} has no window {window}", field="window")
        return monitor, found

    monitor, result = await read(request, work)
    plots = await run_in_threadpool(
        lambda: window_distributions(
            predlog_of(request),
            platform_of(request).artifacts,
            endpoint=monitor.endpoint,
            profile_digest=monitor.reference_profile_digest,
            model_version=monitor.model_version,
            window=result,
        )
    )
    data = {"monitor": monitor, "result": result, "plots": plots}
    return render(request, viewer, "monitoring/_distributions.html", data, section="monitoring")


@router.post("/monitoring/{monitor_id}/run", include_in_schema=False)
async def run_monitor(request: Request, viewer: PosterDep, monitor_id: str) -> Response:
    """Score the monitor's complete windows now, as its schedule would."""
    require_role(viewer.principal, Role.EDITOR)
    platform = platform_of(request)
    predlog = predlog_of(request)
    try:
        await run_in_threadpool(views.run_now, platform, predlog, viewer.principal, monitor_id)
    except ShipyardError as exc:
        data = await read(request, lambda s: _monitor(s, monitor_id, None, 0))
        data.update(page=0, run_error=exc.message)
        title = f"{data['monitor'].endpoint} · {data['monitor'].name}"
        return render(
            request,
            viewer,
            "monitoring/monitor.html",
            data,
            status_code=exc.status_code,
            section="monitoring",
            title=title,
        )
    return redirect(request, f"/monitoring/{monitor_id}", anchor="windows")
