"""Tables of the use-case stage: portfolios, use cases (with history), votes, checklists, KPIs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.core.database import Base, UTCDateTime, utcnow
from shipyard.core.tables import BigIntegerKey, JSONType

__all__ = [
    "Kpi",
    "KpiValue",
    "Portfolio",
    "UseCase",
    "UseCaseCheck",
    "UseCaseScore",
    "UseCaseVersion",
]


class Portfolio(Base):
    """A set of use cases scored together, with its weights, thresholds and selection state."""

    __tablename__ = "uc_portfolio"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # {"value": {dimension: weight}, "ease": {dimension: weight}}
    weights: Mapped[dict[str, Any]] = mapped_column(JSONType)
    value_threshold: Mapped[float] = mapped_column(Float, default=2.5)
    ease_threshold: Mapped[float] = mapped_column(Float, default=2.5)
    disagreement_range: Mapped[float] = mapped_column(Float, default=3.0)
    ease_floor: Mapped[float] = mapped_column(Float, default=2.0)
    # A locked selection (clusters, use cases, explanation) frozen by a user; None while automatic.
    locked_selection: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UseCase(Base):
    """The canvas of one use case; ``version`` counts canvas changes (see ``UseCaseVersion``)."""

    __tablename__ = "uc_use_case"
    __table_args__ = (UniqueConstraint("portfolio_id", "key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    portfolio_id: Mapped[str] = mapped_column(ForeignKey("uc_portfolio.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The canvas: title, owner, status, what, why, who, how, challenges, evaluation, unit, product, roi.
    title: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(32), default="idea")
    business_unit: Mapped[str] = mapped_column(String(200), default="")
    product: Mapped[str] = mapped_column(String(200), default="")
    ai_capability: Mapped[str] = mapped_column(String(100), default="")
    canvas: Mapped[dict[str, Any]] = mapped_column(JSONType)
    roi: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    # "auto" (the proposal decides), "include" or "exclude" (a user's override).
    selection: Mapped[str] = mapped_column(String(16), default="auto")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200), default="")


class UseCaseVersion(Base):
    """A full snapshot of a use case's canvas after each change: its history."""

    __tablename__ = "uc_use_case_version"
    __table_args__ = (UniqueConstraint("use_case_id", "version"),)

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    use_case_id: Mapped[str] = mapped_column(ForeignKey("uc_use_case.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONType)
    changed_fields: Mapped[list[str]] = mapped_column(JSONType)
    changed_by: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UseCaseScore(Base):
    """One voter's 0-5 score of one dimension; a second vote by the same voter replaces the first."""

    __tablename__ = "uc_score"
    __table_args__ = (UniqueConstraint("use_case_id", "voter", "dimension"),)

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    use_case_id: Mapped[str] = mapped_column(ForeignKey("uc_use_case.id", ondelete="CASCADE"), index=True)
    voter: Mapped[str] = mapped_column(String(200))
    dimension: Mapped[str] = mapped_column(String(50))
    score: Mapped[float] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UseCaseCheck(Base):
    """A checklist item or red flag: regulation and ethics, cybersecurity, human aspect, stakeholders."""

    __tablename__ = "uc_check"

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    use_case_id: Mapped[str] = mapped_column(ForeignKey("uc_use_case.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    stakeholder: Mapped[str | None] = mapped_column(String(32), nullable=True)
    phase: Mapped[str | None] = mapped_column(String(16), nullable=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    red_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    signed_off_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    signoff_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Kpi(Base):
    """A key performance indicator of a use case, optionally bound to an endpoint's metric."""

    __tablename__ = "uc_kpi"
    __table_args__ = (UniqueConstraint("use_case_id", "name"),)

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    use_case_id: Mapped[str] = mapped_column(ForeignKey("uc_use_case.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(50), default="")
    target: Mapped[float | None] = mapped_column(Float, nullable=True)
    direction: Mapped[str] = mapped_column(String(16), default="increase")
    # A reference only, filled live once monitoring exists: endpoint name and metric name.
    endpoint: Mapped[str | None] = mapped_column(String(200), nullable=True)
    metric: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class KpiValue(Base):
    """A manually recorded observation of a KPI (until monitoring fills bound KPIs live)."""

    __tablename__ = "uc_kpi_value"

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("uc_kpi.id", ondelete="CASCADE"), index=True)
    value: Mapped[float] = mapped_column(Float)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
