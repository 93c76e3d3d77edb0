"""HTTP and SDK shapes of Shipyard's own registry API (approvals, alias history, lifecycle)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shipyard.core.validation import CleanText

__all__ = [
    "AliasEventPublic",
    "AliasEventsPublic",
    "ApprovalCreate",
    "ApprovalDecision",
    "ApprovalRequestPublic",
    "ApprovalRequestsPublic",
    "LifecycleChange",
    "ModelVersionPublic",
]


class _Row(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class AliasEventPublic(_Row):
    id: int
    name: str
    alias: str
    version: int | None = Field(description="None when the alias was removed")
    previous_version: int | None
    occurred_at: int = Field(description="epoch milliseconds")
    requested_by: str
    approved_by: str | None
    approval_id: int | None
    reason: str | None
    metrics: dict[str, Any]


class AliasEventsPublic(BaseModel):
    events: list[AliasEventPublic]


class ApprovalRequestPublic(_Row):
    id: int
    name: str
    alias: str
    version: int
    status: str
    requested_by: str
    requested_at: int
    reason: str | None
    decided_by: str | None
    decided_at: int | None
    decision_reason: str | None
    metrics: dict[str, Any]


class ApprovalRequestsPublic(BaseModel):
    requests: list[ApprovalRequestPublic]


class ApprovalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: CleanText = Field(min_length=1, max_length=256)
    alias: CleanText = Field(min_length=1, max_length=255)
    version: int = Field(ge=1, lt=2**31)
    reason: CleanText | None = Field(default=None, max_length=10_000)


class ApprovalDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: CleanText = Field(min_length=1, max_length=10_000)


class LifecycleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lifecycle: Literal["draft", "published", "deprecated", "archived"]


class ModelVersionPublic(_Row):
    name: str
    version: int
    source: str
    run_id: str | None
    model_id: str | None
    current_stage: str
    lifecycle: str
    description: str
    creation_time: int
    last_updated_time: int
