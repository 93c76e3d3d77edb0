"""MLflow tracking REST endpoints (``/api/2.0/mlflow/...``) over Shipyard's tracking services."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from shipyard.compat.mlflow._wire import (
    READ_ONLY,
    Params,
    as_list,
    empty_response,
    experiment_json,
    float_json,
    json_response,
    key_values,
    logged_model_json,
    metric_points,
    optional,
    required,
    run_info_json,
    run_json,
    string,
)
from shipyard.core.deps import EditorDep, PlatformDep, ViewerDep
from shipyard.core.errors import InvalidParameterError
from shipyard.core.schemas import API_ERRORS
from shipyard.tracking import experiments, logged_models, runs, search
from shipyard.tracking._common import to_int

__all__ = ["router"]

router = APIRouter(prefix="/api/2.0/mlflow", tags=["mlflow"], responses=API_ERRORS)


def _run_id(params: Params) -> str:
    return string(params, "run_id", "run_uuid")


def _int(params: Params, name: str, default: int | None = None) -> int | None:
    value = optional(params, name)
    return default if value is None else to_int(value, field=name)


# -- experiments ----------------------------------------------------------------------------------
@router.get("/experiments/get-by-name", summary="MLflow: get an experiment by name")
def get_experiment_by_name(params: Params, platform: PlatformDep, _: ViewerDep) -> Response:
    with platform.database.session() as session:
        experiment = experiments.get_experiment_by_name(session, string(params, "experiment_name"))
        tags = experiments.get_experiment_tags(session, [experiment.id])[experiment.id]
        return json_response({"experiment": experiment_json(experiment, tags)})


@router.get("/experiments/get", summary="MLflow: get an experiment")
def get_experiment(params: Params, platform: PlatformDep, _: ViewerDep) -> Response:
    with platform.database.session() as session:
        experiment = experiments.get_experiment(session, required(params, "experiment_id"))
        tags = experiments.get_experiment_tags(session, [experiment.id])[experiment.id]
        return json_response({"experiment": experiment_json(experiment, tags)})


@router.post("/experiments/create", summary="MLflow: create an experiment")
def create_experiment(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    # artifact_location is ignored on purpose: artifacts live in the server's own store.
    with platform.database.session(write=True) as session:
        experiment = experiments.create_experiment(
            session, actor=actor, name=string(params, "name"), tags=key_values(params, "tags")
        )
        return json_response({"experiment_id": str(experiment.id)})


@router.post("/experiments/search", summary="MLflow: search experiments", openapi_extra=READ_ONLY)
@router.get(
    "/experiments/search", summary="MLflow: search experiments", operation_id="search_experiments_get"
)
def search_experiments(params: Params, platform: PlatformDep, _: ViewerDep) -> Response:
    with platform.database.session() as session:
        page = experiments.search_experiments(
            session,
            view_type=optional(params, "view_type"),
            max_results=_int(params, "max_results", 1000) or 1000,
            filter_string=optional(params, "filter"),
            order_by=as_list(params, "order_by"),
            page_token=optional(params, "page_token"),
        )
        tags = experiments.get_experiment_tags(session, [e.id for e in page.experiments])
        body: dict[str, object] = {"experiments": [experiment_json(e, tags[e.id]) for e in page.experiments]}
        if page.next_page_token:
            body["next_page_token"] = page.next_page_token
        return json_response(body)


@router.post("/experiments/update", summary="MLflow: rename an experiment")
def update_experiment(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        experiments.rename_experiment(
            session,
            actor=actor,
            experiment_id=required(params, "experiment_id"),
            new_name=string(params, "new_name"),
        )
    return empty_response()


@router.post("/experiments/delete", summary="MLflow: delete an experiment")
def delete_experiment(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        experiments.delete_experiment(session, actor=actor, experiment_id=required(params, "experiment_id"))
    return empty_response()


@router.post("/experiments/restore", summary="MLflow: restore an experiment")
def restore_experiment(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        experiments.restore_experiment(session, actor=actor, experiment_id=required(params, "experiment_id"))
    return empty_response()


@router.post("/experiments/set-experiment-tag", summary="MLflow: set an experiment tag")
def set_experiment_tag(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        experiments.set_experiment_tag(
            session,
            actor=actor,
            experiment_id=required(params, "experiment_id"),
            key=string(params, "key"),
            value=str(required(params, "value")),
        )
    return empty_response()


@router.post("/experiments/delete-experiment-tag", summary="MLflow: delete an experiment tag")
def delete_experiment_tag(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        experiments.delete_experiment_tag(
            session, actor=actor, experiment_id=required(params, "experiment_id"), key=string(params, "key")
        )
    return empty_response()


# -- runs -----------------------------------------------------------------------------------------
@router.post("/runs/create", summary="MLflow: create a run")
def create_run(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        tags = key_values(params, "tags")
        run = runs.create_run(
            session,
            actor=actor,
            experiment_id=optional(params, "experiment_id", "0"),
            run_name=optional(params, "run_name"),
            start_time=_int(params, "start_time"),
            user_id=optional(params, "user_id"),
            tags=tags,
        )
        return json_response({"run": run_json(runs.new_run_record(run, tags))})


@router.get("/runs/get", summary="MLflow: get a run")
def get_run(params: Params, platform: PlatformDep, _: ViewerDep) -> Response:
    with platform.database.session() as session:
        return json_response({"run": run_json(runs.get_run_record(session, _run_id(params)))})


@router.post("/runs/update", summary="MLflow: update a run's status, end time or name")
def update_run(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        run = runs.update_run(
            session,
            actor=actor,
            run_id=_run_id(params),
            status=optional(params, "status"),
            end_time=_int(params, "end_time"),
            run_name=optional(params, "run_name"),
        )
        return json_response({"run_info": run_info_json(run)})


@router.post("/runs/delete", summary="MLflow: delete a run")
def delete_run(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        runs.delete_run(session, actor=actor, run_id=_run_id(params))
    return empty_response()


@router.post("/runs/restore", summary="MLflow: restore a run")
def restore_run(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        runs.restore_run(session, actor=actor, run_id=_run_id(params))
    return empty_response()


@router.post("/runs/log-parameter", summary="MLflow: log a parameter")
def log_parameter(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    key = string(params, "key")
    value = required(params, "value") if params.get("value") != "" else ""
    with platform.database.session(write=True) as session:
        runs.log_batch(session, actor=actor, run_id=_run_id(params), params=[(key, value)])
    return empty_response()


@router.post("/runs/log-metric", summary="MLflow: log a metric")
def log_metric(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    point = dict(params)
    point.setdefault("key", None)
    if point.get("timestamp") in (None, ""):
        raise InvalidParameterError("Missing value for required parameter 'timestamp'", field="timestamp")
    (metric,) = metric_points([point])
    with platform.database.session(write=True) as session:
        runs.log_batch(session, actor=actor, run_id=_run_id(params), metrics=[metric])
    return empty_response()


@router.post("/runs/log-batch", summary="MLflow: log metrics, params and tags in one request")
def log_batch(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    metrics = metric_points(as_list(params, "metrics"))
    param_items = [
        (str(p.get("key")), p.get("value")) for p in as_list(params, "params") if isinstance(p, dict)
    ]
    tags = key_values(params, "tags")
    with platform.database.session(write=True) as session:
        runs.log_batch(
            session, actor=actor, run_id=_run_id(params), metrics=metrics, params=param_items, tags=tags
        )
    return empty_response()


@router.post("/runs/set-tag", summary="MLflow: set a run tag")
def set_tag(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        runs.set_tag(
            session,
            actor=actor,
            run_id=_run_id(params),
            key=string(params, "key"),
            value=str(optional(params, "value", "")),
        )
    return empty_response()


@router.post("/runs/delete-tag", summary="MLflow: delete a run tag")
def delete_tag(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        runs.delete_tag(session, actor=actor, run_id=_run_id(params), key=string(params, "key"))
    return empty_response()


@router.post("/runs/search", summary="MLflow: search runs", openapi_extra=READ_ONLY)
def search_runs(params: Params, platform: PlatformDep, _: ViewerDep) -> Response:
    with platform.database.session() as session:
        records, token = search.search_runs(
            session,
            experiment_ids=as_list(params, "experiment_ids"),
            filter_string=optional(params, "filter"),
            run_view_type=optional(params, "run_view_type"),
            max_results=_int(params, "max_results", 1000) or 1000,
            order_by=as_list(params, "order_by"),
            page_token=optional(params, "page_token"),
        )
        body: dict[str, object] = {"runs": [run_json(record) for record in records]}
        if token:
            body["next_page_token"] = token
        return json_response(body)


@router.get("/metrics/get-history", summary="MLflow: the full history of a metric")
def get_metric_history(params: Params, platform: PlatformDep, _: ViewerDep) -> Response:
    key = string(params, "metric_key")
    with platform.database.session() as session:
        points, token = runs.get_metric_history(
            session,
            run_id=_run_id(params),
            key=key,
            max_results=_int(params, "max_results"),
            page_token=optional(params, "page_token"),
        )
    body: dict[str, object] = {
        "metrics": [
            {"key": key, "value": float_json(value, is_nan), "timestamp": timestamp, "step": step}
            for value, is_nan, timestamp, step in points
        ]
    }
    if token:
        body["next_page_token"] = token
    return json_response(body)


@router.post("/runs/log-inputs", summary="MLflow: record the datasets a run used")
def log_inputs(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    datasets = [d for d in as_list(params, "datasets") if isinstance(d, dict)]
    with platform.database.session(write=True) as session:
        runs.log_inputs(session, actor=actor, run_id=_run_id(params), datasets=datasets)
    return empty_response()


@router.post("/runs/outputs", summary="MLflow: record the models a run produced")
def log_outputs(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    models = []
    for position, item in enumerate(as_list(params, "models")):
        if not isinstance(item, dict) or not item.get("model_id"):
            raise InvalidParameterError(
                f"Missing value for required parameter 'models[{position}].model_id'",
                field=f"models[{position}].model_id",
            )
        models.append((str(item["model_id"]), to_int(item.get("step"), field="step", default=0)))
    with platform.database.session(write=True) as session:
        runs.log_outputs(session, actor=actor, run_id=_run_id(params), models=models)
    return empty_response()


# -- logged models --------------------------------------------------------------------------------
def _model_body(session: Session, model_id: str) -> Response:
    record = logged_models.load_model_records(session, [logged_models.get_logged_model(session, model_id)])[0]
    return json_response({"model": logged_model_json(record)})


@router.post("/logged-models", summary="MLflow: create a logged model")
def create_logged_model(params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        model = logged_models.create_logged_model(
            session,
            actor=actor,
            experiment_id=required(params, "experiment_id"),
            name=optional(params, "name"),
            model_type=optional(params, "model_type"),
            source_run_id=optional(params, "source_run_id"),
            params=key_values(params, "params"),
            tags=key_values(params, "tags"),
        )
        return _model_body(session, model.id)


@router.post("/logged-models/search", summary="MLflow: search logged models", openapi_extra=READ_ONLY)
def search_logged_models(params: Params, platform: PlatformDep, _: ViewerDep) -> Response:
    with platform.database.session() as session:
        records, token = logged_models.search_logged_models(
            session,
            experiment_ids=as_list(params, "experiment_ids"),
            filter_string=optional(params, "filter"),
            max_results=_int(params, "max_results", 100) or 100,
            page_token=optional(params, "page_token"),
        )
        body: dict[str, object] = {"models": [logged_model_json(record) for record in records]}
        if token:
            body["next_page_token"] = token
        return json_response(body)


@router.get("/logged-models/{model_id}", summary="MLflow: get a logged model")
def get_logged_model(model_id: str, platform: PlatformDep, _: ViewerDep) -> Response:
    with platform.database.session() as session:
        return _model_body(session, model_id)


@router.patch("/logged-models/{model_id}", summary="MLflow: finalize a logged model (READY or FAILED)")
def finalize_logged_model(model_id: str, params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        logged_models.finalize_logged_model(
            session, actor=actor, model_id=model_id, status=string(params, "status")
        )
        return _model_body(session, model_id)


@router.delete("/logged-models/{model_id}", summary="MLflow: delete a logged model")
def delete_logged_model(model_id: str, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        logged_models.delete_logged_model(session, actor=actor, model_id=model_id)
    return empty_response()


@router.patch("/logged-models/{model_id}/tags", summary="MLflow: set tags on a logged model")
def set_logged_model_tags(model_id: str, params: Params, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        logged_models.set_logged_model_tags(
            session, actor=actor, model_id=model_id, tags=key_values(params, "tags")
        )
    return empty_response()


@router.delete("/logged-models/{model_id}/tags/{key}", summary="MLflow: delete a tag of a logged model")
def delete_logged_model_tag(model_id: str, key: str, platform: PlatformDep, actor: EditorDep) -> Response:
    with platform.database.session(write=True) as session:
        logged_models.delete_logged_model_tag(session, actor=actor, model_id=model_id, key=key)
    return empty_response()


@router.post("/logged-models/{model_id}/params", summary="MLflow: log params of a logged model")
def log_logged_model_params(
    model_id: str, params: Params, platform: PlatformDep, actor: EditorDep
) -> Response:
    with platform.database.session(write=True) as session:
        logged_models.log_model_params(
            session, actor=actor, model_id=model_id, params=key_values(params, "params")
        )
    return empty_response()
