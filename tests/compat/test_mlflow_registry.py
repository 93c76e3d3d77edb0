"""Acceptance: MLflow's client against Shipyard's registry, including protected-alias approvals."""

from __future__ import annotations

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from shipyard.core.platform import Platform
from shipyard.registry import aliases


@pytest.fixture(scope="module")
def iris_model() -> tuple[LogisticRegression, np.ndarray]:
    features, labels = load_iris(return_X_y=True)
    return LogisticRegression(max_iter=500).fit(features, labels), features


def test_log_register_alias_and_load(
    mlflow_url: str, iris_model: tuple[LogisticRegression, np.ndarray]
) -> None:
    model, features = iris_model
    with mlflow.start_run() as run:
        mlflow.log_metric("accuracy", 0.97)
        mlflow.sklearn.log_model(
            model, name="model", input_example=features[:2], registered_model_name="iris"
        )
    with mlflow.start_run():
        mlflow.sklearn.log_model(model, name="model", registered_model_name="iris")
    client = MlflowClient()
    found = client.search_model_versions("name = 'iris'")
    assert sorted(v.version for v in found) == ["1", "2"]
    assert {v.run_id for v in found if v.version == "1"} == {run.info.run_id}
    client.set_registered_model_alias("iris", "champion", "1")
    client.set_registered_model_alias("iris", "challenger", "2")
    assert client.get_model_version_by_alias("iris", "champion").version == "1"
    assert client.get_registered_model("iris").aliases == {"champion": "1", "challenger": "2"}
    expected = model.predict(features[:5])
    for uri in ("models:/iris@champion", "models:/iris/2", "models:/iris/latest"):
        np.testing.assert_array_equal(mlflow.pyfunc.load_model(uri).predict(features[:5]), expected)
    client.delete_registered_model_alias("iris", "challenger")
    with pytest.raises(MlflowException, match="alias challenger not found"):
        client.get_model_version_by_alias("iris", "challenger")


def test_stages_rename_tags_and_delete(
    mlflow_url: str, iris_model: tuple[LogisticRegression, np.ndarray]
) -> None:
    model, _ = iris_model
    with mlflow.start_run():
        mlflow.sklearn.log_model(model, name="model", registered_model_name="staged")
    client = MlflowClient()
    with pytest.warns(FutureWarning, match="stages"):  # MLflow deprecates stages; we still serve them
        client.transition_model_version_stage("staged", "1", "Production")
    with pytest.warns(FutureWarning, match="stages"):
        assert [v.version for v in client.get_latest_versions("staged", ["Production"])] == ["1"]
    client.set_registered_model_tag("staged", "team", "risk")
    client.set_model_version_tag("staged", "1", "validated", "yes")
    client.update_registered_model("staged", description="for the churn use case")
    client.rename_registered_model("staged", "churn")
    renamed = client.get_registered_model("churn")
    assert renamed.tags == {"team": "risk"} and renamed.description == "for the churn use case"
    assert client.get_model_version("churn", "1").tags == {"validated": "yes"}
    assert [m.name for m in client.search_registered_models("name LIKE 'ch%'")] == ["churn"]
    client.delete_model_version("churn", "1")
    client.delete_registered_model("churn")
    with pytest.raises(MlflowException) as gone:
        client.get_registered_model("churn")
    assert gone.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_sources_outside_the_server_are_refused(mlflow_url: str, tmp_path) -> None:
    client = MlflowClient()
    client.create_registered_model("guarded")
    run = client.create_run("0")
    other = client.create_run("0")
    for source in (
        str(tmp_path),
        f"file://{tmp_path}",
        "s3://bucket/model",
        "http://example.org/model",
        f"mlflow-artifacts:/0/{other.info.run_id}/artifacts/model",
    ):
        with pytest.raises(MlflowException, match="Invalid model version source") as refused:
            client.create_model_version("guarded", source, run_id=run.info.run_id)
        assert refused.value.error_code == "INVALID_PARAMETER_VALUE"
    assert client.search_model_versions("name = 'guarded'") == []


def test_protected_alias_needs_an_approver(
    auth_server_url: str,
    auth_platform: Platform,
    tokens: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    iris_model: tuple[LogisticRegression, np.ndarray],
) -> None:
    model, _ = iris_model
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", tokens["editor"])
    mlflow.set_tracking_uri(auth_server_url)
    try:
        with mlflow.start_run():
            mlflow.log_metric("accuracy", 0.93)
            mlflow.sklearn.log_model(model, name="model", registered_model_name="fraud")
        editor = MlflowClient(auth_server_url)
        editor.set_registered_model_alias("fraud", "challenger", "1")  # unprotected: applied at once
        with pytest.raises(MlflowException, match=r"approval request #\d+") as pending:
            editor.set_registered_model_alias("fraud", "champion", "1")
        assert pending.value.error_code == "PERMISSION_DENIED"
        assert "champion" not in editor.get_registered_model("fraud").aliases
        from shipyard.core.auth import Principal, Role

        approver = Principal("test-approver", Role.APPROVER)
        with auth_platform.database.session(write=True) as session:
            (request,) = aliases.list_requests(session, name="fraud")
            assert request.metrics == {"accuracy": 0.93}
            aliases.decide_request(
                session,
                actor=approver,
                request_id=request.id,
                approve=True,
                reason="beats the baseline on the holdout",
            )
        assert editor.get_model_version_by_alias("fraud", "champion").version == "1"
        with auth_platform.database.session() as session:
            history = aliases.alias_history(session, name="fraud", alias="champion")
        assert [(e.version, e.requested_by, e.approved_by) for e in history] == [
            (1, "test-editor", "test-approver")
        ]
    finally:
        mlflow.set_tracking_uri(None)
