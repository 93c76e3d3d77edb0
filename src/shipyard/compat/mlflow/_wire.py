"""MLflow's wire conventions: GET fields in the query string, JSON bodies otherwise, proto3 JSON out.

Numbers that JSON cannot carry (NaN, ±inf) travel as the strings MLflow uses ("NaN", "Infinity").
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Depends, Request, Response

from shipyard.core.errors import InvalidParameterError, UnsupportedMediaTypeError
from shipyard.tracking._common import json_float as float_json
from shipyard.tracking._common import to_float, to_int
from shipyard.tracking.logged_models import LoggedModelRecord
from shipyard.tracking.runs import MetricPoint, RunInfo, RunRecord
from shipyard.tracking.tables import Experiment, Run

__all__ = [
    "READ_ONLY",
    "Params",
    "as_list",
    "empty_response",
    "experiment_json",
    "float_json",
    "json_response",
    "key_values",
    "logged_model_json",
    "metric_points",
    "optional",
    "read_params",
    "required",
    "run_info_json",
    "run_json",
    "string",
]


# POST routes that only read (searches): the common route checks treat them as reads.
READ_ONLY = {"x-read-only": True}


async def read_params(request: Request) -> dict[str, Any]:
    """The request's fields: query parameters for GET, the JSON object body for other methods."""
    if request.method in ("GET", "HEAD"):
        params: dict[str, Any] = {}
        for key, value in request.query_params.multi_items():
            if key in params:
                previous = params[key]
                params[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
            else:
                params[key] = value
        return params
    body = await request.body()
    if not body:
        return {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise UnsupportedMediaTypeError(
            "Content-Type must be one of ['application/json']", field="Content-Type"
        )
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidParameterError(f"Malformed JSON in the request body: {exc}", field="body") from None
    if not isinstance(parsed, dict):
        raise InvalidParameterError("The request body must be a JSON object", field="body")
    return parsed


def required(params: dict[str, Any], name: str, *alternatives: str) -> Any:
    for key in (name, *alternatives):
        value = params.get(key)
        if value not in (None, ""):
            return value
    raise InvalidParameterError(f"Missing value for required parameter '{name}'", field=name)


def optional(params: dict[str, Any], name: str, default: Any = None) -> Any:
    value = params.get(name)
    return default if value in (None, "") else value


def string(params: dict[str, Any], name: str, *alternatives: str) -> str:
    value = required(params, name, *alternatives)
    if not isinstance(value, str):
        raise InvalidParameterError(
            f"Invalid value {value!r} for parameter '{name}': expected a string", field=name
        )
    return value


def as_list(params: dict[str, Any], name: str) -> list[Any]:
    value = params.get(name)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def key_values(params: dict[str, Any], name: str) -> dict[str, str]:
    """``[{"key": k, "value": v}, …]`` as a dict; each entry must have a key."""
    result = {}
    for position, item in enumerate(as_list(params, name)):
        if not isinstance(item, dict) or not item.get("key"):
            raise InvalidParameterError(
                f"Missing value for required parameter '{name}[{position}].key'",
                field=f"{name}[{position}].key",
            )
        result[str(item["key"])] = "" if item.get("value") is None else str(item["value"])
    return result


def metric_points(items: list[Any]) -> list[MetricPoint]:
    points = []
    for position, item in enumerate(items):
        where = f"metrics[{position}]"
        if not isinstance(item, dict):
            raise InvalidParameterError(
                f"Invalid value for parameter '{where}': expected an object", field=where
            )
        key = item.get("key")
        if not isinstance(key, str) or not key:
            raise InvalidParameterError(
                f"Missing value for required parameter '{where}.key'", field=f"{where}.key"
            )
        if item.get("value") is None:
            raise InvalidParameterError(
                f"Missing value for required parameter '{where}.value'", field=f"{where}.value"
            )
        points.append(
            MetricPoint(
                key=key,
                value=to_float(item["value"], field=f"{where}.value"),
                timestamp=to_int(item.get("timestamp"), field=f"{where}.timestamp"),
                step=to_int(item.get("step"), field=f"{where}.step", default=0),
                model_id=item.get("model_id") or None,
                dataset_name=item.get("dataset_name") or None,
                dataset_digest=item.get("dataset_digest") or None,
            )
        )
    return points


def empty_response() -> Response:
    """MLflow's answer to calls that return nothing: ``{}``."""
    return Response(b"{}", media_type="application/json")


def json_response(content: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status_code, media_type="application/json")


def _pairs(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in values.items()]


def experiment_json(experiment: Experiment, tags: dict[str, str]) -> dict[str, Any]:
    return {
        "experiment_id": str(experiment.id),
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": experiment.lifecycle_stage,
        "last_update_time": experiment.last_update_time,
        "creation_time": experiment.creation_time,
        "tags": _pairs(tags),
    }


def run_info_json(run: Run | RunInfo) -> dict[str, Any]:
    info: dict[str, Any] = {
        "run_id": run.id,
        "run_uuid": run.id,
        "run_name": run.name,
        "experiment_id": str(run.experiment_id),
        "user_id": run.user_id,
        "status": run.status,
        "start_time": run.start_time,
        "artifact_uri": run.artifact_uri,
        "lifecycle_stage": run.lifecycle_stage,
    }
    if run.end_time is not None:
        info["end_time"] = run.end_time
    return info


_INFINITY = float("inf")


def _dataset_json(dataset: Any, tags: list[dict[str, Any]]) -> dict[str, Any]:
    fields = (
        ("name", dataset.name),
        ("digest", dataset.digest),
        ("source_type", dataset.source_type),
        ("source", dataset.source),
        ("schema", dataset.schema),
        ("profile", dataset.profile),
    )
    return {"tags": tags, "dataset": {key: value for key, value in fields if value is not None}}


def run_json(record: RunRecord) -> dict[str, Any]:
    """A run in MLflow's JSON: proto3 JSON leaves out empty lists (a run without params has no
    "params"). MLflow's server writes ``"inputs": {}`` and ``"outputs": {}`` for a run without any;
    they are left out here, which the client reads as the same empty messages (``Run.from_proto``
    builds empty ``RunInputs``/``RunOutputs`` either way) while parsing a search's answer ~20 %
    faster. A search answers with hundreds of these, so the common case (finite values, no inputs or
    outputs) is built inline."""
    data: dict[str, Any] = {}
    if record.metrics:
        data["metrics"] = [
            {
                "key": m.key,
                "value": m.value
                if not m.is_nan and -_INFINITY < m.value < _INFINITY
                else float_json(m.value, m.is_nan),
                "timestamp": m.timestamp,
                "step": m.step,
            }
            for m in record.metrics
        ]
    if record.params:
        data["params"] = [{"key": key, "value": value} for key, value in record.params.items()]
    if record.tags:
        data["tags"] = [{"key": key, "value": value} for key, value in record.tags.items()]
    run: dict[str, Any] = {"info": run_info_json(record.run), "data": data}
    if record.inputs:
        run["inputs"] = {"dataset_inputs": [_dataset_json(d, tags) for d, tags in record.inputs]}
    if record.outputs:
        run["outputs"] = {"model_outputs": [{"model_id": o.model_id, "step": o.step} for o in record.outputs]}
    return run


def logged_model_json(
    record: LoggedModelRecord, registrations: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    model = record.model
    info: dict[str, Any] = {
        "model_id": model.id,
        "experiment_id": str(model.experiment_id),
        "name": model.name,
        "creation_timestamp_ms": model.creation_time,
        "last_updated_timestamp_ms": model.last_updated_time,
        "artifact_uri": model.artifact_location,
        "status": model.status,
        "tags": _pairs(record.tags),
        "registrations": registrations or [],
    }
    for key, value in (
        ("model_type", model.model_type),
        ("source_run_id", model.source_run_id),
        ("status_message", model.status_message),
    ):
        if value:
            info[key] = value
    metrics = [
        {
            key: value
            for key, value in (
                ("key", m.key),
                ("value", float_json(m.value, m.is_nan)),
                ("timestamp", m.timestamp),
                ("step", m.step),
                ("run_id", m.run_id),
                ("model_id", m.model_id),
                ("dataset_name", m.dataset_name),
                ("dataset_digest", m.dataset_digest),
            )
            if value is not None
        }
        for m in record.metrics
    ]
    return {"info": info, "data": {"params": _pairs(record.params), "metrics": metrics}}


Params = Annotated[dict[str, Any], Depends(read_params)]
