"""The data plane's routes: Open Inference Protocol V2, MLflow scoring, the native API, /metrics.

Routes are thin: decode with the protocol's codec, predict through the endpoint's runtime, encode.
Each protocol answers errors in its own shape (V2 ``{"error"}``, MLflow ``{"error_code",
"message"}``, native = the platform's error shape), with the status the error carries: bad input
400, unknown model or version 404, oversized body 413, wrong content type 415.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from shipyard.core.errors import InvalidParameterError, NotFoundError, ShipyardError, StateConflictError
from shipyard.serving.batching import BatcherClosedError
from shipyard.serving.codecs import mlflow as mlflow_codec
from shipyard.serving.codecs import native as native_codec
from shipyard.serving.codecs import v2 as v2_codec
from shipyard.serving.feedback import FeedbackAccepted, FeedbackBody
from shipyard.serving.http import Call, check_content_type, new_request_id, read_body, run_inference
from shipyard.serving.manager import ServingManager
from shipyard.serving.metrics import CONTENT_TYPE_LATEST

__all__ = ["data_plane_router"]

logger = logging.getLogger(__name__)

V2_TYPES = ("application/json", "application/octet-stream")
JSON = "application/json"


def _v2_error(exc: BaseException) -> Response:
    status = exc.status_code if isinstance(exc, ShipyardError) else 500
    return Response(v2_codec.encode_error(str(exc)), status_code=status, media_type=JSON)


def _model_error(exc: Exception) -> ShipyardError:
    """What the model raised for one request's rows is a problem with that input: 400, not 500."""
    if isinstance(exc, ShipyardError):
        return exc
    if isinstance(exc, BatcherClosedError):
        return ShipyardError(str(exc))
    return InvalidParameterError(
        f"the model could not predict this input: {type(exc).__name__}: {exc}", field="inputs"
    )


def data_plane_router(
    get_manager: Callable[[Request], ServingManager],
    *,
    max_body_bytes: int,
    dependencies: Sequence[Any] = (),
    feedback_dependencies: Sequence[Any] = (),
) -> APIRouter:
    router = APIRouter(dependencies=list(dependencies), tags=["serving"])
    read_only = {"x-read-only": True, "x-data-plane": True}

    # -- Open Inference Protocol V2 ----------------------------------------------------------------
    @router.get("/v2", summary="V2 server metadata", openapi_extra={"x-data-plane": True})
    async def v2_server(request: Request) -> Response:
        from shipyard._version import __version__

        body = {"name": "shipyard", "version": __version__, "extensions": ["binary_tensor_data"]}
        return Response(orjson.dumps(body), media_type=JSON)

    @router.get("/v2/health/live", summary="V2 server liveness", openapi_extra={"x-data-plane": True})
    async def v2_live() -> Response:
        return Response(b'{"live":true}', media_type=JSON)

    @router.get("/v2/health/ready", summary="V2 server readiness", openapi_extra={"x-data-plane": True})
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
        manager = get_manager(request)
        call = Call.begin(name, "v2")
        try:
            endpoint = manager.get(name)
            runtime = call.use(endpoint.runtime(version))
            check_content_type(request, V2_TYPES)
            body = await read_body(request, max_body_bytes)
            header = request.headers.get("inference-header-content-length")
            decoded = v2_codec.decode_request(body, header)
            rows = v2_codec.request_to_rows(decoded, runtime.signature)
            wanted = {o.name for o in decoded.outputs} if decoded.outputs else {"predict"}
            unknown = wanted - {"predict", "predict_proba"}
            if unknown:
                raise InvalidParameterError(
                    f"unknown output(s) {', '.join(sorted(unknown))}; this model has predict"
                    + (", predict_proba" if runtime.has_probabilities else ""),
                    field="outputs",
                )
            if "predict_proba" in wanted and not runtime.has_probabilities:
                raise InvalidParameterError("this model has no predict_proba output", field="outputs")
            request_id = decoded.id or new_request_id()
            try:
                prediction = await run_inference(
                    call,
                    endpoint,
                    runtime,
                    rows,
                    request_id=request_id,
                    want_probabilities="predict_proba" in wanted,
                )
            except Exception as exc:
                raise _model_error(exc) from None
            outputs = []
            if "predict" in wanted:
                outputs.append(("predict", prediction.predictions))
            if "predict_proba" in wanted and prediction.probabilities is not None:
                outputs.append(("predict_proba", prediction.probabilities))
            payload, headers = v2_codec.encode_response(
                model_name=name,
                model_version=runtime.ref.version,
                request_id=decoded.id,
                outputs=outputs,
                request=decoded,
            )
        except ShipyardError as exc:
            call.finish(manager, exc.status_code)
            return _v2_error(exc)
        call.finish(manager, 200)
        headers = {**headers, "x-request-id": request_id}
        return Response(payload, headers=headers, media_type=headers.pop("content-type", JSON))

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

    @router.get("/v2/models/{name}", summary="V2 model metadata", openapi_extra={"x-data-plane": True})
    async def v2_model(request: Request, name: str) -> Response:
        return await model_metadata(request, name, None)

    @router.get(
        "/v2/models/{name}/versions/{version}",
        summary="V2 model version metadata",
        openapi_extra={"x-data-plane": True},
    )
    async def v2_model_version(request: Request, name: str, version: str) -> Response:
        return await model_metadata(request, name, version)

    @router.get("/v2/models/{name}/ready", summary="V2 model readiness", openapi_extra={"x-data-plane": True})
    async def v2_model_ready(request: Request, name: str) -> Response:
        return await model_ready(request, name, None)

    @router.get(
        "/v2/models/{name}/versions/{version}/ready",
        summary="V2 model version readiness",
        openapi_extra={"x-data-plane": True},
    )
    async def v2_model_version_ready(request: Request, name: str, version: str) -> Response:
        return await model_ready(request, name, version)

    @router.post("/v2/models/{name}/infer", summary="V2 inference", openapi_extra=infer_docs)
    async def v2_infer(request: Request, name: str) -> Response:
        return await infer(request, name, None)

    @router.post(
        "/v2/models/{name}/versions/{version}/infer",
        summary="V2 inference on a version",
        openapi_extra=infer_docs,
    )
    async def v2_infer_version(request: Request, name: str, version: str) -> Response:
        return await infer(request, name, version)

    # -- MLflow scoring ------------------------------------------------------------------------------
    async def invocations(request: Request, name: str | None) -> Response:
        manager = get_manager(request)
        if name is None:
            if len(manager.endpoints) != 1:
                error = mlflow_codec.ScoringError(
                    404,
                    "ENDPOINT_NOT_FOUND",
                    f"{len(manager.endpoints)} endpoints are served here; "
                    "post to /endpoints/NAME/invocations",
                )
                return Response(mlflow_codec.error_body(error), status_code=404, media_type=JSON)
            name = next(iter(manager.endpoints))
        call = Call.begin(name, "mlflow")
        try:
            endpoint = manager.get(name)
            runtime = call.use(endpoint.runtime())
            body = await read_body(request, max_body_bytes)
            rows, _params = mlflow_codec.decode_invocations(
                body, request.headers.get("content-type"), runtime.signature
            )
            try:
                prediction = await run_inference(
                    call, endpoint, runtime, rows, request_id=new_request_id(), want_probabilities=False
                )
            except Exception as exc:
                raise _model_error(exc) from None
            payload = mlflow_codec.encode_predictions(prediction.predictions)
        except mlflow_codec.ScoringError as exc:
            call.finish(manager, exc.status)
            return Response(mlflow_codec.error_body(exc), status_code=exc.status, media_type=exc.content_type)
        except ShipyardError as exc:
            call.finish(manager, exc.status_code)
            error = mlflow_codec.ScoringError(exc.status_code, _mlflow_code(exc), str(exc))
            return Response(mlflow_codec.error_body(error), status_code=exc.status_code, media_type=JSON)
        call.finish(manager, 200)
        return Response(payload, media_type=JSON)

    invocation_docs = {
        **read_only,
        "requestBody": {
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
            }
        },
    }

    @router.post("/invocations", summary="MLflow scoring (the only endpoint)", openapi_extra=invocation_docs)
    async def mlflow_invocations(request: Request) -> Response:
        return await invocations(request, None)

    @router.post(
        "/endpoints/{name}/invocations",
        summary="MLflow scoring on an endpoint",
        openapi_extra=invocation_docs,
    )
    async def endpoint_invocations(request: Request, name: str) -> Response:
        return await invocations(request, name)

    @router.get("/ping", summary="MLflow-style liveness", openapi_extra={"x-data-plane": True})
    async def ping(request: Request) -> Response:
        manager = get_manager(request)
        ready = bool(manager.endpoints) and all(e.active is not None for e in manager.endpoints.values())
        return Response(b"\n", status_code=200 if ready else 503, media_type=JSON)

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
        manager = get_manager(request)
        call = Call.begin(name, "native")
        try:
            endpoint = manager.get(name)
            runtime = call.use(endpoint.runtime())
            check_content_type(request, (JSON,))
            body = await read_body(request, max_body_bytes)
            rows, caller_id = native_codec.decode_native(body, runtime.signature)
            want_probabilities = request.query_params.get("probabilities", "true").lower() not in (
                "false",
                "0",
            )
            request_id = caller_id or new_request_id()
            try:
                prediction = await run_inference(
                    call,
                    endpoint,
                    runtime,
                    rows,
                    request_id=request_id,
                    want_probabilities=want_probabilities and runtime.has_probabilities,
                )
            except Exception as exc:
                raise _model_error(exc) from None
        except ShipyardError as exc:
            call.finish(manager, exc.status_code)
            raise
        payload = native_codec.encode_native(
            predictions=prediction.predictions,
            probabilities=prediction.probabilities,
            classes=runtime.classes,
            model_name=runtime.ref.name,
            model_version=runtime.ref.version,
            request_id=request_id,
        )
        call.finish(manager, 200)
        return Response(payload, media_type=JSON, headers={"x-request-id": request_id})

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
        await run_in_threadpool(
            manager.predlog.add_feedback,
            name,
            [i.request_id for i in items],
            [i.label for i in items],
            rows=[i.row for i in items],
            at=body.at,
        )
        return FeedbackAccepted(endpoint=name, accepted=len(items))

    # -- metrics ---------------------------------------------------------------------------------------
    @router.get(
        "/metrics", summary="Prometheus metrics of the data plane", openapi_extra={"x-data-plane": True}
    )
    async def metrics(request: Request) -> Response:
        return Response(get_manager(request).metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return router


def _mlflow_code(exc: ShipyardError) -> str:
    if isinstance(exc, NotFoundError):
        return "RESOURCE_DOES_NOT_EXIST"
    if exc.status_code == 413:
        return "REQUEST_LIMIT_EXCEEDED"
    if exc.status_code == 415:
        return "BAD_REQUEST"
    return "BAD_REQUEST" if exc.status_code < 500 else "INTERNAL_ERROR"
