"""Alert rules on monitor results: thresholds held for consecutive windows, a cooldown, three states.

A rule reads one number from each new result (``metric_value``) and compares it with its threshold.

* ``ok`` or ``resolved`` → ``firing`` when the comparison has held for ``consecutive`` windows in a row
  and at least ``cooldown_seconds`` have passed since the rule last fired;
* ``firing`` → ``resolved`` at the first window where it no longer holds.

Time is the windows' time (their ends), not the clock, so catching up on a backlog of windows behaves
as if they had been scored live. A window without the metric (no labels yet, drift not scored) neither
counts as a breach nor resolves. Every transition is stored as an ``AlertEvent``, audited, and sent to
webhooks subscribed to ``monitor.alert`` (signed with HMAC-SHA256, retried with backoff).
"""

from __future__ import annotations

import logging
import math
import operator
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipyard.core import audit, webhooks
from shipyard.core.auth import Principal, Role, require_role
from shipyard.core.database import utcnow
from shipyard.core.errors import InvalidParameterError, NotFoundError
from shipyard.core.validation import check_text
from shipyard.monitoring.tables import AlertEvent, AlertRule, Monitor, MonitorResult

__all__ = [
    "COMPARISONS",
    "METRICS",
    "check_metric",
    "create_rule",
    "delete_rule",
    "evaluate_rules",
    "get_rule",
    "list_events",
    "list_rules",
    "metric_value",
    "update_rule",
]

logger = logging.getLogger(__name__)

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
PERFORMANCE = (
    "accuracy",
    "precision",
    "recall",
    "sensitivity",
    "specificity",
    "f1",
    "roc_auc",
    "mae",
    "rmse",
    "r2",
)
RESULT_FIELDS = (
    "drift_share",
    "drifted_columns",
    "label_coverage",
    "labelled_rows",
    "latency_p50_ms",
    "latency_p99_ms",
    "throughput_rps",
    "rows",
)
METRICS = (*RESULT_FIELDS, "dataset_drift", "prediction_drift_score", "prediction_drift", *PERFORMANCE)
COLUMN_ATTRIBUTES = ("score", "drifted")


def check_metric(metric: str) -> str:
    """Accept a known metric name or ``column:<name>:score|drifted``.

    >>> check_metric("column:age:score"), check_metric("f1")
    ('column:age:score', 'f1')
    """
    check_text(metric, field="metric", max_length=400, allow_empty=False)
    if metric in METRICS:
        return metric
    kind, _, rest = metric.partition(":")
    column, _, attribute = rest.rpartition(":")
    if kind == "column" and column and attribute in COLUMN_ATTRIBUTES:
        return metric
    raise InvalidParameterError(
        f"metric must be one of {', '.join(METRICS)} or column:<name>:score|drifted; got {metric!r}",
        field="metric",
    )


def metric_value(result: MonitorResult, metric: str) -> float | None:
    """The number a rule compares, or None when the window does not have it."""
    value: Any
    if metric in RESULT_FIELDS:
        value = getattr(result, metric)
    elif metric == "dataset_drift":
        value = None if result.dataset_drift is None else float(result.dataset_drift)
    elif metric in ("prediction_drift_score", "prediction_drift"):
        found = result.prediction_drift
        key = "score" if metric == "prediction_drift_score" else "drifted"
        value = None if not found else float(found[key])
    elif metric in PERFORMANCE:
        value = (result.performance or {}).get(metric)
    else:
        _, _, rest = metric.partition(":")
        column, _, attribute = rest.rpartition(":")
        found = next((c for c in result.columns or [] if c.get("column") == column), None)
        value = None if found is None else float(found[attribute])
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _rule_summary(rule: AlertRule) -> dict[str, Any]:
    return {
        "monitor_id": rule.monitor_id,
        "name": rule.name,
        "metric": rule.metric,
        "comparison": rule.comparison,
        "threshold": rule.threshold,
        "consecutive": rule.consecutive,
        "cooldown_seconds": rule.cooldown_seconds,
        "enabled": rule.enabled,
    }


def _check_rule(values: dict[str, Any]) -> None:
    check_text(values["name"], field="name", max_length=200, allow_empty=False)
    check_metric(values["metric"])
    if values["comparison"] not in COMPARISONS:
        raise InvalidParameterError(
            f"comparison must be one of {', '.join(COMPARISONS)}; got {values['comparison']!r}",
            field="comparison",
        )
    threshold = values["threshold"]
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not math.isfinite(threshold):
        raise InvalidParameterError(
            f"threshold must be a finite number; got {threshold!r}", field="threshold"
        )
    for name, high in (("consecutive", 10_000), ("cooldown_seconds", 366 * 24 * 3600)):
        value = values[name]
        low = 1 if name == "consecutive" else 0
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidParameterError(
                f"{name} must be an integer in [{low}, {high}]; got {value!r}", field=name
            )
    if not isinstance(values["enabled"], bool):
        raise InvalidParameterError("enabled must be true or false", field="enabled")


def create_rule(
    session: Session,
    *,
    actor: Principal,
    monitor_id: str,
    metric: str,
    comparison: str,
    threshold: float,
    name: str | None = None,
    consecutive: int = 1,
    cooldown_seconds: int = 0,
    enabled: bool = True,
) -> AlertRule:
    """Add an alert rule to a monitor, in state ``ok``."""
    require_role(actor, Role.EDITOR)
    from shipyard.monitoring.monitors import get_monitor

    get_monitor(session, monitor_id)
    values = {
        "name": name or f"{metric} {comparison} {threshold:g}",
        "metric": metric,
        "comparison": comparison,
        "threshold": threshold,
        "consecutive": consecutive,
        "cooldown_seconds": cooldown_seconds,
        "enabled": enabled,
    }
    _check_rule(values)
    values["threshold"] = float(threshold)
    now = utcnow()
    rule = AlertRule(
        monitor_id=monitor_id,
        state="ok",
        breaches=0,
        created_by=actor.name,
        created_at=now,
        updated_at=now,
        **values,
    )
    session.add(rule)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="monitor.alert_rule.create",
        object_type="monitor_alert_rule",
        object_id=str(rule.id),
        after=_rule_summary(rule),
    )
    return rule


def get_rule(session: Session, monitor_id: str, rule_id: int) -> AlertRule:
    rule = session.get(AlertRule, rule_id) if isinstance(rule_id, int) and 0 < rule_id < 2**63 else None
    if rule is None or rule.monitor_id != monitor_id:
        raise NotFoundError(f"monitor {monitor_id!r} has no alert rule {rule_id!r}", field="rule_id")
    return rule


def list_rules(session: Session, monitor_id: str) -> list[AlertRule]:
    from shipyard.monitoring.monitors import get_monitor

    get_monitor(session, monitor_id)
    return list(
        session.scalars(select(AlertRule).where(AlertRule.monitor_id == monitor_id).order_by(AlertRule.id))
    )


def update_rule(
    session: Session, *, actor: Principal, monitor_id: str, rule_id: int, changes: dict[str, Any]
) -> AlertRule:
    """Change a rule; a new metric, comparison or threshold starts its breach count again."""
    require_role(actor, Role.EDITOR)
    rule = get_rule(session, monitor_id, rule_id)
    before = _rule_summary(rule)
    fields = ("name", "metric", "comparison", "threshold", "consecutive", "cooldown_seconds", "enabled")
    unknown = sorted(set(changes) - set(fields))
    if unknown:
        raise InvalidParameterError(f"unknown alert rule settings: {', '.join(unknown)}", field=unknown[0])
    values = {name: getattr(rule, name) for name in fields}
    values.update({k: v for k, v in changes.items() if v is not None})
    _check_rule(values)
    if any(values[k] != getattr(rule, k) for k in ("metric", "comparison", "threshold")):
        rule.breaches = 0
    for name, value in values.items():
        setattr(rule, name, float(value) if name == "threshold" else value)
    rule.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="monitor.alert_rule.update",
        object_type="monitor_alert_rule",
        object_id=str(rule.id),
        before=before,
        after=_rule_summary(rule),
    )
    return rule


def delete_rule(session: Session, *, actor: Principal, monitor_id: str, rule_id: int) -> None:
    require_role(actor, Role.EDITOR)
    rule = get_rule(session, monitor_id, rule_id)
    before = _rule_summary(rule)
    from sqlalchemy import delete

    session.execute(delete(AlertEvent).where(AlertEvent.rule_id == rule.id))
    session.delete(rule)
    audit.record(
        session,
        actor=actor,
        action="monitor.alert_rule.delete",
        object_type="monitor_alert_rule",
        object_id=str(rule_id),
        before=before,
    )


def list_events(
    session: Session,
    monitor_id: str,
    *,
    rule_id: int | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AlertEvent]:
    """Alert transitions of a monitor, newest first (``before_id`` pages back)."""
    from shipyard.monitoring.monitors import get_monitor

    get_monitor(session, monitor_id)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise InvalidParameterError(f"limit must be in [1, 1000]; got {limit!r}", field="limit")
    query = select(AlertEvent).where(AlertEvent.monitor_id == monitor_id)
    if rule_id is not None:
        query = query.where(AlertEvent.rule_id == rule_id)
    if before_id is not None:
        query = query.where(AlertEvent.id < before_id)
    return list(session.scalars(query.order_by(AlertEvent.id.desc()).limit(limit)))


def _cooled(rule: AlertRule, at: datetime) -> bool:
    return rule.last_fired_at is None or at - rule.last_fired_at >= timedelta(seconds=rule.cooldown_seconds)


def _transition(
    session: Session,
    *,
    actor: Principal,
    monitor: Monitor,
    rule: AlertRule,
    result: MonitorResult,
    to_state: str,
    value: float | None,
) -> AlertEvent:
    from_state = rule.state
    verb = "breaches" if to_state == "firing" else "is back within"
    message = (
        f"{monitor.endpoint}/{monitor.name}: {rule.metric} = {value:.6g} {verb} "
        f"{rule.comparison} {rule.threshold:g}"
        + (f" for {rule.consecutive} windows" if to_state == "firing" and rule.consecutive > 1 else "")
    )
    event = AlertEvent(
        rule_id=rule.id,
        monitor_id=monitor.id,
        result_id=result.id,
        from_state=from_state,
        to_state=to_state,
        metric=rule.metric,
        value=value,
        threshold=rule.threshold,
        message=message,
        window_end=result.window_end,
        occurred_at=utcnow(),
    )
    session.add(event)
    rule.state = to_state
    if to_state == "firing":
        rule.last_fired_at = result.window_end
    session.flush()
    payload = {
        "monitor_id": monitor.id,
        "monitor": monitor.name,
        "endpoint": monitor.endpoint,
        "rule_id": rule.id,
        "rule": rule.name,
        "metric": rule.metric,
        "comparison": rule.comparison,
        "threshold": rule.threshold,
        "value": value,
        "state": to_state,
        "previous_state": from_state,
        "window_start": result.window_start.isoformat(),
        "window_end": result.window_end.isoformat(),
        "result_id": result.id,
        "event_id": event.id,
        "message": message,
    }
    audit.record(
        session,
        actor=actor,
        action=f"monitor.alert.{to_state}",
        object_type="monitor_alert_rule",
        object_id=str(rule.id),
        before={"state": from_state},
        after={"state": to_state, "value": value, "window_end": result.window_end},
    )
    webhooks.emit(session, "monitor.alert", payload)
    logger.info("alert %s: %s", to_state, message)
    return event


def evaluate_rules(
    session: Session, *, actor: Principal, monitor: Monitor, result: MonitorResult
) -> list[AlertEvent]:
    """Advance every enabled rule of ``monitor`` by one window result; returns the transitions."""
    events: list[AlertEvent] = []
    rules = session.scalars(
        select(AlertRule)
        .where(AlertRule.monitor_id == monitor.id, AlertRule.enabled.is_(True))
        .order_by(AlertRule.id)
    )
    for rule in rules:
        value = metric_value(result, rule.metric)
        if value is None:
            continue
        rule.last_value = value
        breached = COMPARISONS[rule.comparison](value, rule.threshold)
        if breached:
            rule.breaches += 1
            if (
                rule.state != "firing"
                and rule.breaches >= rule.consecutive
                and _cooled(rule, result.window_end)
            ):
                events.append(
                    _transition(
                        session,
                        actor=actor,
                        monitor=monitor,
                        rule=rule,
                        result=result,
                        to_state="firing",
                        value=value,
                    )
                )
        else:
            rule.breaches = 0
            if rule.state == "firing":
                events.append(
                    _transition(
                        session,
                        actor=actor,
                        monitor=monitor,
                        rule=rule,
                        result=result,
                        to_state="resolved",
                        value=value,
                    )
                )
    return events
