"""MLflow's UI calls the same API under ``/ajax-api/``; serve it by rewriting the path once."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["AjaxPrefixMiddleware"]


class AjaxPrefixMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/ajax-api/"):
            path = "/api/" + scope["path"][len("/ajax-api/") :]
            scope = {**scope, "path": path, "raw_path": path.encode()}
        await self.app(scope, receive, send)
