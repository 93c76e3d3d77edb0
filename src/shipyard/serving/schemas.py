"""Request and response bodies of the endpoint configuration API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = ["EndpointCreate", "EndpointPublic", "EndpointStatus", "EndpointUpdate", "EndpointsPublic"]

Name = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
ModelUri = Annotated[str, StringConstraints(min_length=1, max_length=600)]
Column = Annotated[str, StringConstraints(min_length=1, max_length=250)]


class EndpointSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: Annotated[str, StringConstraints(max_length=5000)] | None = None
    log_predictions: bool | None = Field(
        None, description="Write requests and responses to the prediction log."
    )
    sample_rate: float | None = Field(None, ge=0.0, le=1.0, description="Share of requests logged.")
    redact: list[Column] | None = Field(None, max_length=1000, description="Input columns never logged.")
    max_batch_rows: int | None = Field(None, ge=1, le=4096, description="Most rows in one model call.")
    max_delay_ms: float | None = Field(None, ge=0.0, le=1000.0, description="Longest added wait for a batch.")


class EndpointCreate(EndpointSettings):
    name: Name
    model_uri: ModelUri = Field(
        description="models:/NAME@ALIAS, models:/NAME/VERSION, .../latest or runs:/RUN/PATH"
    )


class EndpointUpdate(EndpointSettings):
    model_uri: ModelUri | None = None


class EndpointStatus(BaseModel):
    """What the data plane of this process is doing with the endpoint right now."""

    state: Literal["loading", "ready", "failed", "not_served"]
    model_name: str | None = None
    version: str | None = None
    loading_version: str | None = None
    error: str | None = None
    loaded_at: datetime | None = None
    load_seconds: float | None = None
    in_flight: int = 0
    draining_versions: list[str] = []


class EndpointPublic(BaseModel):
    name: str
    model_uri: str
    description: str
    log_predictions: bool
    sample_rate: float
    redact: list[str]
    max_batch_rows: int
    max_delay_ms: float
    created_by: str
    created_at: datetime
    updated_at: datetime
    status: EndpointStatus
    urls: dict[str, str]


class EndpointsPublic(BaseModel):
    endpoints: list[EndpointPublic]
