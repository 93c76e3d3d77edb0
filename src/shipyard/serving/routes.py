"""The data plane's routes: Open Inference Protocol V2, MLflow scoring, the native API, /metrics.

Routes are thin: decode with the protocol's codec, predict through the endpoint's runtime, encode.
Each protocol answers errors in its own shape (V2 ``{"error"}``, MLflow ``{"error_code",
"message"}``, native = the platform's error shape), with the status the error carries: bad input
400, unknown model or version 404, oversized body 413, wrong content type 415.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from shipyard.core.errors import NotFoundError, ShipyardError, StateConflictError
from shipyard.core.schemas import API_ERRORS
from shipyard.serving import protocols
from shipyard.serving.codecs import v2 as v2_codec
from shipyard.serving.feedback import FeedbackAccepted, FeedbackBody, store_feedback
from shipyard.serving.http import read_body
from shipyard.serving.manager import ServingManager
from shipyard.serving.metrics import CONTENT_TYPE_LATEST

__all__ = ["data_plane_router"]

logger = logging.getLogger(__name__)

V2_TYPES = ("application/json", "application/octet-stream")
JSON = "application/json"


def _error_schema(
    schema: dict[str, Any], *codes: int, extra: dict[str, Any] | None = None
) -> dict[int | str, Any]:
    content = {JSON: {"schema": schema}, **(extra or {})}
    return {code: {"description": "Error in the protocol's own shape", "content": content} for code in codes}


# Inference protocols answer in their own error shapes; auth failures keep the platform's (API_ERRORS).
V2_ERRORS = _error_schema(
    {"type": "object", "properties": {"error": {"type": "string"}}}, 400, 404, 413, 415, 503
)
MLFLOW_ERRORS = _error_schema(
    {
        "type": "object",
        "required": ["error_code", "message"],
        "properties": {"error_code": {"type": "string"}, "message": {"type": "string"}},
    },
    400,
    404,
    413,
    415,
    extra={"text/plain": {"schema": {"type": "string"}}},
)


def _v2_error(exc: BaseException) -> Response:
    status = exc.status_code if isinstance(exc, ShipyardError) else 500
    return Response(v2_codec.encode_error(str(exc)), status_code=status, media_type=JSON)


def _reader(request: Request) -> Callable[[int], Awaitable[bytes]]:
    return lambda limit: read_body(request, limit)


def _response(reply: protocols.Reply) -> Response:
    return Response(reply.body, status_code=reply.status, headers=reply.headers, media_type=reply.media_type)


def data_plane_router(
    get_manager: Callable[[Request], ServingManager],
    *,
    max_body_bytes: int,
    dependencies: Sequence[Any] = (),
    feedback_dependencies: Sequence[Any] = (),
) -> APIRouter:
    router = APIRouter(dependencies=list(dependencies), tags=["serving"], responses=API_ERRORS)
    read_only = {"x-read-only": True, "x-data-plane": True}

    # -- Open Inference Protocol V2 ----------------------------------------------------------------
    @router.get(
        "/v2", responses=V2_ERRORS, summary="V2 server metadata", openapi_extra={"x-data-plane": True}
    )
    async def v2_server(request: Request) -> Response:
        from shipyard._version import __version__

        body = {"name": "shipyard", "version": __version__, "extensions": ["binary_tensor_data"]}
        return Response(orjson.dumps(body), media_type=JSON)

    @router.get(
        "/v2/health/live",
        responses=V2_ERRORS,
        summary="V2 server liveness",
        openapi_extra={"x-data-plane": True},
    )
    async def v2_live() -> Response:
        return Response(b'{"live":true}', media_type=JSON)

    @router.get(
        "/v2/health/ready",
        responses=V2_ERRORS,
        summary="V2 server readiness",
        openapi_extra={"x-data-plane": True},
    )
    async def v2_ready(request: Request) -> Response:
        manager = get_manager(request)
        ready = all(e.active is not None for e in manager.endpoints.values())
        return Response(orjson.dumps({"ready": ready}), status_code=200 if ready else 503, media_type=JSON)

    async def model_ready(request: Request, name: str, version: str | None) -> Response:
        try:
            get_manager(request).get(name).runtime(version)
        except NotFoundError as exc:
            return Response(
                orjson.dumps({"name": name, "ready": False, "error": str(exc)}), 404, media_type=JSON
            )
        return Response(orjson.dumps({"name": name, "ready": True}), media_type=JSON)

    async def model_metadata(request: Request, name: str, version: str | None) -> Response:
        try:
            endpoint = get_manager(request).get(name)
            runtime = endpoint.runtime(version)
        except ShipyardError as exc:
            return _v2_error(exc)
        outputs = [
            (
                "predict",
                v2_codec.datatype_for(runtime.predict_dtype) if runtime.predict_dtype else "BYTES",
                [-1],
            )
        ]
        if runtime.has_probabilities and runtime.classes is not None:
            outputs.append(("predict_proba", "FP64", [-1, len(runtime.classes)]))
        versions = [runtime.ref.version, *sorted(r.ref.version for r in endpoint.draining)]
        body = v2_codec.model_metadata(name, versions, runtime.flavor, runtime.signature, outputs)
        return Response(orjson.dumps(body), media_type=JSON)

    async def infer(request: Request, name: str, version: str | None) -> Response:
        reply = await protocols.v2_infer(
            get_manager(request), name, version, request.headers, _reader(request), max_body_bytes
        )
        return _response(reply)

    infer_docs = {
        **read_only,
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {"type": "object", "properties": {"inputs": {"type": "array"}}}
                },
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            }
        },
    }

    @router.get(
        "/v2/models/{name}",
        responses=V2_ERRORS,
        summary="V2 model metadata",
        openapi_extra={"x-data-plane": True},
    )
    async def v2_model(request: Request, name: str) -> Response:
        return await model_metadata(request, name, None)

    @router.get(
        "/v2/models/{name}/versions/{version}",
        responses=V2_ERRORS,
        summary="V2 model version metadata",
        openapi_extra={"x-data-plane": True},
    )
    async def v2_model_version(request: Request, name: str, version: str) -> Response:
        return await model_metadata(request, name, version)

    @router.get(
        "/v2/models/{name}/ready",
        responses=V2_ERRORS,
        summary="V2 model readiness",
        openapi_extra={"x-data-plane": True},
    )
    async def v2_model_ready(request: Request, name: str) -> Response:
        return await model_ready(request, name, None)

    @router.get(
        "/v2/models/{name}/versions/{version}/ready",
        responses=V2_ERRORS,
        summary="V2 model version readiness",
        openapi_extra={"x-data-plane": True},
    )
    async def v2_model_version_ready(request: Request, name: str, version: str) -> Response:
        return await model_ready(request, name, version)

    @router.post(
        "/v2/models/{name}/infer", responses=V2_ERRORS, summary="V2 inference", openapi_extra=infer_docs
    )
    async def v2_infer(request: Request, name: str) -> Response:
        return await infer(request, name, None)

    @router.post(
        "/v2/models/{name}/versions/{version}/infer",
        responses=V2_ERRORS,
        summary="V2 inference on a version",
        openapi_extra=infer_docs,
    )
    async def v2_infer_version(request: Request, name: str, version: str) -> Response:
        return await infer(request, name, version)

    # -- MLflow scoring ------------------------------------------------------------------------------
    async def invocations(request: Request, name: str | None) -> Response:
        reply = await protocols.invocations(
            get_manager(request), name, request.headers, _reader(request), max_body_bytes
        )
        return _response(reply)

    invocation_docs = {
        **read_only,
        "requestBody": {
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
            }
        },
    }

    @router.post(
        "/invocations",
        responses=MLFLOW_ERRORS,
        summary="MLflow scoring (the only endpoint)",
        openapi_extra=invocation_docs,
    )
    async def mlflow_invocations(request: Request) -> Response:
        return await invocations(request, None)

    @router.post(
        "/endpoints/{name}/invocations",
        responses=MLFLOW_ERRORS,
        summary="MLflow scoring on an endpoint",
        openapi_extra=invocation_docs,
    )
    async def endpoint_invocations(request: Request, name: str) -> Response:
        return await invocations(request, name)

    @router.get(
        "/ping",
        summary="MLflow-style liveness (503 while an endpoint has no model loaded)",
        response_class=PlainTextResponse,
        responses={503: {"description": "An endpoint is still loading", "content": {"text/plain": {}}}},
        openapi_extra={"x-data-plane": True},
    )
    async def ping(request: Request) -> Response:
        ready = all(e.active is not None for e in get_manager(request).endpoints.values())
        return PlainTextResponse("\n", status_code=200 if ready else 503)

    # -- native ------------------------------------------------------------------------------------------
    native_docs = {
        **read_only,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "rows": {"type": "array", "items": {"type": "object"}},
                            "columns": {"type": "object"},
                            "data": {"type": "array"},
                            "id": {"type": "string"},
                        },
                    }
                }
            },
        },
        "parameters": [
            {
                "name": "probabilities",
                "in": "query",
                "required": False,
                "schema": {"type": "boolean", "default": True},
                "description": "Include class probabilities (costs a second pass for some models).",
            }
        ],
    }

    @router.post("/endpoints/{name}/predict", summary="Predict (native API)", openapi_extra=native_docs)
    async def native_predict(request: Request, name: str) -> Response:
        reply = await protocols.native_predict(
            get_manager(request),
            name,
            request.headers,
            request.query_params,
            _reader(request),
            max_body_bytes,
        )
        return _response(reply)

    # -- feedback ----------------------------------------------------------------------------------------
    @router.post(
        "/endpoints/{name}/feedback",
        summary="Send the true label of past predictions",
        response_model=FeedbackAccepted,
        dependencies=list(feedback_dependencies),
        openapi_extra={"x-data-plane": True},
    )
    async def feedback(request: Request, name: str, body: FeedbackBody) -> FeedbackAccepted:
        manager = get_manager(request)
        manager.get(name)  # 404 for an unknown endpoint
        if manager.predlog is None:
            raise StateConflictError(
                "the prediction log is off here, so feedback cannot be stored", field="name"
            )
        items = body.items()
        await run_in_threadpool(store_feedback, manager.predlog, name, items, body.at)
        return FeedbackAccepted(endpoint=name, accepted=len(items))

    # -- metrics ---------------------------------------------------------------------------------------
    @router.get(
        "/metrics",
        summary="Prometheus metrics of the data plane",
        response_class=PlainTextResponse,
        responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}},
        openapi_extra={"x-data-plane": True},
    )
    async def metrics(request: Request) -> Response:
        return Response(get_manager(request).metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return router
