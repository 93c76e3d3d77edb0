"""Settings: API tokens (admins only). A new token's secret is shown once, on the page that created it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from shipyard.core import auth
from shipyard.core.auth import Role, require_role
from shipyard.core.errors import InvalidParameterError, ShipyardError
from shipyard.ui.pages._common import FormErrors, form_text, read, redirect, write
from shipyard.ui.render import NavItem, navigation, render
from shipyard.ui.session import PosterDep, ViewerDep

__all__ = ["router"]

router = APIRouter()
navigation(NavItem("Settings", "/settings", "settings", role="admin"))


def _tokens(session: Session) -> list[Any]:
    return auth.list_tokens(session, include_revoked=True)


async def _page(
    request: Request,
    viewer: Any,
    *,
    created: tuple[Any, str] | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    tokens = await read(request, _tokens)
    context = {
        "tokens": tokens,
        "created": created,
        "errors": errors or FormErrors(),
        "roles": [r.value for r in Role],
    }
    return render(
        request, viewer, "settings.html", context, status_code=status, section="settings", title="Settings"
    )


@router.get("/settings", include_in_schema=False)
async def settings_page(request: Request, viewer: ViewerDep) -> Response:
    require_role(viewer.principal, Role.ADMIN)
    return await _page(request, viewer)


@router.post("/settings/tokens", include_in_schema=False)
async def create_token(request: Request, viewer: PosterDep) -> Response:
    require_role(viewer.principal, Role.ADMIN)
    form = await request.form()
    try:
        name, role = form_text(form, "name", max_length=200), form_text(form, "role", max_length=20)
        days_text = form_text(form, "expires_in_days", max_length=10).strip()
        try:
            days = int(days_text) if days_text else None
        except ValueError:
            raise InvalidParameterError(
                f"expires_in_days must be a whole number of days; got {days_text!r}", field="expires_in_days"
            ) from None

        def work(session: Session) -> tuple[Any, str]:
            token, secret = auth.create_token(
                session, actor=viewer.principal, name=name, role=role, expires_in_days=days
            )
            session.flush()
            session.expunge(token)
            return token, secret

        created = await write(request, work)
    except ShipyardError as exc:
        errors = FormErrors.of(exc, known={"name", "role", "expires_in_days"})
        return await _page(request, viewer, errors=errors, status=exc.status_code)
    # The secret appears in this response only (no redirect: a reload must not show it again elsewhere).
    return await _page(request, viewer, created=created, status=201)


@router.post("/settings/tokens/{token_id}/revoke", include_in_schema=False)
async def revoke_token(request: Request, viewer: PosterDep, token_id: str) -> Response:
    require_role(viewer.principal, Role.ADMIN)
    await write(request, lambda s: auth.revoke_token(s, actor=viewer.principal, token_id=token_id))
    return redirect(request, "/settings", anchor=f"token-{token_id}")
