"""The audit log, newest first, filtered by actor, action, object and time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from shipyard.core import audit
from shipyard.core.errors import InvalidParameterError
from shipyard.ui.pages._common import read
from shipyard.ui.render import NavItem, navigation, render
from shipyard.ui.session import ViewerDep

__all__ = ["router"]

router = APIRouter()
navigation(NavItem("Audit log", "/audit", "audit"))

PAGE = 100
Filter = Annotated[str | None, Query(max_length=200)]
FIELDS = ("actor", "action", "object_type", "object_id", "since", "until")


def _moment(text: str | None, field: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidParameterError(
            f"{field} must be a date or time like 2026-01-31 or 2026-01-31T08:00Z; got {text!r}", field=field
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the form's times are UTC, as the table shows them
    return moment


def _events(session: Session, filters: dict[str, str | None], page_token: str | None) -> audit.AuditPage:
    return audit.list_events(
        session,
        actor=filters["actor"] or None,
        action=filters["action"] or None,
        object_type=filters["object_type"] or None,
        object_id=filters["object_id"] or None,
        since=_moment(filters["since"], "since"),
        until=_moment(filters["until"], "until"),
        max_results=PAGE,
        page_token=page_token,
    )


@router.get("/audit", include_in_schema=False)
async def audit_page(
    request: Request,
    viewer: ViewerDep,
    actor: Filter = None,
    action: Filter = None,
    object_type: Filter = None,
    object_id: Filter = None,
    since: Filter = None,
    until: Filter = None,
    page_token: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    filters = {"actor": actor, "action": action, "object_type": object_type, "object_id": object_id}
    filters |= {"since": since, "until": until}
    context: dict[str, Any] = {"filters": {k: v or "" for k, v in filters.items()}, "errors": {}}
    status = 200
    try:
        page = await read(request, lambda s: _events(s, filters, page_token))
        context.update(events=page.events, next_token=page.next_page_token)
    except InvalidParameterError as exc:
        context.update(
            events=[], next_token=None, errors={exc.field if exc.field in FIELDS else "": exc.message}
        )
        status = exc.status_code
    template = "audit_table.html" if request.headers.get("hx-target") == "audit" else "audit.html"
    return render(request, viewer, template, context, status_code=status, section="audit", title="Audit log")
