"""Monitors on endpoints: monitors, window results, alert rules and alert events.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BIGINT_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "monitor",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("endpoint", sa.String(128), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("model_version", sa.String(256), nullable=True),
        sa.Column("features", JSON, nullable=True),
        sa.Column("stattest", sa.String(32), nullable=True),
        sa.Column("stattests", JSON, nullable=False),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("thresholds", JSON, nullable=False),
        sa.Column("drift_share", sa.Float(), nullable=False),
        sa.Column("window_kind", sa.String(8), nullable=False),
        sa.Column("window_size", sa.Integer(), nullable=False),
        sa.Column("schedule_seconds", sa.Integer(), nullable=False),
        sa.Column("label_delay_seconds", sa.Integer(), nullable=False),
        sa.Column("reference_uri", sa.String(1200), nullable=False),
        sa.Column("reference_data_digest", sa.String(64), nullable=False),
        sa.Column("reference_profile_digest", sa.String(64), nullable=False),
        sa.Column("reference_columns", JSON, nullable=False),
        sa.Column("target_column", sa.String(256), nullable=True),
        sa.Column("prediction_column", sa.String(256), nullable=True),
        sa.Column("task", sa.String(16), nullable=True),
        sa.Column("positive_class", sa.String(256), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("cursor_at", TIMESTAMP, nullable=True),
        sa.Column("next_run_at", TIMESTAMP, nullable=False),
        sa.Column("last_run_at", TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor")),
        sa.UniqueConstraint("endpoint", "name", name=op.f("uq_monitor_endpoint_name")),
    )
    op.create_index("ix_monitor_endpoint", "monitor", ["endpoint"])
    op.create_index("ix_monitor_next_run_at", "monitor", ["next_run_at"])
    op.create_table(
        "monitor_result",
        sa.Column("id", BIGINT_KEY, autoincrement=True, nullable=False),
        sa.Column("monitor_id", sa.String(32), nullable=False),
        sa.Column("window_start", TIMESTAMP, nullable=False),
        sa.Column("window_end", TIMESTAMP, nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("model_versions", JSON, nullable=False),
        sa.Column("dataset_drift", sa.Boolean(), nullable=True),
        sa.Column("drift_share", sa.Float(), nullable=True),
        sa.Column("drifted_columns", sa.Integer(), nullable=True),
        sa.Column("columns", JSON, nullable=False),
        sa.Column("skipped", JSON, nullable=False),
        sa.Column("prediction_drift", JSON, nullable=True),
        sa.Column("drift_type", sa.String(16), nullable=True),
        sa.Column("drift_types", JSON, nullable=False),
        sa.Column("task", sa.String(16), nullable=True),
        sa.Column("performance", JSON, nullable=False),
        sa.Column("performance_by_version", JSON, nullable=False),
        sa.Column("labelled_rows", sa.Integer(), nullable=False),
        sa.Column("label_coverage", sa.Float(), nullable=True),
        sa.Column("latency_p50_ms", sa.Float(), nullable=True),
        sa.Column("latency_p99_ms", sa.Float(), nullable=True),
        sa.Column("throughput_rps", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["monitor_id"],
            ["monitor.id"],
            name=op.f("fk_monitor_result_monitor_id_monitor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_result")),
    )
    op.create_index("ix_monitor_result_window", "monitor_result", ["monitor_id", "window_end"])
    op.create_table(
        "monitor_alert_rule",
        sa.Column("id", BIGINT_KEY, autoincrement=True, nullable=False),
        sa.Column("monitor_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("metric", sa.String(400), nullable=False),
        sa.Column("comparison", sa.String(4), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("consecutive", sa.Integer(), nullable=False),
        sa.Column("cooldown_seconds", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("breaches", sa.Integer(), nullable=False),
        sa.Column("last_value", sa.Float(), nullable=True),
        sa.Column("last_fired_at", TIMESTAMP, nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["monitor_id"],
            ["monitor.id"],
            name=op.f("fk_monitor_alert_rule_monitor_id_monitor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_alert_rule")),
    )
    op.create_index("ix_monitor_alert_rule_monitor_id", "monitor_alert_rule", ["monitor_id"])
    op.create_table(
        "monitor_alert_event",
        sa.Column("id", BIGINT_KEY, autoincrement=True, nullable=False),
        sa.Column("rule_id", BIGINT_KEY, nullable=False),
        sa.Column("monitor_id", sa.String(32), nullable=False),
        sa.Column("result_id", BIGINT_KEY, nullable=True),
        sa.Column("from_state", sa.String(16), nullable=False),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("metric", sa.String(400), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("window_end", TIMESTAMP, nullable=True),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["monitor_alert_rule.id"],
            name=op.f("fk_monitor_alert_event_rule_id_monitor_alert_rule"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_alert_event")),
    )
    op.create_index("ix_monitor_alert_event_monitor", "monitor_alert_event", ["monitor_id", "id"])
    op.create_index("ix_monitor_alert_event_rule_id", "monitor_alert_event", ["rule_id"])


def downgrade() -> None:
    op.drop_table("monitor_alert_event")
    op.drop_table("monitor_alert_rule")
    op.drop_table("monitor_result")
    op.drop_table("monitor")
