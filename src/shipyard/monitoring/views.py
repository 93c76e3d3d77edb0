"""One function per monitors API operation, shared by the REST routes and the embedded SDK.

Each opens its own transaction and returns a public schema, so the HTTP layer only parses and calls.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.core import audit
from shipyard.core.auth import Principal
from shipyard.monitoring import alerts, monitors, runner
from shipyard.monitoring.schemas import (
    AlertEventPublic,
    AlertEventsPublic,
    AlertRulePublic,
    AlertRulesPublic,
    MonitorPublic,
    MonitorResultPublic,
    MonitorResultsPublic,
    MonitorRunPublic,
    MonitorsPublic,
)
from shipyard.monitoring.tables import AlertEvent, MonitorResult

if TYPE_CHECKING:
    from shipyard.core.platform import Platform
    from shipyard.serving.predlog import PredictionLog

__all__ = [
    "create_monitor",
    "create_rule",
    "delete_monitor",
    "delete_rule",
    "get_monitor",
    "list_events",
    "list_monitors",
    "list_results",
    "list_rules",
    "prediction_log_reader",
    "run_now",
    "update_monitor",
    "update_rule",
]


def prediction_log_reader(platform: Platform) -> PredictionLog:
    """A reader of the prediction log folder of ``platform``'s settings.

    It is never started: scans read sealed segments and write-ahead files from disk, which is safe
    while a serving process writes the same folder, so the CLI and the embedded SDK can score windows.
    """
    from shipyard.serving.predlog import PredictionLog

    return PredictionLog(Path(platform.settings.prediction_log_dir))


def create_monitor(platform: Platform, actor: Principal, values: dict[str, Any]) -> MonitorPublic:
    with platform.database.session(write=True) as session:
        row = monitors.create_monitor(session, actor=actor, store=platform.artifacts, **values)
        return MonitorPublic.model_validate(row)


def list_monitors(platform: Platform, endpoint: str | None = None) -> MonitorsPublic:
    with platform.database.session() as session:
        rows = monitors.list_monitors(session, endpoint=endpoint)
        return MonitorsPublic(monitors=[MonitorPublic.model_validate(r) for r in rows])


def get_monitor(platform: Platform, monitor_id: str) -> MonitorPublic:
    with platform.database.session() as session:
        return MonitorPublic.model_validate(monitors.get_monitor(session, monitor_id))


def update_monitor(
    platform: Platform, actor: Principal, monitor_id: str, changes: dict[str, Any]
) -> MonitorPublic:
    with platform.database.session(write=True) as session:
        row = monitors.update_monitor(
            session, actor=actor, store=platform.artifacts, monitor_id=monitor_id, changes=changes
        )
        return MonitorPublic.model_validate(row)


def delete_monitor(platform: Platform, actor: Principal, monitor_id: str) -> None:
    with platform.database.session(write=True) as session:
        monitors.delete_monitor(session, actor=actor, monitor_id=monitor_id)


def run_now(
    platform: Platform,
    predlog: PredictionLog,
    actor: Principal,
    monitor_id: str,
    *,
    now: datetime | None = None,
    max_windows: int = 100,
) -> MonitorRunPublic:
    """Score the monitor's complete windows now (as the scheduler would) and return what was stored."""
    from shipyard.core.auth import Role, require_role
    from shipyard.core.errors import InvalidParameterError

    require_role(actor, Role.EDITOR)
    if isinstance(max_windows, bool) or not isinstance(max_windows, int) or not 1 <= max_windows <= 1000:
        raise InvalidParameterError(
            f"max_windows must be in [1, 1000]; got {max_windows!r}", field="max_windows"
        )
    outcome = runner.run_monitor(platform, predlog, monitor_id, actor=actor, now=now, max_windows=max_windows)
    with platform.database.session(write=True) as session:
        # A run asked for by hand is audited (scheduled runs are not: they are the system's routine).
        audit.record(
            session,
            actor=actor,
            action="monitor.run",
            object_type="monitor",
            object_id=monitor_id,
            after={"windows": len(outcome.result_ids), "alert_events": len(outcome.event_ids)},
        )
        results = [
            MonitorResultPublic.model_validate(session.get(MonitorResult, i)) for i in outcome.result_ids
        ]
        events = [AlertEventPublic.model_validate(session.get(AlertEvent, i)) for i in outcome.event_ids]
    return MonitorRunPublic(
        monitor_id=monitor_id, results=results, alert_events=events, cursor_at=outcome.cursor_at
    )


def list_results(
    platform: Platform,
    monitor_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> MonitorResultsPublic:
    with platform.database.session() as session:
        rows = runner.list_results(
            session, monitor_id, since=since, until=until, limit=limit, before_id=before_id
        )
        return MonitorResultsPublic(
            results=[MonitorResultPublic.model_validate(r) for r in rows],
            next_before_id=rows[-1].id if len(rows) == limit else None,
        )


def create_rule(
    platform: Platform, actor: Principal, monitor_id: str, values: dict[str, Any]
) -> AlertRulePublic:
    with platform.database.session(write=True) as session:
        return AlertRulePublic.model_validate(
            alerts.create_rule(session, actor=actor, monitor_id=monitor_id, **values)
        )


def list_rules(platform: Platform, monitor_id: str) -> AlertRulesPublic:
    with platform.database.session() as session:
        return AlertRulesPublic(
            rules=[AlertRulePublic.model_validate(r) for r in alerts.list_rules(session, monitor_id)]
        )


def update_rule(
    platform: Platform, actor: Principal, monitor_id: str, rule_id: int, changes: dict[str, Any]
) -> AlertRulePublic:
    with platform.database.session(write=True) as session:
        row = alerts.update_rule(
            session, actor=actor, monitor_id=monitor_id, rule_id=rule_id, changes=changes
        )
        return AlertRulePublic.model_validate(row)


def delete_rule(platform: Platform, actor: Principal, monitor_id: str, rule_id: int) -> None:
    with platform.database.session(write=True) as session:
        alerts.delete_rule(session, actor=actor, monitor_id=monitor_id, rule_id=rule_id)


def list_events(
    platform: Platform,
    monitor_id: str,
    *,
    rule_id: int | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> AlertEventsPublic:
    with platform.database.session() as session:
        rows = alerts.list_events(session, monitor_id, rule_id=rule_id, limit=limit, before_id=before_id)
        return AlertEventsPublic(
            events=[AlertEventPublic.model_validate(r) for r in rows],
            next_before_id=rows[-1].id if len(rows) == limit else None,
        )
