"""Endpoint configuration: REST, SDK and CLI; validation; feedback; the prediction log's contents."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

from shipyard.cli import app
from shipyard.client import RemoteClient
from shipyard.core.platform import Platform
from shipyard.server import create_app
from shipyard.testing.servers import live_server
from shipyard.testing.serving import breast_cancer, forest
from tests import live_http

from .conftest import wait_serving


def test_endpoint_lifecycle_over_rest(serving_url: str) -> None:
    with live_http.Client(base_url=serving_url, timeout=30) as client:
        created = client.post(
            "/api/v1/endpoints",
            json={
                "name": "rf",
                "model_uri": "models:/cancer-rf/1",
                "sample_rate": 0.5,
                "redact": ["mean area"],
            },
        )
        assert created.status_code == 201, created.text
        body = wait_serving(client, "rf", "1")
        assert body["sample_rate"] == 0.5 and body["redact"] == ["mean area"]
        assert body["urls"]["predict"] == "/endpoints/rf/predict"
        assert (
            client.post(
                "/api/v1/endpoints", json={"name": "rf", "model_uri": "models:/cancer-rf/1"}
            ).status_code
            == 409
        )
        listed = client.get("/api/v1/endpoints").json()["endpoints"]
        assert [e["name"] for e in listed] == ["rf"]
        changed = client.patch("/api/v1/endpoints/rf", json={"model_uri": "models:/cancer-lr@live"})
        assert changed.status_code == 200
        assert wait_serving(client, "rf", model="cancer-lr")["status"]["model_name"] == "cancer-lr"
        assert client.delete("/api/v1/endpoints/rf").status_code == 204
        assert client.get("/api/v1/endpoints/rf").status_code == 404
        assert client.post("/endpoints/rf/predict", json={"rows": [{}]}).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "a/b", "model_uri": "models:/cancer-rf/1"}, "name"),
        ({"name": "x", "model_uri": "file:///etc/passwd"}, "model_uri"),
        ({"name": "x", "model_uri": "/tmp/model"}, "model_uri"),
        ({"name": "x", "model_uri": "models:/no-such-model/1"}, "model_uri"),
        ({"name": "x", "model_uri": "models:/cancer-rf@no-such-alias"}, "model_uri"),
        ({"name": "x", "model_uri": "models:/cancer-rf/1", "sample_rate": 2}, "sample_rate"),
        ({"name": "x", "model_uri": "models:/cancer-rf/1", "max_batch_rows": 0}, "max_batch_rows"),
    ],
)
def test_bad_endpoint_settings_are_refused_with_the_field(serving_url: str, body: dict, field: str) -> None:
    response = live_http.post(f"{serving_url}/api/v1/endpoints", json=body, timeout=60)
    assert 400 <= response.status_code < 500, response.text
    assert field in (response.json().get("field") or response.json()["message"])


def test_predictions_and_feedback_reach_the_log(serving_platform: Platform, registered: dict) -> None:
    x, y = breast_cancer()
    app = create_app(platform=serving_platform)
    with live_server(app) as url, RemoteClient(url) as client, live_http.Client(base_url=url) as http:
        client.create_endpoint("rf", "models:/cancer-rf@live", redact=["mean area"])
        wait_serving(http, "rf")
        answer = client.predict("rf", x.head(3))
        assert answer["predictions"] == forest().predict(x.head(3)).tolist()
        for row in range(3):
            assert client.send_feedback("rf", answer["request_id"], int(y.iloc[row]), row=row) == 1
        table = app.state.serving.predlog.labelled("rf")  # the server's own log (it holds the lock)
    mine = table.filter(pc.equal(table["request_id"], answer["request_id"]))
    assert mine.num_rows == 3
    assert "input.mean area" not in mine.column_names and "input.mean radius" in mine.column_names
    assert sorted(mine.column("row").to_pylist()) == [0, 1, 2]
    assert mine.column("model_version").to_pylist() == ["1"] * 3
    assert [float(v) for v in mine.column("label").to_pylist()] == [float(v) for v in y.iloc[:3]]


def test_cli_endpoints_commands(serving_url: str) -> None:
    runner = CliRunner()
    env = {"SHIPYARD_TRACKING_URI": serving_url}
    created = runner.invoke(
        app, ["endpoints", "create", "lr", "--model", "models:/cancer-lr@live", "--json"], env=env
    )
    assert created.exit_code == 0, created.output
    with live_http.Client(base_url=serving_url) as http:
        wait_serving(http, "lr")
    listed = runner.invoke(app, ["endpoints", "list"], env=env)
    assert listed.exit_code == 0 and "lr" in listed.output and "ready" in listed.output
    x, _ = breast_cancer()
    predicted = runner.invoke(
        app, ["endpoints", "predict", "lr", json.dumps(x.head(1).to_dict(orient="records"))], env=env
    )
    assert predicted.exit_code == 0 and "predictions" in predicted.output, predicted.output
    bad = subprocess.run(
        [sys.executable, "-m", "shipyard", "endpoints", "create", "x", "--model", "file:///etc/passwd"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1 and "model_uri" in bad.stderr and "Traceback" not in bad.stderr
    assert runner.invoke(app, ["endpoints", "delete", "lr"], env=env).exit_code == 0
