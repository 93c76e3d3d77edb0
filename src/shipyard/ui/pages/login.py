"""Log in with a token, log out, and the start page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from shipyard.core import auth
from shipyard.core.auth import Principal
from shipyard.core.errors import AuthenticationError
from shipyard.ui.render import render, set_cookie
from shipyard.ui.session import (
    CSRF_COOKIE,
    TOKEN_COOKIE,
    PosterDep,
    check_csrf,
    current_viewer_without_login,
    platform_of,
)

__all__ = ["router"]

router = APIRouter()
TOKEN_MAX_AGE = 8 * 3600  # the cookie outlives a working day at most; the token itself may live longer


def _root(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def _safe_next(request: Request, target: str | None) -> str:
    """Only a path of this UI: never another host (``//evil``) nor a scheme."""
    root = _root(request)
    if target and target.startswith(root + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return root + "/"


@router.get("/", include_in_schema=False)
async def start(request: Request) -> Response:
    return RedirectResponse(_root(request) + "/portfolio", 303)


@router.get("/login", include_in_schema=False)
async def login_page(request: Request, next: str | None = None, why: str | None = None) -> Response:
    viewer = current_viewer_without_login(request)
    if not viewer.auth_enabled:
        return RedirectResponse(_safe_next(request, next), 303)
    context = {"next": _safe_next(request, next), "why": (why or "")[:200], "error": None}
    return render(request, viewer, "login.html", context, title="Log in")


def _authenticate(request: Request, secret: str) -> Principal:
    with platform_of(request).database.session() as session:
        return auth.authenticate(session, secret)


@router.post("/login", include_in_schema=False)
async def login(
    request: Request, token: Annotated[str, Form(max_length=500)], next: Annotated[str, Form()] = ""
) -> Response:
    viewer = current_viewer_without_login(request)
    await check_csrf(request, viewer)
    if not viewer.auth_enabled:
        return RedirectResponse(_safe_next(request, next), 303)
    try:
        await run_in_threadpool(_authenticate, request, token.strip())
    except AuthenticationError as exc:
        message = "that token is not valid" if exc.message == "invalid bearer token" else exc.message
        context = {"next": _safe_next(request, next), "why": "", "error": message}
        return render(request, viewer, "login.html", context, status_code=401, title="Log in")
    response = RedirectResponse(_safe_next(request, next), 303)
    set_cookie(response, request, TOKEN_COOKIE, token.strip(), max_age=TOKEN_MAX_AGE)
    return response


@router.post("/logout", include_in_schema=False)
async def logout(request: Request, viewer: PosterDep) -> Response:
    response = RedirectResponse(_root(request) + "/login", 303)
    path = _root(request) or "/"
    response.delete_cookie(TOKEN_COOKIE, path=path, httponly=True, samesite="strict")
    response.delete_cookie(CSRF_COOKIE, path=path, httponly=True, samesite="strict")
    return response
