"""Signed webhooks with a transactional outbox.

``emit(session, event, payload)`` writes one delivery row per matching webhook in the caller's
transaction, so an event exists exactly when the change that caused it committed. A dispatcher
(a thread in the server process) POSTs due deliveries and records every attempt; failures are retried
with exponential backoff up to ``MAX_ATTEMPTS``, then marked failed. On PostgreSQL, deliveries are
claimed with ``FOR UPDATE SKIP LOCKED`` so several replicas never send the same one twice.

Each request carries::

    X-Shipyard-Event: alias.set
    X-Shipyard-Delivery: 42
    X-Shipyard-Timestamp: 1795000000
    X-Shipyard-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the webhook's secret>

Receivers should recompute the signature and reject old timestamps (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from shipyard.core import audit
from shipyard.core.auth import Principal, Role, require_role
from shipyard.core.database import Database, utcnow
from shipyard.core.errors import InvalidParameterError, NotFoundError
from shipyard.core.tables import Webhook, WebhookDelivery
from shipyard.core.validation import check_text

__all__ = [
    "EVENTS",
    "MAX_ATTEMPTS",
    "WebhookDispatcher",
    "create_webhook",
    "delete_webhook",
    "deliver_due",
    "emit",
    "list_deliveries",
    "list_webhooks",
    "sign",
]

logger = logging.getLogger(__name__)

EVENTS = (
    "model_version.created",
    "alias.set",
    "alias.deleted",
    "approval.requested",
    "approval.decided",
    "monitor.alert",
)
MAX_ATTEMPTS = 6
BASE_DELAY_SECONDS = 1.0
TIMEOUT_SECONDS = 10.0


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (epoch seconds).

    >>> sign("s3cret", 1700000000, b'{"a":1}')[:15]
    'sha256=1698a50b'
    """
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _check_url(url: str) -> str:
    check_text(url, field="url", max_length=2000)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidParameterError(
            f"url must be an http:// or https:// URL with a host; got {url!r}", field="url"
        )
    return url


def create_webhook(
    session: Session, *, actor: Principal, name: str, url: str, events: list[str], secret: str | None = None
) -> tuple[Webhook, str]:
    """Subscribe ``url`` to ``events`` (``*`` for all); returns the webhook and its signing secret."""
    require_role(actor, Role.ADMIN)
    unknown = sorted(set(events) - set(EVENTS) - {"*"})
    if not events or unknown:
        raise InvalidParameterError(
            f"events must name some of {', '.join(EVENTS)} (or '*'); "
            f"unknown: {', '.join(unknown) or 'none given'}",
            field="events",
        )
    secret = secret or secrets.token_urlsafe(32)
    webhook = Webhook(
        id=uuid.uuid4().hex,
        name=check_text(name, field="name", max_length=200, allow_empty=False),
        url=_check_url(url),
        secret=check_text(secret, field="secret", max_length=200),
        events=sorted(set(events)),
        active=True,
        created_by=actor.name,
    )
    session.add(webhook)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="webhook.create",
        object_type="webhook",
        object_id=webhook.id,
        after={"name": webhook.name, "url": webhook.url, "events": webhook.events},
    )
    return webhook, secret


def list_webhooks(session: Session) -> list[Webhook]:
    return list(session.scalars(select(Webhook).order_by(Webhook.created_at)))


def delete_webhook(session: Session, *, actor: Principal, webhook_id: str) -> None:
    require_role(actor, Role.ADMIN)
    webhook = session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFoundError(f"webhook {webhook_id!r} does not exist", field="webhook_id")
    session.delete(webhook)
    audit.record(
        session,
        actor=actor,
        action="webhook.delete",
        object_type="webhook",
        object_id=webhook_id,
        before={"url": webhook.url},
    )


def list_deliveries(session: Session, webhook_id: str, *, limit: int = 100) -> list[WebhookDelivery]:
    if session.get(Webhook, webhook_id) is None:
        raise NotFoundError(f"webhook {webhook_id!r} does not exist", field="webhook_id")
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    return list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit)))


def emit(session: Session, event: str, payload: dict[str, Any]) -> int:
    """Queue ``event`` for every active webhook that wants it, in the caller's transaction."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    body = {
        "event": event,
        "occurred_at": utcnow().isoformat(),
        "request_id": audit.current_request_id.get(),
        "data": payload,
    }
    count = 0
    for webhook in session.scalars(select(Webhook).where(Webhook.active.is_(True))):
        if "*" in webhook.events or event in webhook.events:
            session.add(WebhookDelivery(webhook_id=webhook.id, event=event, payload=body))
            count += 1
    return count


def _claim(session: Session, database: Database, limit: int) -> list[WebhookDelivery]:
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= utcnow())
        .order_by(WebhookDelivery.id)
        .limit(limit)
    )
    if database.dialect == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


@dataclass(frozen=True)
class _Job:
    delivery_id: int
    url: str
    secret: str
    event: str
    payload: dict[str, Any]


def _post(client: httpx.Client, job: _Job) -> tuple[int | None, str | None]:
    body = orjson.dumps(job.payload)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "shipyard-webhooks",
        "X-Shipyard-Event": job.event,
        "X-Shipyard-Delivery": str(job.delivery_id),
        "X-Shipyard-Timestamp": str(timestamp),
        "X-Shipyard-Signature": sign(job.secret, timestamp, body),
    }
    try:
        response = client.post(job.url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:1000]
    return response.status_code, None if response.is_success else f"HTTP {response.status_code}"


def deliver_due(database: Database, client: httpx.Client, *, limit: int = 50) -> int:
    """Send the deliveries that are due now; returns how many were attempted.

    Claiming takes a short transaction that pushes each delivery's next attempt out by a lease, so no
    lock is held while waiting on receivers and a crashed sender's deliveries come due again.
    """
    lease = timedelta(seconds=TIMEOUT_SECONDS * 3)
    jobs: list[_Job] = []
    with database.session(write=True) as session:
        for delivery in _claim(session, database, limit):
            webhook = session.get(Webhook, delivery.webhook_id)
            if webhook is None or not webhook.active:
                delivery.status, delivery.last_error = "failed", "webhook removed or inactive"
                continue
            delivery.next_attempt_at = utcnow() + lease
            jobs.append(
                _Job(delivery.id, webhook.url, webhook.secret, delivery.event, dict(delivery.payload))
            )
    results = [(job, *_post(client, job)) for job in jobs]
    with database.session(write=True) as session:
        for job, status_code, error in results:
            delivery = session.get(WebhookDelivery, job.delivery_id)
            if delivery is None:
                continue
            delivery.attempts += 1
            delivery.last_status_code, delivery.last_error = status_code, error
            if error is None:
                delivery.status, delivery.delivered_at = "delivered", utcnow()
            elif delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = "failed"
                logger.warning(
                    "webhook delivery %s to %s failed for good: %s", job.delivery_id, job.url, error
                )
            else:
                delivery.next_attempt_at = utcnow() + timedelta(
                    seconds=BASE_DELAY_SECONDS * 2 ** (delivery.attempts - 1)
                )
    return len(jobs)


class WebhookDispatcher:
    """A daemon thread that delivers due webhooks every ``interval`` seconds until stopped."""

    def __init__(self, database: Database, *, interval: float = 0.5) -> None:
        self._database = database
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shipyard-webhooks", daemon=True)

    def start(self) -> WebhookDispatcher:
        self._thread.start()
        return self

    def _run(self) -> None:
        with httpx.Client() as client:
            while not self._stop.is_set():
                try:
                    busy = deliver_due(self._database, client)
                except Exception:  # the loop must survive a database hiccup
                    logger.exception("webhook dispatch failed")
                    busy = 0
                if not busy:
                    self._stop.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=TIMEOUT_SECONDS + 5)
