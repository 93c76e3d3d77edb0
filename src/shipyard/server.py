"""Assembles the control-plane application: every stage's router, one error shape, request ids.

``create_app()`` opens the platform (migrations included) in the lifespan; tests and the embedded
runner may pass an already opened ``Platform``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shipyard._version import __version__
from shipyard.compat.mlflow import artifacts as mlflow_artifacts
from shipyard.compat.mlflow import registry as mlflow_registry
from shipyard.compat.mlflow import tracking as mlflow_tracking
from shipyard.compat.mlflow._wire import read_params
from shipyard.compat.mlflow.prefix import AjaxPrefixMiddleware
from shipyard.core import routes as core_routes
from shipyard.core import webhook_routes
from shipyard.core.audit import current_request_id
from shipyard.core.config import Settings, load_settings
from shipyard.core.direct import DirectRoutes
from shipyard.core.errors import ShipyardError
from shipyard.core.middleware import RequestContextMiddleware
from shipyard.core.platform import Platform
from shipyard.core.telemetry import fastapi_telemetry
from shipyard.core.webhooks import WebhookDispatcher
from shipyard.monitoring import routes as monitor_routes
from shipyard.monitoring.scheduler import MonitorScheduler
from shipyard.monitoring.views import prediction_log_reader
from shipyard.registry import routes as registry_routes
from shipyard.serving import endpoint_routes
from shipyard.serving.hosting import HostedServing, include_data_plane
from shipyard.tracking import routes as tracking_routes
from shipyard.ui.app import create_ui
from shipyard.usecases import routes as usecase_routes

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

MAX_JSON_BODY = 32 * 1024 * 1024
_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "ENDPOINT_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


# On MLflow's paths, statuses follow MLflow's table (mlflow/exceptions.py), which its client relies on.
MLFLOW_PREFIXES = ("/api/2.0/mlflow", "/api/3.0/mlflow", "/api/2.0/mlflow-artifacts")
MLFLOW_STATUS = {"RESOURCE_ALREADY_EXISTS": 400, "UNSUPPORTED_MEDIA_TYPE": 400}


def _status_for(request: Request, exc: ShipyardError) -> int:
    if request.url.path.startswith(MLFLOW_PREFIXES):
        return MLFLOW_STATUS.get(exc.error_code, exc.status_code)
    return exc.status_code


def _error(status: int, error_code: str, message: str, field: str | None = None) -> JSONResponse:
    body = {
        "error_code": error_code,
        "message": message,
        "field": field,
        "request_id": current_request_id.get(),
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def _field_of(location: tuple[int | str, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(location[-1] if location else "body")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ShipyardError)
    async def _shipyard_error(request: Request, exc: ShipyardError) -> JSONResponse:
        if exc.status_code >= 500:
            logger.error("%s: %s", exc.error_code, exc.message)
        return _error(_status_for(request, exc), exc.error_code, exc.message, exc.field)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = exc.errors()
        first = problems[0] if problems else {"loc": ("body",), "msg": "invalid request"}
        field = _field_of(tuple(first.get("loc", ())))
        message = f"{field}: {first['msg']}"
        if len(problems) > 1:
            message += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
        status = 400 if request.url.path.startswith(MLFLOW_PREFIXES) else 422
        return _error(status, "INVALID_PARAMETER_VALUE", message, field)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no route for {request.method} {request.url.path}"
        return _error(exc.status_code, code, message)

    @app.exception_handler(DataError)
    async def _unstorable_value(_: Request, exc: DataError) -> JSONResponse:
        # A value the database cannot store (out-of-range number, forbidden byte) that no edge check
        # caught: still the client's input, so a 400, and logged so the edge check can be added.
        logger.warning("database refused a value: %s", str(exc.orig).splitlines()[0])
        return _error(
            400, "INVALID_PARAMETER_VALUE", f"a value cannot be stored: {str(exc.orig).splitlines()[0]}"
        )

    @app.exception_handler(OverflowError)
    async def _number_out_of_range(_: Request, exc: OverflowError) -> JSONResponse:
        # A number too large for the database's integers that no edge check caught.
        logger.warning("number out of range: %s", exc)
        return _error(400, "INVALID_PARAMETER_VALUE", f"a number is out of range: {exc}")

    @app.exception_handler(OperationalError)
    async def _store_down(_: Request, exc: OperationalError) -> JSONResponse:
        logger.error("database error: %s", exc.orig)
        return _error(503, "STORE_UNAVAILABLE", "the metadata store is unavailable; try again shortly")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error")
        return _error(
            500, "INTERNAL_ERROR", "internal error; the server log has details under this request id"
        )


def create_app(settings: Settings | None = None, *, platform: Platform | None = None) -> FastAPI:
    settings = platform.settings if platform is not None else (settings or load_settings())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = platform is None
        app.state.platform = platform if platform is not None else Platform.open(settings)
        dispatcher = WebhookDispatcher(app.state.platform.database).start()
        hosted = HostedServing(app.state.platform) if settings.serving_enabled else None
        if hosted is not None:
            await hosted.start()
            app.state.serving = hosted.manager
        # Monitors read this process's own prediction log, or the folder's files when it does not serve.
        log = hosted.predlog if hosted is not None else prediction_log_reader(app.state.platform)
        monitor_scheduler = MonitorScheduler(app.state.platform, lambda: log)
        await monitor_scheduler.start()
        try:
            yield
        finally:
            await monitor_scheduler.stop()
            if hosted is not None:
                await hosted.stop()
            dispatcher.stop()
            if owned:
                app.state.platform.close()

    app = FastAPI(
        title="Shipyard",
        version=__version__,
        summary="Self-hosted ML lifecycle platform",
        lifespan=lifespan,
        **fastapi_telemetry(),
    )
    if platform is not None:
        app.state.platform = platform  # usable before the lifespan runs (in-process test clients)
    install_error_handlers(app)
    # Innermost: the MLflow calls training loops make by the hundred skip FastAPI's per-request routing.
    app.add_middleware(
        DirectRoutes,
        owner=app,
        routes=[*mlflow_tracking.router.routes, *mlflow_registry.router.routes],
        request_dependencies=[read_params],
    )
    app.add_middleware(RequestContextMiddleware, max_json_bytes=MAX_JSON_BODY)
    app.add_middleware(AjaxPrefixMiddleware)
    # Routes are matched in order: the MLflow API first, because training clients call it most often.
    app.include_router(mlflow_tracking.router)
    app.include_router(mlflow_artifacts.router)
    app.include_router(mlflow_registry.router)
    app.include_router(core_routes.public_router)
    app.include_router(core_routes.api_router)
    app.include_router(webhook_routes.router)
    app.include_router(tracking_routes.router)
    app.include_router(tracking_routes.files_router)
    app.include_router(tracking_routes.logged_model_files_router)
    app.include_router(registry_routes.router)
    app.include_router(usecase_routes.portfolio_router)
    app.include_router(usecase_routes.usecase_router)
    app.include_router(endpoint_routes.router)
    app.include_router(monitor_routes.router)
    if settings.serving_enabled:
        include_data_plane(app, max_body_bytes=settings.serving_max_body_bytes)
    # The web UI: its own sub-application (HTML errors, cookie auth with CSRF), not in the OpenAPI document.
    app.mount("/ui", create_ui(app))
    return app
