"""The append-only audit log.

Every service function that mutates state calls ``record`` inside the same session, so the change
and its audit row commit or roll back together. The table itself rejects UPDATE and DELETE.
"""

from __future__ import annotations

import base64
import binascii
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from shipyard.core.database import utcnow
from shipyard.core.errors import InvalidParameterError
from shipyard.core.tables import AuditEvent
from shipyard.core.validation import check_text

if TYPE_CHECKING:
    from shipyard.core.auth import Principal

__all__ = ["AuditPage", "current_request_id", "list_events", "record"]

# Set by the server's request-id middleware; None for CLI and embedded use.
current_request_id: ContextVar[str | None] = ContextVar("shipyard_request_id", default=None)

MAX_PAGE = 1000
_SUMMARY_VALUE_LIMIT = 500
_INSERT = insert(AuditEvent.__table__)  # type: ignore[arg-type]


def _compact(value: Any) -> Any:
    """JSON-safe, size-bounded form of a before/after value."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(key): _compact(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        items = list(value)
        return [_compact(item) for item in items[:50]] + (["…"] if len(items) > 50 else [])
    text = str(value)
    return text if len(text) <= _SUMMARY_VALUE_LIMIT else text[:_SUMMARY_VALUE_LIMIT] + "…"


def record(
    session: Session,
    *,
    actor: Principal,
    action: str,
    object_type: str,
    object_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one audit row in the caller's transaction.

    Every mutation pays for this, so it is one prebuilt Core INSERT on the session's connection: no
    ORM unit of work and no statement (or cache key) built per call.
    """
    session.connection().execute(
        _INSERT,
        {
            "occurred_at": utcnow(),
            "actor": actor.name,
            "actor_role": actor.role.value,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id)[:200],
            "before": _compact(before),
            "after": _compact(after),
            "request_id": current_request_id.get(),
        },
    )


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_page_token: str | None


def _decode_page_token(token: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("audit:"))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidParameterError(
            f"page_token {token[:40]!r} is not a token this server issued", field="page_token"
        ) from None


def list_events(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    max_results: int = 100,
    page_token: str | None = None,
) -> AuditPage:
    """Newest first. ``action`` matches exactly or, ending in ``.*``, by prefix (``token.*``)."""
    if not 1 <= max_results <= MAX_PAGE:
        raise InvalidParameterError(
            f"max_results must be between 1 and {MAX_PAGE}; got {max_results}", field="max_results"
        )
    for name, text in (
        ("actor", actor),
        ("action", action),
        ("object_type", object_type),
        ("object_id", object_id),
    ):
        if text is not None:
            check_text(text, field=name, max_length=200)
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidParameterError(
                f"{name} must include a time zone, e.g. 2026-01-31T00:00:00Z", field=name
            )
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(max_results + 1)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if action:
        if action.endswith(".*"):
            query = query.where(AuditEvent.action.startswith(action[:-1], autoescape=True))
        else:
            query = query.where(AuditEvent.action == action)
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    if object_id:
        query = query.where(AuditEvent.object_id == object_id)
    if since:
        query = query.where(AuditEvent.occurred_at >= since)
    if until:
        query = query.where(AuditEvent.occurred_at < until)
    if page_token:
        query = query.where(AuditEvent.id < _decode_page_token(page_token))
    events = list(session.scalars(query))
    next_token = None
    if len(events) > max_results:
        events = events[:max_results]
        next_token = base64.urlsafe_b64encode(f"audit:{events[-1].id}".encode()).decode()
    return AuditPage(events=events, next_page_token=next_token)
