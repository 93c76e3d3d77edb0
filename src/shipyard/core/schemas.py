"""Pydantic schemas of the core's HTTP and SDK edges (services return ORM rows or dataclasses)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shipyard.core.auth import Role
from shipyard.core.validation import CleanText

__all__ = [
    "API_ERRORS",
    "ArtifactFilePublic",
    "ArtifactFilesPublic",
    "AuditEventPublic",
    "AuditEventsPublic",
    "BlobPublic",
    "ErrorPublic",
    "HealthPublic",
    "ReadyPublic",
    "TokenCreate",
    "TokenCreated",
    "TokenPublic",
    "TokensPublic",
    "VersionPublic",
    "error_responses",
]


class _FromRow(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorPublic(BaseModel):
    error_code: str
    message: str
    field: str | None = None
    request_id: str | None = None


class HealthPublic(BaseModel):
    status: str = "ok"


class ReadyPublic(BaseModel):
    status: str
    database: str
    schema_revision: str | None
    schema_head: str | None


class VersionPublic(BaseModel):
    name: str = "shipyard"
    version: str
    api_version: str = "v1"
    python: str


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: CleanText = Field(min_length=1, max_length=200)
    role: Role
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class TokenPublic(_FromRow):
    id: str
    name: str
    role: Role
    prefix: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(BaseModel):
    token: TokenPublic
    secret: str = Field(description="The bearer secret. It is shown only in this response.")


class TokensPublic(BaseModel):
    tokens: list[TokenPublic]


class AuditEventPublic(_FromRow):
    id: int
    occurred_at: datetime
    actor: str
    actor_role: str
    action: str
    object_type: str
    object_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None


class AuditEventsPublic(BaseModel):
    events: list[AuditEventPublic]
    next_page_token: str | None = None


class BlobPublic(BaseModel):
    digest: str
    size: int
    created: bool


class ArtifactFilePublic(_FromRow):
    path: str
    digest: str
    size: int
    created_at: datetime


class ArtifactFilesPublic(BaseModel):
    files: list[ArtifactFilePublic]


def error_responses(*codes: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI entries for the error statuses a router may answer, all in the one error shape."""
    descriptions = {
        400: "Invalid parameter",
        401: "Missing, invalid, revoked or expired token",
        403: "Role too low",
        404: "Unknown object",
        409: "Conflict with an existing object",
        413: "Body too large",
        415: "Unsupported content type",
        422: "Request does not match the schema",
        503: "Store unavailable",
    }
    return {code: {"model": ErrorPublic, "description": descriptions[code]} for code in codes}


API_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 415, 422, 503)
