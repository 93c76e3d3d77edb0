"""Tracking tables: experiments, runs, params, metrics, tags, dataset inputs and logged models.

Times are int64 epoch milliseconds, as in MLflow's wire format, so nothing is converted on the hot
path. ``latest_metric`` keeps each run's last value per key (highest step, then timestamp) so that
searching and ordering runs by a metric is an index lookup, not a scan of the history.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.core.database import Base

__all__ = [
    "Dataset",
    "Experiment",
    "ExperimentTag",
    "LatestMetric",
    "LoggedModel",
    "LoggedModelParam",
    "LoggedModelTag",
    "Metric",
    "Param",
    "Run",
    "RunInput",
    "RunOutput",
    "RunTag",
]

JSONType = JSON().with_variant(JSONB(), "postgresql")
BigIntegerKey = BigInteger().with_variant(Integer(), "sqlite")


class Experiment(Base):
    __tablename__ = "experiment"
    __table_args__ = (Index("ix_experiment_lifecycle_stage", "lifecycle_stage"),)

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(500), unique=True)
    artifact_location: Mapped[str] = mapped_column(String(1000))
    lifecycle_stage: Mapped[str] = mapped_column(String(16), default="active")
    creation_time: Mapped[int] = mapped_column(BigInteger)
    last_update_time: Mapped[int] = mapped_column(BigInteger)


class ExperimentTag(Base):
    __tablename__ = "experiment_tag"

    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiment.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Run(Base):
    __tablename__ = "run"
    __table_args__ = (
        Index("ix_run_experiment_order", "experiment_id", "lifecycle_stage", "start_time"),
        Index("ix_run_name", "name"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiment.id"))
    name: Mapped[str] = mapped_column(String(250))
    user_id: Mapped[str] = mapped_column(String(256), default="")
    status: Mapped[str] = mapped_column(String(16), default="RUNNING")
    start_time: Mapped[int] = mapped_column(BigInteger)
    end_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    lifecycle_stage: Mapped[str] = mapped_column(String(16), default="active")
    artifact_uri: Mapped[str] = mapped_column(String(1000))
    deleted_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Param(Base):
    __tablename__ = "param"
    # SQLite only: PostgreSQL's btree cannot hold values this long, and its planner does well without.
    __table_args__ = (Index("ix_param_key_value", "key", "value").ddl_if(dialect="sqlite"),)

    run_id: Mapped[str] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RunTag(Base):
    __tablename__ = "run_tag"
    __table_args__ = (Index("ix_run_tag_key_value", "key", "value").ddl_if(dialect="sqlite"),)

    run_id: Mapped[str] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Metric(Base):
    """One point of a metric's history. NaN is flagged (SQLite would store it as NULL)."""

    __tablename__ = "metric"
    __table_args__ = (Index("ix_metric_history", "run_id", "key", "step", "timestamp"),)

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(250))
    value: Mapped[float] = mapped_column(Float(precision=53))
    is_nan: Mapped[bool] = mapped_column(Boolean, default=False)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    step: Mapped[int] = mapped_column(BigInteger, default=0)
    model_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    dataset_name: Mapped[str | None] = mapped_column(String(500), nullable=True)
    dataset_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)


class LatestMetric(Base):
    __tablename__ = "latest_metric"
    __table_args__ = (Index("ix_latest_metric_key_value", "key", "value"),)

    run_id: Mapped[str] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[float] = mapped_column(Float(precision=53))
    is_nan: Mapped[bool] = mapped_column(Boolean, default=False)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    step: Mapped[int] = mapped_column(BigInteger)


class Dataset(Base):
    __tablename__ = "dataset"
    __table_args__ = (UniqueConstraint("experiment_id", "name", "digest"),)

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiment.id"))
    name: Mapped[str] = mapped_column(String(500))
    digest: Mapped[str] = mapped_column(String(64))
    source_type: Mapped[str] = mapped_column(String(36))
    source: Mapped[str] = mapped_column(Text)
    schema: Mapped[str | None] = mapped_column(Text, nullable=True)
    profile: Mapped[str | None] = mapped_column(Text, nullable=True)


class RunInput(Base):
    __tablename__ = "run_input"

    run_id: Mapped[str] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"), primary_key=True)
    tags: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # The ``mlflow.data.context`` input tag (training, eval...), kept as a column for search.
    context: Mapped[str | None] = mapped_column(String(500), nullable=True)


class LoggedModel(Base):
    """An MLflow 3.x logged model (``m-<hex>``): a model's files, produced by a run."""

    __tablename__ = "logged_model"
    __table_args__ = (Index("ix_logged_model_experiment", "experiment_id", "creation_time"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiment.id"))
    name: Mapped[str] = mapped_column(String(500))
    model_type: Mapped[str | None] = mapped_column(String(500), nullable=True)
    source_run_id: Mapped[str | None] = mapped_column(ForeignKey("run.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(32), default="LOGGED_MODEL_PENDING")
    status_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    artifact_location: Mapped[str] = mapped_column(String(1000))
    creation_time: Mapped[int] = mapped_column(BigInteger)
    last_updated_time: Mapped[int] = mapped_column(BigInteger)
    lifecycle_stage: Mapped[str] = mapped_column(String(16), default="active")


class LoggedModelParam(Base):
    __tablename__ = "logged_model_param"

    model_id: Mapped[str] = mapped_column(ForeignKey("logged_model.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class LoggedModelTag(Base):
    __tablename__ = "logged_model_tag"

    model_id: Mapped[str] = mapped_column(ForeignKey("logged_model.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RunOutput(Base):
    __tablename__ = "run_output"

    run_id: Mapped[str] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("logged_model.id", ondelete="CASCADE"), primary_key=True)
    step: Mapped[int] = mapped_column(BigInteger, default=0)
