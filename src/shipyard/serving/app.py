"""The stand-alone data plane that ``shipyard serve`` runs: one model, every protocol, one port.

It carries no control-plane routes and no request-context middleware, so the per-request path is
the protocol codec, the batcher and the model. Tokens, when auth is on, are checked against the
store the model comes from and cached briefly, so a request costs no database round trip.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipyard._version import __version__
from shipyard.core.auth import Principal, Role, require_role
from shipyard.core.errors import AuthenticationError, ConfigurationError
from shipyard.core.telemetry import fastapi_telemetry
from shipyard.serving.fastpath import FastPath
from shipyard.serving.manager import EndpointSpec, EventSink, ServingManager
from shipyard.serving.metrics import ServingMetrics
from shipyard.serving.predlog import SEAL_PROCESS_ROWS, PredictionLog
from shipyard.serving.routes import data_plane_router
from shipyard.serving.source import ModelSource

__all__ = ["TokenCheck", "create_serving_app", "with_fast_path"]

#: Maps a bearer secret (or None) to the principal it belongs to, raising AuthenticationError.
TokenCheck = Callable[[str | None], Principal]


class _CachedTokens:
    """Remembers good tokens for ``ttl`` seconds; a revoked token stops working within that time."""

    def __init__(self, check: TokenCheck, ttl: float = 30.0) -> None:
        self._check, self._ttl = check, ttl
        self._known: dict[str, tuple[Principal, float]] = {}

    async def principal(self, header: str) -> Principal:
        scheme, _, secret = header.partition(" ")
        if not header or scheme.lower() != "bearer" or not secret.strip():
            raise AuthenticationError("a bearer token is required", field="Authorization")
        secret = secret.strip()
        known = self._known.get(secret)
        if known is not None and known[1] > time.monotonic():
            return known[0]
        principal = await run_in_threadpool(self._check, secret)
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[secret] = (principal, time.monotonic() + self._ttl)
        return principal


def create_serving_app(
    *,
    source: ModelSource,
    specs: Sequence[EndpointSpec],
    predlog_root: Path | None,
    max_body_bytes: int = 16 * 1024 * 1024,
    poll_interval: float = 1.0,
    token_check: TokenCheck | None = None,
    hourly_price: float = 0.0,
    log_retention_days: float | None = 30.0,
    log_fsync: bool = False,
    on_event: EventSink | None = None,
    on_close: Callable[[], Any] | None = None,
    on_ready: Callable[[], Any] | None = None,
    model_processes: bool = False,
) -> FastAPI:
    """An app serving ``specs``; its lifespan loads them and fails start-up if one cannot load."""
    metrics = ServingMetrics(hourly_price=hourly_price)
    predlog = (
        PredictionLog(
            predlog_root,
            retention_days=log_retention_days,
            fsync=log_fsync,
            seal_process_rows=SEAL_PROCESS_ROWS,
        )
        if predlog_root is not None
        else None
    )
    manager = ServingManager(
        source,
        metrics=metrics,
        predlog=predlog,
        poll_interval=poll_interval,
        on_event=on_event,
        model_processes=model_processes,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if predlog is not None:
            predlog.start()
        try:
            await manager.start(specs)
            for spec in specs:
                endpoint = await manager.wait_ready(spec.name, timeout=300.0)
                if endpoint.active is None:
                    app.state.startup_error = endpoint.error or f"{spec.model_uri} did not load"
                    raise ConfigurationError(app.state.startup_error, field="model_uri")
            if on_ready is not None:
                on_ready()
            yield
        finally:
            await manager.stop()
            if predlog is not None:
                predlog.close()
            if on_close is not None:
                on_close()

    app = FastAPI(title="Shipyard serving", version=__version__, lifespan=lifespan, **fastapi_telemetry())
    app.state.serving = manager
    from shipyard.server import install_error_handlers  # the one error shape of the platform

    install_error_handlers(app)
    dependencies: list[Any] = []
    feedback_dependencies: list[Any] = []
    tokens: _CachedTokens | None = None
    if token_check is not None:
        tokens = _CachedTokens(token_check)

        def needs(role: Role) -> Any:
            async def check(request: Request) -> Principal:
                return require_role(await tokens.principal(request.headers.get("authorization", "")), role)

            return Depends(check)

        dependencies.append(needs(Role.VIEWER))
        feedback_dependencies.append(needs(Role.EDITOR))
    router = data_plane_router(
        lambda request: request.app.state.serving,
        max_body_bytes=max_body_bytes,
        dependencies=dependencies,
        feedback_dependencies=feedback_dependencies,
    )
    app.include_router(router)
    app.state.tokens = tokens

    @app.get("/health", summary="MLflow-style health", include_in_schema=False)
    async def health() -> Response:
        ready = all(e.active is not None for e in manager.endpoints.values())
        return Response(b"\n", status_code=200 if ready else 503, media_type="application/json")

    @app.get("/version", summary="Shipyard version", include_in_schema=False)
    async def version() -> Response:
        return Response(__version__.encode(), media_type="text/plain")

    return app


def with_fast_path(app: FastAPI, *, max_body_bytes: int) -> FastPath:
    """``app`` behind the raw-ASGI inference path (same protocols, same auth, less overhead)."""
    tokens: _CachedTokens | None = app.state.tokens

    async def authorize(headers: dict[str, str]) -> None:
        assert tokens is not None
        require_role(await tokens.principal(headers.get("authorization", "")), Role.VIEWER)

    return FastPath(
        _startup_failure_in_one_line(app),
        app.state.serving,
        max_body_bytes=max_body_bytes,
        authorize=authorize if tokens is not None else None,
    )


def _startup_failure_in_one_line(app: FastAPI) -> ASGIApp:
    """uvicorn prints the traceback of a failed start-up; a model that does not load (a file whose hash
    does not match, say) is the user's to read as one sentence, which the lifespan recorded."""

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return

        async def report(message: Message) -> None:
            error = getattr(app.state, "startup_error", None)
            if message["type"] == "lifespan.startup.failed" and error:
                message = {**message, "message": f"cannot start: {error}"}
            await send(message)

        await app(scope, receive, report)

    return serve
