"""Acceptance: MLflow's own Python client, unchanged, against Shipyard's tracking API."""

from __future__ import annotations

import math
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

from shipyard.core.platform import Platform


def test_fluent_run_with_everything(mlflow_url: str, tmp_path: Path) -> None:
    mlflow.set_experiment("churn")
    with mlflow.start_run(run_name="parent") as parent:
        mlflow.log_param("lr", 0.1)
        mlflow.log_params({"depth": 3, "n_estimators": 100})
        for step, loss in enumerate([0.9, 0.5, 0.25]):
            mlflow.log_metric("loss", loss, step=step)
        mlflow.log_metrics(
            {"acc": 0.91, "nan_metric": float("nan"), "inf_metric": float("inf"), "neg_inf": float("-inf")}
        )
        mlflow.set_tag("team", "risk")
        mlflow.set_tags({"stage": "dev", "owner": "ana"})
        mlflow.log_dict({"features": ["age", "tenure"]}, "config/features.json")
        mlflow.log_text("a note", "notes.txt")
        (tmp_path / "report.csv").write_text("a,b\n1,2\n")
        (tmp_path / "plots").mkdir()
        (tmp_path / "plots" / "roc.txt").write_text("roc")
        mlflow.log_artifact(str(tmp_path / "report.csv"))
        mlflow.log_artifacts(str(tmp_path / "plots"), artifact_path="plots")
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metric("child_metric", 1.0)

    client = MlflowClient()
    run = client.get_run(parent.info.run_id)
    assert run.info.status == "FINISHED" and run.info.end_time is not None
    assert run.info.run_name == "parent"
    assert run.data.params == {"lr": "0.1", "depth": "3", "n_estimators": "100"}
    assert run.data.metrics["loss"] == 0.25 and run.data.metrics["acc"] == 0.91
    assert math.isnan(run.data.metrics["nan_metric"])
    assert run.data.metrics["inf_metric"] == math.inf and run.data.metrics["neg_inf"] == -math.inf
    assert run.data.tags["team"] == "risk" and run.data.tags["owner"] == "ana"
    assert client.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == parent.info.run_id
    history = client.get_metric_history(parent.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 0.9), (1, 0.5), (2, 0.25)]
    assert sorted(f.path for f in client.list_artifacts(parent.info.run_id)) == [
        "config",
        "notes.txt",
        "plots",
        "report.csv",
    ]
    assert [f.path for f in client.list_artifacts(parent.info.run_id, "plots")] == ["plots/roc.txt"]
    assert mlflow.artifacts.load_text(f"runs:/{parent.info.run_id}/notes.txt") == "a note"
    assert mlflow.artifacts.load_dict(f"runs:/{parent.info.run_id}/config/features.json") == {
        "features": ["age", "tenure"]
    }
    downloaded = client.download_artifacts(parent.info.run_id, "plots", str(tmp_path / "dl"))
    assert (Path(downloaded) / "roc.txt").read_text() == "roc"


def test_log_batch_and_history_paging(mlflow_url: str) -> None:
    client = MlflowClient()
    experiment_id = client.create_experiment("batch")
    run = client.create_run(experiment_id)
    metrics = [Metric("m", float(i), 1_700_000_000_000 + i, i) for i in range(2500)]
    client.log_batch(run.info.run_id, metrics=metrics, params=[Param("p", "1")], tags=[RunTag("t", "x")])
    history = client.get_metric_history(run.info.run_id, "m")
    assert len(history) == 2500 and history[-1].value == 2499.0
    assert client.get_run(run.info.run_id).data.metrics["m"] == 2499.0


def test_search_runs_filters_order_and_paging(mlflow_url: str) -> None:
    client = MlflowClient()
    experiment_id = client.create_experiment("search")
    for index in range(12):
        run = client.create_run(
            experiment_id, run_name=f"run-{index:02d}", start_time=1_700_000_000_000 + index
        )
        client.log_param(run.info.run_id, "model", "rf" if index % 2 else "lr")
        client.log_metric(run.info.run_id, "acc", index / 20, timestamp=1_700_000_000_000, step=0)
        if index % 3 == 0:
            client.set_tag(run.info.run_id, "flag", "yes")
    found = client.search_runs(
        [experiment_id], "metrics.acc >= 0.3 and params.model = 'rf'", order_by=["metrics.acc DESC"]
    )
    assert [r.info.run_name for r in found] == ["run-11", "run-09", "run-07"]
    assert len(client.search_runs([experiment_id], "tags.flag = 'yes'")) == 4
    assert len(client.search_runs([experiment_id], "tags.flag IS NULL")) == 8
    assert len(client.search_runs([experiment_id], "attributes.run_name LIKE 'run-0%'")) == 10
    assert len(client.search_runs([experiment_id], "params.model ILIKE 'RF'")) == 6
    page = client.search_runs([experiment_id], max_results=5, order_by=["attributes.start_time ASC"])
    assert [r.info.run_name for r in page] == [f"run-{i:02d}" for i in range(5)] and page.token
    second = client.search_runs(
        [experiment_id], max_results=5, order_by=["attributes.start_time ASC"], page_token=page.token
    )
    assert [r.info.run_name for r in second] == [f"run-{i:02d}" for i in range(5, 10)]
    frame = mlflow.search_runs(experiment_ids=[experiment_id], filter_string="metrics.acc < 0.1")
    assert sorted(frame["tags.mlflow.runName"]) == ["run-00", "run-01"]
    ids = [r.info.run_id for r in found[:2]]
    assert {
        r.info.run_id
        for r in client.search_runs([experiment_id], f"attributes.run_id IN ('{ids[0]}', '{ids[1]}')")
    } == set(ids)


def test_experiments_lifecycle(mlflow_url: str) -> None:
    client = MlflowClient()
    experiment_id = client.create_experiment("lifecycle", tags={"team": "a"})
    client.set_experiment_tag(experiment_id, "owner", "ana")
    client.rename_experiment(experiment_id, "lifecycle-2")
    experiment = client.get_experiment_by_name("lifecycle-2")
    assert experiment.experiment_id == experiment_id and experiment.tags == {"team": "a", "owner": "ana"}
    client.delete_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "deleted"
    client.restore_experiment(experiment_id)
    names = [e.name for e in client.search_experiments(filter_string="name LIKE 'life%'")]
    assert names == ["lifecycle-2"]
    assert client.get_experiment("0").name == "Default"
    run = client.create_run(experiment_id)
    client.delete_run(run.info.run_id)
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    client.restore_run(run.info.run_id)
    client.set_tag(run.info.run_id, "x", "1")
    client.delete_tag(run.info.run_id, "x")
    assert "x" not in client.get_run(run.info.run_id).data.tags


def test_log_input_dataset(mlflow_url: str) -> None:
    import pandas as pd

    frame = pd.DataFrame({"a": [1, 2, 3], "b": [0.1, 0.2, 0.3]})
    dataset = mlflow.data.from_pandas(frame, name="train-v1")
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
    inputs = MlflowClient().get_run(run.info.run_id).inputs.dataset_inputs
    assert [i.dataset.name for i in inputs] == ["train-v1"]
    assert inputs[0].dataset.digest == dataset.digest
    found = MlflowClient().search_runs([run.info.experiment_id], "datasets.name = 'train-v1'")
    assert [r.info.run_id for r in found] == [run.info.run_id]
    assert MlflowClient().search_runs([run.info.experiment_id], "datasets.context = 'training'")


def test_sklearn_model_logged_and_loaded(mlflow_url: str) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(features, labels)
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(model, name="model", input_example=features[:2])
    assert info.model_uri.startswith("models:/m-")
    for uri in (info.model_uri, f"runs:/{run.info.run_id}/model"):
        loaded = mlflow.pyfunc.load_model(uri)
        np.testing.assert_array_equal(loaded.predict(features[:10]), model.predict(features[:10]))


def test_bad_input_is_rejected_like_mlflow(mlflow_url: str, platform: Platform) -> None:
    client = MlflowClient()
    run = client.create_run("0")
    client.log_param(run.info.run_id, "p", "1")
    client.log_param(run.info.run_id, "p", "1")  # same value again is fine
    with pytest.raises(MlflowException, match="Changing param values is not allowed") as changed:
        client.log_param(run.info.run_id, "p", "2")
    assert changed.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as missing:
        client.get_run("0" * 32)
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException, match=r"metrics\.acc >>") as bad_filter:
        client.search_runs(["0"], "metrics.acc >> 1")
    assert bad_filter.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as exists:
        client.create_experiment("Default")
    assert exists.value.error_code == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(MlflowException, match="at most 1000 metrics"):
        client._tracking_client.store.log_batch(
            run.info.run_id, [Metric("m", 1.0, 1, i) for i in range(1001)], [], []
        )
    assert client.get_run(run.info.run_id).data.metrics == {}, "a rejected batch writes nothing"
