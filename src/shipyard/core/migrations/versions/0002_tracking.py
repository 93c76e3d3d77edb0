"""Tracking tables: experiments, runs, params, metrics, tags, datasets, logged models.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BIGINT_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "experiment",
        sa.Column("id", BIGINT_KEY, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("artifact_location", sa.String(length=1000), nullable=False),
        sa.Column("lifecycle_stage", sa.String(length=16), nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.Column("last_update_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment")),
        sa.UniqueConstraint("name", name=op.f("uq_experiment_name")),
    )
    op.create_index("ix_experiment_lifecycle_stage", "experiment", ["lifecycle_stage"])

    op.create_table(
        "dataset",
        sa.Column("id", BIGINT_KEY, autoincrement=True, nullable=False),
        sa.Column("experiment_id", BIGINT_KEY, nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("source_type", sa.String(length=36), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("schema", sa.Text(), nullable=True),
        sa.Column("profile", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiment.id"], name=op.f("fk_dataset_experiment_id_experiment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset")),
        sa.UniqueConstraint(
            "experiment_id", "name", "digest", name=op.f("uq_dataset_experiment_id_name_digest")
        ),
    )
    op.create_table(
        "experiment_tag",
        sa.Column("experiment_id", BIGINT_KEY, nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiment.id"],
            name=op.f("fk_experiment_tag_experiment_id_experiment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("experiment_id", "key", name=op.f("pk_experiment_tag")),
    )
    op.create_table(
        "run",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("experiment_id", BIGINT_KEY, nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("user_id", sa.String(length=256), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("start_time", sa.BigInteger(), nullable=False),
        sa.Column("end_time", sa.BigInteger(), nullable=True),
        sa.Column("lifecycle_stage", sa.String(length=16), nullable=False),
        sa.Column("artifact_uri", sa.String(length=1000), nullable=False),
        sa.Column("deleted_time", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiment.id"], name=op.f("fk_run_experiment_id_experiment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run")),
    )
    op.create_index("ix_run_experiment_order", "run", ["experiment_id", "lifecycle_stage", "start_time"])
    op.create_index("ix_run_name", "run", ["name"])

    op.create_table(
        "latest_metric",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=False),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_latest_metric_run_id_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "key", name=op.f("pk_latest_metric")),
    )
    op.create_index("ix_latest_metric_key_value", "latest_metric", ["key", "value"])

    op.create_table(
        "logged_model",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("experiment_id", BIGINT_KEY, nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("model_type", sa.String(length=500), nullable=True),
        sa.Column("source_run_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=True),
        sa.Column("artifact_location", sa.String(length=1000), nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_time", sa.BigInteger(), nullable=False),
        sa.Column("lifecycle_stage", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiment.id"], name=op.f("fk_logged_model_experiment_id_experiment")
        ),
        sa.ForeignKeyConstraint(
            ["source_run_id"], ["run.id"], name=op.f("fk_logged_model_source_run_id_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logged_model")),
    )
    op.create_index("ix_logged_model_experiment", "logged_model", ["experiment_id", "creation_time"])

    op.create_table(
        "metric",
        sa.Column("id", BIGINT_KEY, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=False),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=True),
        sa.Column("dataset_name", sa.String(length=500), nullable=True),
        sa.Column("dataset_digest", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_metric_run_id_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric")),
    )
    op.create_index("ix_metric_history", "metric", ["run_id", "key", "step", "timestamp"])

    op.create_table(
        "param",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"], name=op.f("fk_param_run_id_run"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "key", name=op.f("pk_param")),
    )
    op.create_table(
        "run_input",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("dataset_id", BIGINT_KEY, nullable=False),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("context", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"], name=op.f("fk_run_input_dataset_id_dataset")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_run_input_run_id_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "dataset_id", name=op.f("pk_run_input")),
    )
    op.create_table(
        "run_tag",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_run_tag_run_id_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "key", name=op.f("pk_run_tag")),
    )
    op.create_table(
        "logged_model_param",
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["logged_model.id"],
            name=op.f("fk_logged_model_param_model_id_logged_model"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_id", "key", name=op.f("pk_logged_model_param")),
    )
    op.create_table(
        "logged_model_tag",
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["logged_model.id"],
            name=op.f("fk_logged_model_tag_model_id_logged_model"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_id", "key", name=op.f("pk_logged_model_tag")),
    )
    op.create_table(
        "run_output",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["logged_model.id"],
            name=op.f("fk_run_output_model_id_logged_model"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_run_output_run_id_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "model_id", name=op.f("pk_run_output")),
    )
    if op.get_bind().dialect.name == "sqlite":
        # Value lookups for search; PostgreSQL's btree cannot hold 6,000-character values.
        op.create_index("ix_param_key_value", "param", ["key", "value"])
        op.create_index("ix_run_tag_key_value", "run_tag", ["key", "value"])
    # MLflow clients expect the Default experiment "0" to exist.
    op.execute(
        sa.text(
            "INSERT INTO experiment (id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) "
            "VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active', :now, :now)"
        ).bindparams(now=int(time.time() * 1000))
    )
    if op.get_bind().dialect.name == "postgresql":
        # The explicit id 0 did not advance the identity sequence; new experiments start at 1.
        op.execute("SELECT setval(pg_get_serial_sequence('experiment', 'id'), 1, false)")


def downgrade() -> None:
    op.drop_table("run_output")
    op.drop_table("logged_model_tag")
    op.drop_table("logged_model_param")
    op.drop_table("run_tag")
    op.drop_table("run_input")
    op.drop_table("param")
    op.drop_table("metric")
    op.drop_table("logged_model")
    op.drop_table("latest_metric")
    op.drop_table("run")
    op.drop_table("experiment_tag")
    op.drop_table("dataset")
    op.drop_table("experiment")
