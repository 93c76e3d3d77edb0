"""Registry tables: registered models, versions, tags, aliases, alias history and approval requests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.core.database import Base

__all__ = [
    "AliasEvent",
    "ApprovalRequest",
    "ModelVersion",
    "ModelVersionTag",
    "RegisteredModel",
    "RegisteredModelAlias",
    "RegisteredModelTag",
]

JSONType = JSON().with_variant(JSONB(), "postgresql")
BigIntegerKey = BigInteger().with_variant(Integer(), "sqlite")


class RegisteredModel(Base):
    __tablename__ = "registered_model"

    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    creation_time: Mapped[int] = mapped_column(BigInteger)
    last_updated_time: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[str] = mapped_column(String(256), default="")
    # The use case this model serves (scoping stage); promotion checks its red flags.
    use_case_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class RegisteredModelTag(Base):
    __tablename__ = "registered_model_tag"

    name: Mapped[str] = mapped_column(
        ForeignKey("registered_model.name", onupdate="CASCADE", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ModelVersion(Base):
    """A version: its source (a logged model or run folder of this server) and its lifecycle."""

    __tablename__ = "model_version"
    __table_args__ = (
        Index("ix_model_version_run", "run_id"),
        Index("ix_model_version_model", "model_id"),
    )

    name: Mapped[str] = mapped_column(
        ForeignKey("registered_model.name", onupdate="CASCADE", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    creation_time: Mapped[int] = mapped_column(BigInteger)
    last_updated_time: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[str] = mapped_column(String(256), default="")
    source: Mapped[str] = mapped_column(String(1000))
    storage_location: Mapped[str] = mapped_column(String(1000))
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    model_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    run_link: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    status: Mapped[str] = mapped_column(String(32), default="READY")
    status_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    current_stage: Mapped[str] = mapped_column(String(20), default="None")
    # draft -> published -> deprecated -> archived
    lifecycle: Mapped[str] = mapped_column(String(16), default="draft")


class ModelVersionTag(Base):
    __tablename__ = "model_version_tag"
    __table_args__ = (
        ForeignKeyConstraint(
            ["name", "version"],
            ["model_version.name", "model_version.version"],
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
    )

    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RegisteredModelAlias(Base):
    __tablename__ = "registered_model_alias"

    name: Mapped[str] = mapped_column(
        ForeignKey("registered_model.name", onupdate="CASCADE", ondelete="CASCADE"), primary_key=True
    )
    alias: Mapped[str] = mapped_column(String(255), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class AliasEvent(Base):
    """Every move of an alias: which version held it from when, who asked, who approved, why, metrics."""

    __tablename__ = "alias_event"
    __table_args__ = (Index("ix_alias_event_model", "name", "alias", "id"),)

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(256))
    alias: Mapped[str] = mapped_column(String(255))
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: alias removed
    previous_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    occurred_at: Mapped[int] = mapped_column(BigInteger)
    requested_by: Mapped[str] = mapped_column(String(200))
    approved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    approval_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class ApprovalRequest(Base):
    """A request to move a protected alias, decided by an approver."""

    __tablename__ = "approval_request"
    __table_args__ = (Index("ix_approval_request_state", "status", "name"),)

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(256))
    alias: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(
        String(16), default="pending"
    )  # pending, approved, rejected, cancelled
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
