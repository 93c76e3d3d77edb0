"""Serving tables: the endpoints the control plane hosts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.core.database import Base, UTCDateTime, utcnow

__all__ = ["ServingEndpoint"]

JSONType = JSON().with_variant(JSONB(), "postgresql")


class ServingEndpoint(Base):
    """An endpoint: a name on the data plane that serves whatever version its model URI names."""

    __tablename__ = "serving_endpoint"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_uri: Mapped[str] = mapped_column(String(600))
    description: Mapped[str] = mapped_column(Text, default="")
    log_predictions: Mapped[bool] = mapped_column(Boolean, default=True)
    sample_rate: Mapped[float] = mapped_column(Float, default=1.0)
    redact: Mapped[list[str]] = mapped_column(JSONType, default=list)
    max_batch_rows: Mapped[int] = mapped_column(Integer, default=64)
    max_delay_ms: Mapped[float] = mapped_column(Float, default=10.0)
    created_by: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
