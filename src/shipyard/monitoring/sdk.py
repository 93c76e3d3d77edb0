"""Monitoring methods of ``shipyard.Client``: monitors, runs, results, alert rules and events.

Embedded, the bodies are checked with the same pydantic schemas as the REST API (so both modes refuse
the same input with the same field named), and ``run_monitor`` reads the prediction log folder of the
local settings.
"""

from __future__ import annotations

import abc
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from shipyard.core.errors import InvalidParameterError
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
    import httpx

    from shipyard.core.auth import Principal
    from shipyard.core.platform import Platform

__all__ = ["EmbeddedMonitorMethods", "MonitorMethods", "RemoteMonitorMethods"]


class MonitorMethods(abc.ABC):
    @abc.abstractmethod
    def create_monitor(
        self,
        endpoint: str,
        name: str,
        reference_uri: str,
        *,
        window_kind: str = "time",
        window_size: int = 3600,
        **settings: Any,
    ) -> MonitorPublic:
        """Watch ``endpoint`` against the training set at ``reference_uri`` (``runs:/<run_id>/<path>``).

        ``settings``: description, model_version, features, stattest, stattests, threshold, thresholds,
        drift_share, schedule_seconds, label_delay_seconds, target_column, prediction_column, task,
        positive_class, enabled.
        """

    @abc.abstractmethod
    def list_monitors(self, *, endpoint: str | None = None) -> list[MonitorPublic]: ...

    @abc.abstractmethod
    def get_monitor(self, monitor_id: str) -> MonitorPublic: ...

    @abc.abstractmethod
    def update_monitor(self, monitor_id: str, **changes: Any) -> MonitorPublic:
        """Change settings; ``None`` clears an optional one."""

    @abc.abstractmethod
    def delete_monitor(self, monitor_id: str) -> None: ...

    @abc.abstractmethod
    def run_monitor(self, monitor_id: str, *, max_windows: int = 100) -> MonitorRunPublic:
        """Score the complete windows not scored yet and evaluate the alert rules."""

    @abc.abstractmethod
    def monitor_results(
        self,
        monitor_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> MonitorResultsPublic: ...

    @abc.abstractmethod
    def create_alert_rule(
        self, monitor_id: str, metric: str, comparison: str, threshold: float, **settings: Any
    ) -> AlertRulePublic:
        """Alert when ``metric comparison threshold``.

        ``settings``: name, consecutive, cooldown_seconds, enabled.
        """

    @abc.abstractmethod
    def list_alert_rules(self, monitor_id: str) -> list[AlertRulePublic]: ...

    @abc.abstractmethod
    def update_alert_rule(self, monitor_id: str, rule_id: int, **changes: Any) -> AlertRulePublic: ...

    @abc.abstractmethod
    def delete_alert_rule(self, monitor_id: str, rule_id: int) -> None: ...

    @abc.abstractmethod
    def alert_events(
        self, monitor_id: str, *, rule_id: int | None = None, limit: int = 100, before_id: int | None = None
    ) -> AlertEventsPublic: ...


def _checked(schema: type[BaseModel], values: dict[str, Any], *, unset: bool = False) -> dict[str, Any]:
    """Validate like the REST edge does, raising the error tree's ``InvalidParameterError``."""
    try:
        body = schema.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidParameterError(f"{field}: {first['msg']}", field=field) from None
    return body.model_dump(exclude_unset=True) if unset else body.model_dump(exclude_none=True)


def _check_page(limit: int, before_id: int | None) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise InvalidParameterError(f"limit must be in [1, 1000]; got {limit!r}", field="limit")
    if before_id is not None and not 1 <= before_id < 2**63:
        raise InvalidParameterError(f"before_id must be a positive id; got {before_id!r}", field="before_id")


class EmbeddedMonitorMethods(MonitorMethods):
    platform: Platform
    actor: Principal

    def create_monitor(
        self,
        endpoint: str,
        name: str,
        reference_uri: str,
        *,
        window_kind: str = "time",
        window_size: int = 3600,
        **settings: Any,
    ) -> MonitorPublic:
        from shipyard.monitoring import views

        values = {
            "endpoint": endpoint,
            "name": name,
            "reference_uri": reference_uri,
            "window_kind": window_kind,
            "window_size": window_size,
            **settings,
        }
        return views.create_monitor(self.platform, self.actor, _checked(MonitorCreate, values))

    def list_monitors(self, *, endpoint: str | None = None) -> list[MonitorPublic]:
        from shipyard.monitoring import views

        return views.list_monitors(self.platform, endpoint).monitors

    def get_monitor(self, monitor_id: str) -> MonitorPublic:
        from shipyard.monitoring import views

        return views.get_monitor(self.platform, monitor_id)

    def update_monitor(self, monitor_id: str, **changes: Any) -> MonitorPublic:
        from shipyard.monitoring import views

        return views.update_monitor(
            self.platform, self.actor, monitor_id, _checked(MonitorUpdate, changes, unset=True)
        )

    def delete_monitor(self, monitor_id: str) -> None:
        from shipyard.monitoring import views

        views.delete_monitor(self.platform, self.actor, monitor_id)

    def run_monitor(self, monitor_id: str, *, max_windows: int = 100) -> MonitorRunPublic:
        from shipyard.monitoring import views

        log = views.prediction_log_reader(self.platform)
        return views.run_now(self.platform, log, self.actor, monitor_id, max_windows=max_windows)

    def monitor_results(
        self,
        monitor_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> MonitorResultsPublic:
        from shipyard.monitoring import views

        _check_page(limit, before_id)
        return views.list_results(
            self.platform, monitor_id, since=since, until=until, limit=limit, before_id=before_id
        )

    def create_alert_rule(
        self, monitor_id: str, metric: str, comparison: str, threshold: float, **settings: Any
    ) -> AlertRulePublic:
        from shipyard.monitoring import views

        values = _checked(
            AlertRuleCreate, {"metric": metric, "comparison": comparison, "threshold": threshold, **settings}
        )
        return views.create_rule(self.platform, self.actor, monitor_id, values)

    def list_alert_rules(self, monitor_id: str) -> list[AlertRulePublic]:
        from shipyard.monitoring import views

        return views.list_rules(self.platform, monitor_id).rules

    def update_alert_rule(self, monitor_id: str, rule_id: int, **changes: Any) -> AlertRulePublic:
        from shipyard.monitoring import views

        return views.update_rule(
            self.platform, self.actor, monitor_id, rule_id, _checked(AlertRuleUpdate, changes)
        )

    def delete_alert_rule(self, monitor_id: str, rule_id: int) -> None:
        from shipyard.monitoring import views

        views.delete_rule(self.platform, self.actor, monitor_id, rule_id)

    def alert_events(
        self, monitor_id: str, *, rule_id: int | None = None, limit: int = 100, before_id: int | None = None
    ) -> AlertEventsPublic:
        from shipyard.monitoring import views

        _check_page(limit, before_id)
        return views.list_events(self.platform, monitor_id, rule_id=rule_id, limit=limit, before_id=before_id)


API = "/api/v1/monitors"


def _params(**values: Any) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items() if v is not None}


class RemoteMonitorMethods(MonitorMethods):
    if TYPE_CHECKING:  # provided by RemoteClient

        def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response: ...

    def create_monitor(
        self,
        endpoint: str,
        name: str,
        reference_uri: str,
        *,
        window_kind: str = "time",
        window_size: int = 3600,
        **settings: Any,
    ) -> MonitorPublic:
        body = {
            "endpoint": endpoint,
            "name": name,
            "reference_uri": reference_uri,
            "window_kind": window_kind,
            "window_size": window_size,
            **settings,
        }
        return MonitorPublic.model_validate(self._request("POST", API, json=body).json())

    def list_monitors(self, *, endpoint: str | None = None) -> list[MonitorPublic]:
        response = self._request("GET", API, params=_params(endpoint=endpoint))
        return MonitorsPublic.model_validate(response.json()).monitors

    def get_monitor(self, monitor_id: str) -> MonitorPublic:
        return MonitorPublic.model_validate(self._request("GET", f"{API}/{monitor_id}").json())

    def update_monitor(self, monitor_id: str, **changes: Any) -> MonitorPublic:
        return MonitorPublic.model_validate(
            self._request("PATCH", f"{API}/{monitor_id}", json=changes).json()
        )

    def delete_monitor(self, monitor_id: str) -> None:
        self._request("DELETE", f"{API}/{monitor_id}")

    def run_monitor(self, monitor_id: str, *, max_windows: int = 100) -> MonitorRunPublic:
        response = self._request("POST", f"{API}/{monitor_id}/run", params={"max_windows": max_windows})
        return MonitorRunPublic.model_validate(response.json())

    def monitor_results(
        self,
        monitor_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> MonitorResultsPublic:
        params = _params(since=since, until=until, limit=limit, before_id=before_id)
        response = self._request("GET", f"{API}/{monitor_id}/results", params=params)
        return MonitorResultsPublic.model_validate(response.json())

    def create_alert_rule(
        self, monitor_id: str, metric: str, comparison: str, threshold: float, **settings: Any
    ) -> AlertRulePublic:
        body = {"metric": metric, "comparison": comparison, "threshold": threshold, **settings}
        return AlertRulePublic.model_validate(
            self._request("POST", f"{API}/{monitor_id}/alerts/rules", json=body).json()
        )

    def list_alert_rules(self, monitor_id: str) -> list[AlertRulePublic]:
        response = self._request("GET", f"{API}/{monitor_id}/alerts/rules")
        return AlertRulesPublic.model_validate(response.json()).rules

    def update_alert_rule(self, monitor_id: str, rule_id: int, **changes: Any) -> AlertRulePublic:
        response = self._request("PATCH", f"{API}/{monitor_id}/alerts/rules/{rule_id}", json=changes)
        return AlertRulePublic.model_validate(response.json())

    def delete_alert_rule(self, monitor_id: str, rule_id: int) -> None:
        self._request("DELETE", f"{API}/{monitor_id}/alerts/rules/{rule_id}")

    def alert_events(
        self, monitor_id: str, *, rule_id: int | None = None, limit: int = 100, before_id: int | None = None
    ) -> AlertEventsPublic:
        params = _params(rule_id=rule_id, limit=limit, before_id=before_id)
        response = self._request("GET", f"{API}/{monitor_id}/alerts/events", params=params)
        return AlertEventsPublic.model_validate(response.json())
