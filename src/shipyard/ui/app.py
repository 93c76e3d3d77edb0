"""The UI sub-application that ``shipyard server`` mounts under ``/ui``.

It is a separate ASGI app on purpose: its routes answer HTML (errors included), stay out of the
OpenAPI document the API clients and schemathesis read, and use cookie auth with CSRF checks
instead of bearer headers. Each page is one module under ``shipyard.ui.pages`` with a ``router``;
adding a page (serving, monitoring) is one more entry in ``PAGES``.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipyard.core.auth import Principal, Role
from shipyard.core.errors import ShipyardError
from shipyard.core.telemetry import fastapi_telemetry
from shipyard.ui.render import render
from shipyard.ui.session import CSRF_COOKIE, LoginRequired, Viewer

__all__ = ["PAGES", "create_ui"]

logger = logging.getLogger(__name__)

# Page modules, in navigation order.
PAGES = (
    "shipyard.ui.pages.login",
    "shipyard.ui.pages.portfolio",
    "shipyard.ui.pages.experiments",
    "shipyard.ui.pages.runs",
    "shipyard.ui.pages.registry",
    "shipyard.ui.pages.endpoints",
    "shipyard.ui.pages.monitoring",
    "shipyard.ui.pages.audit",
    "shipyard.ui.pages.settings",
)

# Scripts come only from this server; no inline script runs. Styles may be set by the chart library.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _fallback_viewer(request: Request) -> Viewer:
    # Error pages are drawn without the principal (it may be what failed): no nav, no buttons.
    return Viewer(Principal("", Role.VIEWER), False, request.cookies.get(CSRF_COOKIE, ""), False)


def _error_page(request: Request, status: int, message: str, field: str | None = None) -> Response:
    viewer = getattr(request.state, "viewer", None) or _fallback_viewer(request)
    return render(
        request,
        viewer,
        "error.html",
        {"status": status, "message": message, "field": field},
        status_code=status,
        title=f"Error {status}",
    )


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        root = request.scope.get("root_path", "").rstrip("/")
        if request.method == "GET" and "hx-request" not in request.headers:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{root}/login?next={quote(target)}&why={quote(exc.message)}", 303)
        response = HTMLResponse(f"<p role='alert'>{exc.message}: log in again.</p>", status_code=401)
        response.headers["HX-Redirect"] = f"{root}/login"
        return response

    @app.exception_handler(ShipyardError)
    async def _shipyard(request: Request, exc: ShipyardError) -> Response:
        return _error_page(request, exc.status_code, exc.message, exc.field)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problem = (exc.errors() or [{"loc": ("query",), "msg": "invalid request"}])[0]
        field = ".".join(str(p) for p in problem.get("loc", ()) if p not in ("query", "path", "body", "form"))
        return _error_page(request, 422, f"{field}: {problem['msg']}", field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"there is no page at {request.url.path}"
        return _error_page(request, exc.status_code, message)

    @app.exception_handler(OperationalError)
    async def _store_down(request: Request, exc: OperationalError) -> Response:
        logger.error("database error: %s", exc.orig)
        return _error_page(request, 503, "the metadata store is unavailable; try again shortly")


def create_ui(parent: FastAPI) -> FastAPI:
    """The UI app; ``parent`` is the control-plane app whose ``state.platform`` the pages read."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, title="Shipyard UI", **fastapi_telemetry())
    app.state.parent = parent
    _install_handlers(app)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    for name in PAGES:
        app.include_router(importlib.import_module(name).router)
    app.add_middleware(SecurityHeaders)
    return app
