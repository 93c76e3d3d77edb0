"""Who is looking at the UI, and the CSRF check on every form POST.

The login page takes a bearer token and keeps it in an HttpOnly, SameSite=Strict cookie scoped to
``/ui``: scripts cannot read it and other sites cannot send it. Every request resolves the token
exactly as the API does (one indexed lookup), so a revoked token logs its browser out at once.

CSRF uses a double-submit token: a random value in its own HttpOnly cookie, repeated in each form
(hidden field) and in htmx requests (``X-CSRF-Token`` header). A forged cross-site POST carries
neither the cookie (SameSite=Strict) nor the value.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from shipyard.core import auth
from shipyard.core.auth import ANONYMOUS, Principal, Role
from shipyard.core.errors import AuthenticationError, PermissionDeniedError
from shipyard.core.platform import Platform

__all__ = [
    "CSRF_COOKIE",
    "TOKEN_COOKIE",
    "LoginRequired",
    "PosterDep",
    "Viewer",
    "ViewerDep",
    "check_csrf",
    "current_viewer",
    "current_viewer_without_login",
    "platform_of",
]

TOKEN_COOKIE = "shipyard_token"  # noqa: S105  (a cookie name, not a secret)
CSRF_COOKIE = "shipyard_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class LoginRequired(Exception):
    """Raised for a page request without a usable token; the app answers with the login page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Viewer:
    """The principal, whether auth is on (so whether logging out makes sense) and the CSRF value."""

    principal: Principal
    auth_enabled: bool
    csrf: str
    new_csrf: bool

    def can(self, role: str) -> bool:
        return self.principal.can(Role(role))


def platform_of(request: Request) -> Platform:
    # The UI is a mounted sub-application; the parent app keeps the platform.
    return request.app.state.parent.state.platform


def _authenticate(platform: Platform, secret: str) -> Principal:
    with platform.database.session() as session:
        return auth.authenticate(session, secret)


async def current_viewer(request: Request) -> Viewer:
    platform = platform_of(request)
    csrf = request.cookies.get(CSRF_COOKIE, "")
    new_csrf = len(csrf) < 32
    if new_csrf:
        csrf = secrets.token_urlsafe(32)
    if not platform.settings.auth_enabled:
        request.state.viewer = Viewer(ANONYMOUS, False, csrf, new_csrf)
        return request.state.viewer
    secret = request.cookies.get(TOKEN_COOKIE)
    if not secret:
        raise LoginRequired("log in with a token to continue")
    try:
        principal = await run_in_threadpool(_authenticate, platform, secret)
    except AuthenticationError as exc:
        raise LoginRequired(exc.message) from None
    request.state.viewer = Viewer(principal, True, csrf, new_csrf)
    return request.state.viewer


def current_viewer_without_login(request: Request) -> Viewer:
    """For the login page: the local admin when auth is off, else nobody yet."""
    csrf = request.cookies.get(CSRF_COOKIE, "")
    new_csrf = len(csrf) < 32
    csrf = secrets.token_urlsafe(32) if new_csrf else csrf
    if not platform_of(request).settings.auth_enabled:
        return Viewer(ANONYMOUS, False, csrf, new_csrf)
    return Viewer(Principal("", Role.VIEWER), True, csrf, new_csrf)


ViewerDep = Annotated[Viewer, Depends(current_viewer)]


async def check_csrf(request: Request, viewer: ViewerDep) -> Viewer:
    """Refuse a POST whose form field or header does not repeat the CSRF cookie."""
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        form = await request.form()
        value = form.get(CSRF_FIELD, "")
        sent = value if isinstance(value, str) else ""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise PermissionDeniedError(
            "the form's CSRF token is missing or stale; reload the page and submit again", field=CSRF_FIELD
        )
    return viewer


PosterDep = Annotated[Viewer, Depends(check_csrf)]
