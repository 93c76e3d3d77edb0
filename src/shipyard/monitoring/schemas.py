"""Request and response bodies of the monitors API (``/api/v1/monitors``) and the SDK."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shipyard.core.validation import CleanText

__all__ = [
    "AlertEventPublic",
    "AlertEventsPublic",
    "AlertRuleCreate",
    "AlertRulePublic",
    "AlertRuleUpdate",
    "AlertRulesPublic",
    "MonitorCreate",
    "MonitorPublic",
    "MonitorResultPublic",
    "MonitorResultsPublic",
    "MonitorRunPublic",
    "MonitorUpdate",
    "MonitorsPublic",
]

Column = Annotated[CleanText, StringConstraints(min_length=1, max_length=256)]
TestName = Annotated[CleanText, StringConstraints(min_length=1, max_length=32)]
Limit = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]


class _FromRow(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class MonitorSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: Annotated[CleanText, StringConstraints(max_length=4000)] | None = None
    model_version: Annotated[CleanText, StringConstraints(min_length=1, max_length=256)] | None = Field(
        None, description="Score only rows served by this model version (default: every version)."
    )
    features: list[Column] | None = Field(
        None,
        max_length=10_000,
        description="Columns to test (default: every logged input the reference holds).",
    )
    stattest: TestName | None = Field(None, description="Drift test for every column (Evidently's names).")
    stattests: dict[Column, TestName] | None = Field(None, description="Drift test per column.")
    threshold: Limit | None = Field(None, description="Threshold for every column.")
    thresholds: dict[Column, Limit] | None = Field(None, description="Threshold per column.")
    drift_share: float | None = Field(
        None, gt=0, le=1, description="Share of drifted columns for dataset drift."
    )
    schedule_seconds: int | None = Field(
        None, ge=1, le=366 * 86400, description="How often the monitor runs."
    )
    label_delay_seconds: int | None = Field(
        None, ge=0, le=366 * 86400, description="Score a window this long after it ends, once labels are in."
    )
    target_column: Column | None = Field(None, description="The reference's target (for prediction drift).")
    prediction_column: Column | None = Field(None, description="The reference's prediction column, if any.")
    task: Literal["classification", "regression"] | None = Field(
        None, description="Default: classification when the log has probabilities or integer predictions."
    )
    positive_class: Annotated[CleanText, StringConstraints(max_length=256)] | None = None
    enabled: bool | None = None


class MonitorCreate(MonitorSettings):
    endpoint: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    name: Annotated[CleanText, StringConstraints(min_length=1, max_length=200)]
    reference_uri: Annotated[CleanText, StringConstraints(min_length=1, max_length=1200)] = Field(
        description="runs:/<run_id>/<path> of a CSV or Parquet training set stored on this server"
    )
    window_kind: Literal["time", "count"] = "time"
    window_size: int = Field(3600, ge=1, le=366 * 86400 * 1000, description="Seconds (time) or rows (count).")


class MonitorUpdate(MonitorSettings):
    reference_uri: Annotated[CleanText, StringConstraints(min_length=1, max_length=1200)] | None = None
    window_kind: Literal["time", "count"] | None = None
    window_size: int | None = Field(None, ge=1, le=366 * 86400 * 1000)


class MonitorPublic(_FromRow):
    id: str
    endpoint: str
    name: str
    description: str
    model_version: str | None
    features: list[str] | None
    stattest: str | None
    stattests: dict[str, str]
    threshold: float | None
    thresholds: dict[str, float]
    drift_share: float
    window_kind: str
    window_size: int
    schedule_seconds: int
    label_delay_seconds: int
    reference_uri: str
    reference_profile_digest: str
    reference_columns: list[str]
    target_column: str | None
    prediction_column: str | None
    task: str | None
    positive_class: str | None
    enabled: bool
    cursor_at: datetime | None
    next_run_at: datetime
    last_run_at: datetime | None
    last_error: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime


class MonitorsPublic(BaseModel):
    monitors: list[MonitorPublic]


class MonitorResultPublic(_FromRow):
    id: int
    monitor_id: str
    window_start: datetime
    window_end: datetime
    rows: int
    model_versions: list[str]
    dataset_drift: bool | None
    drift_share: float | None
    drifted_columns: int | None
    columns: list[dict[str, Any]]
    skipped: list[dict[str, Any]]
    prediction_drift: dict[str, Any] | None
    drift_type: str | None
    drift_types: dict[str, str]
    task: str | None
    performance: dict[str, float]
    performance_by_version: dict[str, dict[str, float]] = Field(
        description="Per model version, when the window holds several (with rows and label coverage)."
    )
    labelled_rows: int
    label_coverage: float | None
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    throughput_rps: float | None
    error: str | None
    created_at: datetime


class MonitorResultsPublic(BaseModel):
    results: list[MonitorResultPublic]
    next_before_id: int | None = Field(None, description="Pass as before_id for the next (older) page.")


class MonitorRunPublic(BaseModel):
    monitor_id: str
    results: list[MonitorResultPublic]
    alert_events: list[AlertEventPublic]
    cursor_at: datetime | None


class AlertRuleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[CleanText, StringConstraints(min_length=1, max_length=200)] | None = None
    consecutive: int | None = Field(None, ge=1, le=10_000, description="Breaching windows in a row to fire.")
    cooldown_seconds: int | None = Field(
        None, ge=0, le=366 * 86400, description="Least time between firings."
    )
    enabled: bool | None = None


class AlertRuleCreate(AlertRuleSettings):
    metric: Annotated[CleanText, StringConstraints(min_length=1, max_length=400)] = Field(
        description="drift_share, dataset_drift, accuracy, f1, roc_auc, mae, rmse, r2, latency_p99_ms, "
        "throughput_rps, label_coverage, prediction_drift_score, column:<name>:score, ..."
    )
    comparison: Literal[">", ">=", "<", "<="]
    threshold: float = Field(allow_inf_nan=False)


class AlertRuleUpdate(AlertRuleSettings):
    metric: Annotated[CleanText, StringConstraints(min_length=1, max_length=400)] | None = None
    comparison: Literal[">", ">=", "<", "<="] | None = None
    threshold: float | None = Field(None, allow_inf_nan=False)


class AlertRulePublic(_FromRow):
    id: int
    monitor_id: str
    name: str
    metric: str
    comparison: str
    threshold: float
    consecutive: int
    cooldown_seconds: int
    enabled: bool
    state: str
    breaches: int
    last_value: float | None
    last_fired_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime


class AlertRulesPublic(BaseModel):
    rules: list[AlertRulePublic]


class AlertEventPublic(_FromRow):
    id: int
    rule_id: int
    monitor_id: str
    result_id: int | None
    from_state: str
    to_state: str
    metric: str
    value: float | None
    threshold: float
    message: str
    window_end: datetime | None
    occurred_at: datetime


class AlertEventsPublic(BaseModel):
    events: list[AlertEventPublic]
    next_before_id: int | None = None


MonitorRunPublic.model_rebuild()
