"""The three protocols on a live server, with real clients: tritonclient, MLflow bodies, native."""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shipyard.core.config import Settings
from shipyard.core.platform import Platform
from shipyard.server import create_app
from shipyard.testing.servers import live_server
from shipyard.testing.serving import breast_cancer, forest, pipeline
from tests.conftest import BACKENDS, TemplateDatabases
from tests.serving.conftest import create_endpoints, register_models

post = functools.partial(httpx.post, timeout=60)
get = functools.partial(httpx.get, timeout=60)
tritonhttp = pytest.importorskip("tritonclient.http")


@pytest.fixture(scope="module", params=BACKENDS)
def endpoints_ready(
    request: pytest.FixtureRequest,
    template_databases: TemplateDatabases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """One server with endpoints ``rf`` and ``lr`` per backend for this module (its tests only call them)."""
    folder: Path = tmp_path_factory.mktemp(f"protocols-{request.param}")
    settings = Settings(
        home=folder / "home",
        database_url=template_databases.clone(request.param, folder / "db"),
        artifact_root=str(folder / "artifacts"),
        serving_poll_seconds=0.1,
    )
    with Platform.open(settings) as platform:
        register_models(platform)
        with live_server(create_app(platform=platform)) as url:
            create_endpoints(url)
            yield url


@pytest.fixture
def rows() -> object:
    x, _ = breast_cancer()
    return x.iloc[:5]


def _triton(url: str) -> object:
    return tritonhttp.InferenceServerClient(url=urlsplit(url).netloc)


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_tritonclient_round_trip(endpoints_ready: str, rows: object, binary: bool) -> None:
    client = _triton(endpoints_ready)
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("rf") and client.is_model_ready("rf", "1")
    assert not client.is_model_ready("rf", "99")
    metadata = client.get_model_metadata("rf")
    assert metadata["name"] == "rf" and metadata["versions"] == ["1"]
    assert [o["name"] for o in metadata["outputs"]] == ["predict", "predict_proba"]
    data = rows.to_numpy(dtype=np.float64)
    tensor = tritonhttp.InferInput("input-0", list(data.shape), "FP64")
    tensor.set_data_from_numpy(data, binary_data=binary)
    outputs = [
        tritonhttp.InferRequestedOutput("predict", binary_data=binary),
        tritonhttp.InferRequestedOutput("predict_proba", binary_data=binary),
    ]
    result = client.infer("rf", [tensor], outputs=outputs, request_id="req-42")
    assert result.get_response()["id"] == "req-42"
    np.testing.assert_array_equal(result.as_numpy("predict"), forest().predict(rows))
    np.testing.assert_allclose(result.as_numpy("predict_proba"), forest().predict_proba(rows))
    # Defaults: binary inputs, no outputs named → all default outputs.
    default = client.infer("lr", [tensor])
    np.testing.assert_array_equal(default.as_numpy("predict"), pipeline().predict(rows))


def test_tritonclient_columns_as_separate_tensors(endpoints_ready: str, rows: object) -> None:
    client = _triton(endpoints_ready)
    inputs = []
    for column in rows.columns:
        tensor = tritonhttp.InferInput(column, [len(rows)], "FP64")
        tensor.set_data_from_numpy(rows[column].to_numpy(dtype=np.float64))
        inputs.append(tensor)
    result = client.infer("lr", inputs, model_version="1")
    np.testing.assert_array_equal(result.as_numpy("predict"), pipeline().predict(rows))


def test_tritonclient_errors(endpoints_ready: str, rows: object) -> None:
    client = _triton(endpoints_ready)
    tensor = tritonhttp.InferInput("input-0", [1, 3], "FP64")
    tensor.set_data_from_numpy(np.ones((1, 3)))
    with pytest.raises(tritonhttp.InferenceServerException) as wrong_shape:
        client.infer("rf", [tensor])
    assert wrong_shape.value.status() == "400"
    with pytest.raises(tritonhttp.InferenceServerException) as unknown:
        client.infer("nope", [tensor])
    assert unknown.value.status() == "404"


def _mlflow_body(rows: object, form: str) -> tuple[bytes, str]:
    if form == "csv":
        buffer = io.StringIO()
        rows.to_csv(buffer, index=False)
        return buffer.getvalue().encode(), "text/csv"
    if form == "dataframe_split":
        payload = {"dataframe_split": rows.to_dict(orient="split", index=False)}
    elif form in ("dataframe_records", "instances"):
        payload = {form: rows.to_dict(orient="records")}
    else:
        payload = {"inputs": rows.to_dict(orient="list")}
    return httpx.Request("POST", "/", json=payload).content, "application/json"


def test_mlflow_invocations_formats(endpoints_ready: str, rows: object) -> None:
    expected = {"predictions": pipeline().predict(rows).tolist()}
    for form in ("dataframe_split", "dataframe_records", "instances", "inputs", "csv"):
        content, content_type = _mlflow_body(rows, form)
        response = post(
            f"{endpoints_ready}/endpoints/lr/invocations",
            content=content,
            headers={"content-type": content_type},
        )
        assert response.status_code == 200, (form, response.text)
        assert response.json() == expected, form


def test_mlflow_invocations_errors_match_mlflow(endpoints_ready: str) -> None:
    url = f"{endpoints_ready}/endpoints/lr/invocations"
    two_keys = post(url, json={"instances": [], "inputs": []})
    assert two_keys.status_code == 400 and two_keys.json()["error_code"] == "BAD_REQUEST"
    wrong_type = post(url, content=b"hello", headers={"content-type": "text/plain"})
    assert wrong_type.status_code == 415
    missing = post(url, json={"dataframe_records": [{"mean radius": 1.0}]})
    assert missing.status_code == 400 and "missing" in missing.json()["message"]
    several = post(f"{endpoints_ready}/invocations", json={"instances": [[1.0]]})
    assert several.status_code == 404  # two endpoints here: /invocations is ambiguous


def test_native_predict_returns_version_probabilities_and_request_id(
    endpoints_ready: str, rows: object
) -> None:
    body = {"rows": rows.to_dict(orient="records"), "id": "caller-7"}
    response = post(f"{endpoints_ready}/endpoints/rf/predict", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["model_version"] == "1" and answer["request_id"] == "caller-7"
    assert answer["predictions"] == forest().predict(rows).tolist()
    np.testing.assert_allclose(answer["probabilities"], forest().predict_proba(rows))
    columns = {"columns": rows.to_dict(orient="list")}
    by_columns = post(f"{endpoints_ready}/endpoints/rf/predict", json=columns).json()
    assert by_columns["predictions"] == answer["predictions"] and by_columns["request_id"] != "caller-7"


def test_metrics_parse_as_prometheus_text(endpoints_ready: str, rows: object) -> None:
    body = {"rows": rows.to_dict(orient="records")}
    for _ in range(3):
        assert post(f"{endpoints_ready}/endpoints/lr/predict", json=body).status_code == 200
    post(f"{endpoints_ready}/endpoints/lr/predict", json={"rows": [{"nope": 1}]})
    text = get(f"{endpoints_ready}/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    # The module's other tests call "lr" too (MLflow and V2 protocols): count the native requests.
    native = [
        s
        for s in families["shipyard_serving_requests"].samples
        if s.labels.get("endpoint") == "lr" and s.labels.get("protocol") == "native"
    ]
    ok = [s for s in native if s.labels.get("status") == "200"]
    bad = [s for s in native if s.labels.get("status") == "400"]
    assert ok and ok[0].value >= 3 and bad and bad[0].value >= 1
    assert ok[0].labels["version"] == "1"
    for name in (
        "shipyard_serving_request_duration_seconds",
        "shipyard_serving_batch_size",
        "shipyard_serving_queue_seconds",
        "shipyard_serving_model_load_seconds",
        "shipyard_serving_models_loaded",
        "shipyard_serving_cost_per_1000_predictions",
        "shipyard_serving_uptime_seconds",
        "process_resident_memory_bytes",
        "process_cpu_seconds",
    ):
        assert name in families, name
    loaded = families["shipyard_serving_models_loaded"].samples[0].value
    assert loaded == 2
