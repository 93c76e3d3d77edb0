"""The three inference protocols, free of any web framework: headers and a body in, a ``Reply`` out.

Both transports use these: the FastAPI routes (documented, behind the control plane's auth) and the
inference path of ``shipyard serve`` (``serving/fastpath.py`` as ASGI, ``serving/wire.py`` straight
from the HTTP parser), which skips the framework's middleware and routing because at one-row
requests they cost more than the model's share. Each
protocol answers errors in its own shape (V2 ``{"error"}``, MLflow ``{"error_code", "message"}``,
native = the platform's shape) with the status the error carries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import orjson

from shipyard.core.audit import current_request_id
from shipyard.core.errors import (
    InvalidParameterError,
    NotFoundError,
    PayloadTooLargeError,
    ShipyardError,
    UnsupportedMediaTypeError,
)
from shipyard.serving.batching import BatcherClosedError
from shipyard.serving.codecs import mlflow as mlflow_codec
from shipyard.serving.codecs import native as native_codec
from shipyard.serving.codecs import v2 as v2_codec
from shipyard.serving.codecs.native import REQUEST_ID_PATTERN
from shipyard.serving.http import Call, new_request_id, run_inference
from shipyard.serving.manager import ServingManager

__all__ = ["JSON", "Reply", "invocations", "native_predict", "v2_infer"]

JSON = "application/json"
V2_TYPES = ("application/json", "application/octet-stream")
BodyReader = Callable[[int], Awaitable[bytes]]  # reads the whole body, at most the given bytes


@dataclass
class Reply:
    status: int
    body: bytes
    media_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


def media_type_of(headers: Mapping[str, str], allowed: tuple[str, ...]) -> str | None:
    """The request's media type if allowed; none given is allowed (tritonclient sends none)."""
    raw = headers.get("content-type")
    if not raw:
        return None
    media = raw.split(";", 1)[0].strip().lower()
    if media not in allowed:
        raise UnsupportedMediaTypeError(
            f"content type {media!r} is not accepted here; send one of {', '.join(allowed)}",
            field="Content-Type",
        )
    return media


def _model_error(exc: Exception) -> ShipyardError:
    """What the model raised for one request's rows is a problem with that input: 400, not 500."""
    if isinstance(exc, ShipyardError):
        return exc
    if isinstance(exc, BatcherClosedError):
        return ShipyardError(str(exc))
    return InvalidParameterError(
        f"the model could not predict this input: {type(exc).__name__}: {exc}", field="inputs"
    )


def platform_error(exc: ShipyardError) -> Reply:
    body = {"error_code": exc.error_code, "message": exc.message, "field": exc.field}
    body["request_id"] = current_request_id.get()
    return Reply(exc.status_code, orjson.dumps(body))


async def v2_infer(
    manager: ServingManager,
    name: str,
    version: str | None,
    headers: Mapping[str, str],
    read: BodyReader,
    limit: int,
) -> Reply:
    call = Call.begin(name, "v2")
    try:
        endpoint = manager.get(name)
        runtime = call.use(endpoint.runtime(version))  # held before the first await
        media_type_of(headers, V2_TYPES)
        decoded = v2_codec.decode_request(await read(limit), headers.get("inference-header-content-length"))
        rows = v2_codec.request_to_rows(decoded, runtime.signature)
        wanted = {o.name for o in decoded.outputs} if decoded.outputs else {"predict"}
        known = {"predict", "predict_proba"} if runtime.has_probabilities else {"predict"}
        if wanted - known:
            raise InvalidParameterError(
                f"unknown output(s) {', '.join(sorted(wanted - known))}; "
                f"this model has {', '.join(sorted(known))}",
                field="outputs",
            )
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
        outputs = [("predict", prediction.predictions)] if "predict" in wanted else []
        if "predict_proba" in wanted and prediction.probabilities is not None:
            outputs.append(("predict_proba", prediction.probabilities))
        payload, extra = v2_codec.encode_response(
            model_name=name,
            model_version=runtime.ref.version,
            request_id=decoded.id,
            outputs=outputs,
            request=decoded,
        )
    except ShipyardError as exc:
        call.finish(manager, exc.status_code)
        return Reply(exc.status_code, v2_codec.encode_error(str(exc)))
    call.finish(manager, 200)
    media = extra.pop("content-type", JSON)
    if REQUEST_ID_PATTERN.fullmatch(request_id):  # V2 ids are free text: only a safe one goes in a header
        extra["x-request-id"] = request_id
    return Reply(200, payload, media, extra)


def _mlflow_code(exc: ShipyardError) -> str:
    if isinstance(exc, NotFoundError):
        return "RESOURCE_DOES_NOT_EXIST"
    if isinstance(exc, PayloadTooLargeError):
        return "REQUEST_LIMIT_EXCEEDED"
    return "BAD_REQUEST" if exc.status_code < 500 else "INTERNAL_ERROR"


async def invocations(
    manager: ServingManager, name: str | None, headers: Mapping[str, str], read: BodyReader, limit: int
) -> Reply:
    if name is None:
        if len(manager.endpoints) != 1:
            error = mlflow_codec.ScoringError(
                404,
                "ENDPOINT_NOT_FOUND",
                f"{len(manager.endpoints)} endpoints are served here; post to /endpoints/NAME/invocations",
            )
            return Reply(404, mlflow_codec.error_body(error))
        name = next(iter(manager.endpoints))
    call = Call.begin(name, "mlflow")
    try:
        endpoint = manager.get(name)
        runtime = call.use(endpoint.runtime())
        body = await read(limit)
        rows, _params = mlflow_codec.decode_invocations(body, headers.get("content-type"), runtime.signature)
        try:
            prediction = await run_inference(
                call, endpoint, runtime, rows, request_id=new_request_id(), want_probabilities=False
            )
        except Exception as exc:
            raise _model_error(exc) from None
        payload = mlflow_codec.encode_predictions(prediction.predictions)
    except mlflow_codec.ScoringError as exc:
        call.finish(manager, exc.status)
        return Reply(exc.status, mlflow_codec.error_body(exc), exc.content_type)
    except ShipyardError as exc:
        call.finish(manager, exc.status_code)
        error = mlflow_codec.ScoringError(exc.status_code, _mlflow_code(exc), str(exc))
        return Reply(exc.status_code, mlflow_codec.error_body(error))
    call.finish(manager, 200)
    return Reply(200, payload)


async def native_predict(
    manager: ServingManager,
    name: str,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    read: BodyReader,
    limit: int,
) -> Reply:
    call = Call.begin(name, "native")
    try:
        endpoint = manager.get(name)
        runtime = call.use(endpoint.runtime())
        media_type_of(headers, (JSON,))
        rows, caller_id = native_codec.decode_native(await read(limit), runtime.signature)
        want = query.get("probabilities", "true").lower() not in ("false", "0")
        request_id = caller_id or new_request_id()
        try:
            prediction = await run_inference(
                call,
                endpoint,
                runtime,
                rows,
                request_id=request_id,
                want_probabilities=want and runtime.has_probabilities,
            )
        except Exception as exc:
            raise _model_error(exc) from None
        payload = native_codec.encode_native(
            predictions=prediction.predictions,
            probabilities=prediction.probabilities,
            classes=runtime.classes,
            model_name=runtime.ref.name,
            model_version=runtime.ref.version,
            request_id=request_id,
        )
    except ShipyardError as exc:
        call.finish(manager, exc.status_code)
        return platform_error(exc)
    call.finish(manager, 200)
    return Reply(200, payload, JSON, {"x-request-id": request_id})
