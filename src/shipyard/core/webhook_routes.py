"""Webhook management (admin only: a URL the server will call is worth guarding)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from shipyard.core import webhooks
from shipyard.core.deps import AdminDep, PlatformDep
from shipyard.core.schemas import API_ERRORS
from shipyard.core.validation import CleanText

__all__ = [
    "WebhookCreate",
    "WebhookCreated",
    "WebhookDeliveriesPublic",
    "WebhookDeliveryPublic",
    "WebhookPublic",
    "WebhooksPublic",
    "router",
]

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], responses=API_ERRORS)


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: CleanText = Field(min_length=1, max_length=200)
    url: CleanText = Field(min_length=1, max_length=2000)
    events: list[str] = Field(min_length=1, description=f"some of {', '.join(webhooks.EVENTS)}, or '*'")


class WebhookPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    url: str
    events: list[str]
    active: bool
    created_by: str
    created_at: datetime


class WebhookCreated(BaseModel):
    webhook: WebhookPublic
    secret: str = Field(description="The HMAC signing secret; shown only in this response.")


class WebhooksPublic(BaseModel):
    webhooks: list[WebhookPublic]


class WebhookDeliveryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]


class WebhookDeliveriesPublic(BaseModel):
    deliveries: list[WebhookDeliveryPublic]


@router.post("", status_code=201, summary="Subscribe a URL to events (the secret is shown once)")
def create(body: WebhookCreate, platform: PlatformDep, actor: AdminDep) -> WebhookCreated:
    with platform.database.session(write=True) as session:
        webhook, secret = webhooks.create_webhook(
            session, actor=actor, name=body.name, url=body.url, events=body.events
        )
        return WebhookCreated(webhook=WebhookPublic.model_validate(webhook), secret=secret)


@router.get("", summary="List webhooks")
def list_all(platform: PlatformDep, _: AdminDep) -> WebhooksPublic:
    with platform.database.session() as session:
        return WebhooksPublic(
            webhooks=[WebhookPublic.model_validate(w) for w in webhooks.list_webhooks(session)]
        )


@router.delete("/{webhook_id}", status_code=204, summary="Remove a webhook")
def delete(webhook_id: str, platform: PlatformDep, actor: AdminDep) -> None:
    with platform.database.session(write=True) as session:
        webhooks.delete_webhook(session, actor=actor, webhook_id=webhook_id)


@router.get("/{webhook_id}/deliveries", summary="Recent deliveries with their attempts and outcome")
def deliveries(
    webhook_id: str, platform: PlatformDep, _: AdminDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> WebhookDeliveriesPublic:
    with platform.database.session() as session:
        found = webhooks.list_deliveries(session, webhook_id, limit=limit)
        return WebhookDeliveriesPublic(deliveries=[WebhookDeliveryPublic.model_validate(d) for d in found])
