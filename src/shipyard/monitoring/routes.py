"""Monitors API: ``/api/v1/monitors`` (monitors, run now, results, alert rules and alert events)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from shipyard.core.deps import EditorDep, PlatformDep, ViewerDep
from shipyard.core.schemas import API_ERRORS
from shipyard.monitoring import views
from shipyard.monitoring.schemas import (
    AlertEventsPublic,
    AlertRuleCreate,
    AlertRulePublic,
    AlertRulesPublic,
    AlertRuleUpdate,
    MonitorCreate,
    MonitorPublic,
    MonitorResultsPublic,
    MonitorRunPublic,
    MonitorsPublic,
    MonitorUpdate,
)

if TYPE_CHECKING:
    from shipyard.core.platform import Platform
    from shipyard.serving.predlog import PredictionLog

__all__ = ["prediction_log_of", "router"]

router = APIRouter(prefix="/api/v1/monitors", tags=["monitoring"], responses=API_ERRORS)
MonitorId = Annotated[str, Path(max_length=64, description="monitor id")]
Limit = Annotated[int, Query(ge=1, le=1000)]
BeforeId = Annotated[int | None, Query(ge=1, le=2**63 - 1, description="page: only ids below this")]


def prediction_log_of(request: Request, platform: Platform) -> PredictionLog:
    """The server's own prediction log when this process serves, else a reader of its folder."""
    serving = getattr(request.app.state, "serving", None)
    log = getattr(serving, "predlog", None)
    return log if log is not None else views.prediction_log_reader(platform)


@router.get("", summary="Monitors, optionally of one endpoint")
def list_monitors(
    platform: PlatformDep, _: ViewerDep, endpoint: Annotated[str | None, Query(max_length=128)] = None
) -> MonitorsPublic:
    return views.list_monitors(platform, endpoint)


@router.post("", status_code=201, summary="Create a monitor (its reference profile is built and stored once)")
def create_monitor(body: MonitorCreate, platform: PlatformDep, actor: EditorDep) -> MonitorPublic:
    return views.create_monitor(platform, actor, body.model_dump(exclude_none=True))


@router.get("/{monitor_id}", summary="One monitor")
def get_monitor(monitor_id: MonitorId, platform: PlatformDep, _: ViewerDep) -> MonitorPublic:
    return views.get_monitor(platform, monitor_id)


@router.patch("/{monitor_id}", summary="Change a monitor (null clears an optional setting)")
def update_monitor(
    monitor_id: MonitorId, body: MonitorUpdate, platform: PlatformDep, actor: EditorDep
) -> MonitorPublic:
    return views.update_monitor(platform, actor, monitor_id, body.model_dump(exclude_unset=True))


@router.delete("/{monitor_id}", status_code=204, summary="Delete a monitor with its results and alerts")
def delete_monitor(monitor_id: MonitorId, platform: PlatformDep, actor: EditorDep) -> Response:
    views.delete_monitor(platform, actor, monitor_id)
    return Response(status_code=204)


@router.post("/{monitor_id}/run", summary="Score the monitor's complete windows now and evaluate its alerts")
def run_monitor(
    monitor_id: MonitorId,
    request: Request,
    platform: PlatformDep,
    actor: EditorDep,
    max_windows: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> MonitorRunPublic:
    log = prediction_log_of(request, platform)
    return views.run_now(platform, log, actor, monitor_id, max_windows=max_windows)


@router.get("/{monitor_id}/results", summary="Window results, newest first, in a time range")
def list_results(
    monitor_id: MonitorId,
    platform: PlatformDep,
    _: ViewerDep,
    since: Annotated[
        datetime | None, Query(description="windows ending at or after (with a time zone)")
    ] = None,
    until: Annotated[datetime | None, Query(description="windows ending before (with a time zone)")] = None,
    limit: Limit = 100,
    before_id: BeforeId = None,
) -> MonitorResultsPublic:
    return views.list_results(
        platform, monitor_id, since=since, until=until, limit=limit, before_id=before_id
    )


@router.get("/{monitor_id}/alerts/rules", summary="Alert rules of a monitor, with their states")
def list_rules(monitor_id: MonitorId, platform: PlatformDep, _: ViewerDep) -> AlertRulesPublic:
    return views.list_rules(platform, monitor_id)


@router.post("/{monitor_id}/alerts/rules", status_code=201, summary="Add an alert rule")
def create_rule(
    monitor_id: MonitorId, body: AlertRuleCreate, platform: PlatformDep, actor: EditorDep
) -> AlertRulePublic:
    return views.create_rule(platform, actor, monitor_id, body.model_dump(exclude_none=True))


@router.patch("/{monitor_id}/alerts/rules/{rule_id}", summary="Change an alert rule")
def update_rule(
    monitor_id: MonitorId, rule_id: int, body: AlertRuleUpdate, platform: PlatformDep, actor: EditorDep
) -> AlertRulePublic:
    return views.update_rule(platform, actor, monitor_id, rule_id, body.model_dump(exclude_none=True))


@router.delete("/{monitor_id}/alerts/rules/{rule_id}", status_code=204, summary="Delete an alert rule")
def delete_rule(monitor_id: MonitorId, rule_id: int, platform: PlatformDep, actor: EditorDep) -> Response:
    views.delete_rule(platform, actor, monitor_id, rule_id)
    return Response(status_code=204)


@router.get("/{monitor_id}/alerts/events", summary="Alert state changes, newest first")
def list_events(
    monitor_id: MonitorId,
    platform: PlatformDep,
    _: ViewerDep,
    rule_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Limit = 100,
    before_id: BeforeId = None,
) -> AlertEventsPublic:
    return views.list_events(platform, monitor_id, rule_id=rule_id, limit=limit, before_id=before_id)
