"""Tables of monitors on endpoints: the monitors, their window results, alert rules and alert events.

A monitor names its endpoint by name (no foreign key: endpoints belong to the serving stage, and a
monitor may outlive an endpoint that is deleted and re-created under the same name).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.core.database import Base, UTCDateTime, utcnow
from shipyard.core.tables import BigIntegerKey, JSONType

__all__ = ["AlertEvent", "AlertRule", "Monitor", "MonitorResult"]


class Monitor(Base):
    """What to watch on one endpoint, against which reference, over which windows, how often."""

    __tablename__ = "monitor"
    __table_args__ = (UniqueConstraint("endpoint", "name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Only rows served by this model version are scored (None: every version).
    model_version: Mapped[str | None] = mapped_column(String(256), nullable=True)
    features: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)  # None: all shared columns
    stattest: Mapped[str | None] = mapped_column(String(32), nullable=True)
    stattests: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    thresholds: Mapped[dict[str, float]] = mapped_column(JSONType, default=dict)
    drift_share: Mapped[float] = mapped_column(Float, default=0.5)
    window_kind: Mapped[str] = mapped_column(String(8))  # time | count
    window_size: Mapped[int] = mapped_column(Integer)  # seconds or rows
    schedule_seconds: Mapped[int] = mapped_column(Integer)
    # A window is scored this long after it ends, so that delayed labels (feedback) have arrived.
    label_delay_seconds: Mapped[int] = mapped_column(Integer, default=0)
    reference_uri: Mapped[str] = mapped_column(String(1200))
    reference_data_digest: Mapped[str] = mapped_column(String(64))  # the data file's blob
    reference_profile_digest: Mapped[str] = mapped_column(String(64))  # its profile, built once
    reference_columns: Mapped[list[str]] = mapped_column(JSONType, default=list)
    target_column: Mapped[str | None] = mapped_column(String(256), nullable=True)
    prediction_column: Mapped[str | None] = mapped_column(String(256), nullable=True)
    task: Mapped[str | None] = mapped_column(String(16), nullable=True)  # classification | regression
    positive_class: Mapped[str | None] = mapped_column(String(256), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # End of the last scored window: the next window starts here.
    cursor_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MonitorResult(Base):
    """One scored window: drift, drift type, delayed-label performance and system numbers."""

    __tablename__ = "monitor_result"
    __table_args__ = (Index("ix_monitor_result_window", "monitor_id", "window_end"),)

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    monitor_id: Mapped[str] = mapped_column(ForeignKey("monitor.id", ondelete="CASCADE"))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    rows: Mapped[int] = mapped_column(Integer)
    model_versions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    dataset_drift: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    drift_share: Mapped[float | None] = mapped_column(Float, nullable=True)
    drifted_columns: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # [{"column", "type", "stattest", "threshold", "score", "drifted"}, ...] and [{"column", "reason"}]
    columns: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    skipped: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    prediction_drift: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    drift_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    drift_types: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    task: Mapped[str | None] = mapped_column(String(16), nullable=True)
    performance: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    performance_by_version: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    labelled_rows: Mapped[int] = mapped_column(Integer, default=0)
    label_coverage: Mapped[float | None] = mapped_column(Float, nullable=True)
    latency_p50_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    latency_p99_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    throughput_rps: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)  # why drift could not be scored
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AlertRule(Base):
    """``metric comparison threshold`` for ``consecutive`` windows fires; ``cooldown`` spaces firings."""

    __tablename__ = "monitor_alert_rule"

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    monitor_id: Mapped[str] = mapped_column(ForeignKey("monitor.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    metric: Mapped[str] = mapped_column(String(400))
    comparison: Mapped[str] = mapped_column(String(4))
    threshold: Mapped[float] = mapped_column(Float)
    consecutive: Mapped[int] = mapped_column(Integer, default=1)
    cooldown_seconds: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(16), default="ok")  # ok | firing | resolved
    breaches: Mapped[int] = mapped_column(Integer, default=0)  # consecutive breaching windows so far
    last_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AlertEvent(Base):
    """One state change of a rule (ok or resolved → firing, firing → resolved), with its value."""

    __tablename__ = "monitor_alert_event"
    __table_args__ = (Index("ix_monitor_alert_event_monitor", "monitor_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("monitor_alert_rule.id", ondelete="CASCADE"), index=True)
    monitor_id: Mapped[str] = mapped_column(String(32))
    result_id: Mapped[int | None] = mapped_column(BigIntegerKey, nullable=True)
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    metric: Mapped[str] = mapped_column(String(400))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    threshold: Mapped[float] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text, default="")
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
