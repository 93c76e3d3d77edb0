"""Evaluation maths against a worked example and scikit-learn, gates, plots and logging to a run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.datasets import load_iris, make_regression
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression

from shipyard import beats, evaluate
from shipyard._client.embedded import EmbeddedClient
from shipyard.core.errors import InvalidParameterError
from shipyard.core.platform import Platform
from shipyard.tracking.evaluation_output import log_evaluation, report_table, save_plots


class Fixed:
    """A 'model' that returns given predictions, for worked examples."""

    def __init__(self, predictions: list[int]) -> None:
        self.predictions = np.asarray(predictions)

    def predict(self, features: object) -> np.ndarray:
        return self.predictions


def test_binary_worked_example() -> None:
    truth = [1, 1, 1, 0, 0, 0, 0, 0]
    report = evaluate({"m": Fixed([1, 1, 0, 1, 0, 0, 0, 0])}, np.zeros((8, 1)), truth, baseline="none")
    m = report.row("m").metrics
    assert (m["tp"], m["fn"], m["fp"], m["tn"]) == (2, 1, 1, 4)
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert m["precision"] == pytest.approx(2 / 3) and m["sensitivity"] == pytest.approx(2 / 3)
    assert m["specificity"] == pytest.approx(4 / 5)
    assert m["type_i_error_rate"] == pytest.approx(1 / 5) and m["type_ii_error_rate"] == pytest.approx(1 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    assert np.isnan(m["roc_auc"]), "no scores, no AUC"
    assert report.row("m").confusion_matrix == [[4, 1], [1, 2]]


def test_multiclass_matches_sklearn_macro_averages() -> None:
    features, labels = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=1000).fit(features, labels)
    report = evaluate({"logreg": model}, features, labels)
    predicted = model.predict(features)
    precision, recall, f1, _ = skm.precision_recall_fscore_support(labels, predicted, average="macro")
    row = report.row("logreg").metrics
    assert row["precision"] == pytest.approx(precision) and row["sensitivity"] == pytest.approx(recall)
    assert row["f1"] == pytest.approx(f1)
    assert row["roc_auc"] == pytest.approx(
        skm.roc_auc_score(labels, model.predict_proba(features), multi_class="ovr")
    )
    baseline = report.row("baseline (majority class)").metrics
    dummy = DummyClassifier(strategy="most_frequent").fit(features, labels)
    assert baseline["accuracy"] == pytest.approx(skm.accuracy_score(labels, dummy.predict(features)))
    assert report.best("f1").name == "logreg"
    gate = beats(report, "logreg", metric="f1", by=0.3)
    assert gate.passed and "beats baseline (majority class)" in gate.message
    assert not beats(report, "logreg", metric="f1", by=0.99).passed
    assert beats(report, "logreg", metric="type_i_error_rate").passed, "lower is better for error rates"


def test_regression_matches_sklearn() -> None:
    features, targets = make_regression(n_samples=300, n_features=4, noise=5, random_state=1)
    model = LinearRegression().fit(features, targets)
    report = evaluate({"ols": model}, features, targets)
    assert report.task == "regression"
    row = report.row("ols").metrics
    assert row["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(targets, model.predict(features))))
    assert row["r2"] == pytest.approx(skm.r2_score(targets, model.predict(features)))
    assert report.row("baseline (mean)").metrics["r2"] == pytest.approx(0.0, abs=1e-12)
    assert beats(report, "ols", metric="rmse", by=1.0).passed


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"targets": []}, "targets"),
        ({"targets": [0, 1]}, "targets"),
        ({"baseline": "median"}, "baseline"),
        ({"candidates": {"x": object()}}, "model"),
        ({"candidates": {}}, "candidates"),
    ],
)
def test_bad_input(kwargs: dict[str, object], field: str) -> None:
    arguments = {"candidates": {"m": Fixed([0, 1, 0])}, "features": np.zeros((3, 1)), "targets": [0, 1, 1]}
    arguments.update(kwargs)
    with pytest.raises(InvalidParameterError) as caught:
        evaluate(
            arguments.pop("candidates"), arguments.pop("features"), arguments.pop("targets"), **arguments
        )
    assert caught.value.field == field


def test_plots_table_and_run_logging(platform: Platform, tmp_path: Path) -> None:
    features, labels = load_iris(return_X_y=True)
    binary = labels == 2
    report = evaluate({"logreg": LogisticRegression(max_iter=200).fit(features, binary)}, features, binary)
    paths = save_plots(report, tmp_path / "plots")
    assert sorted(p.name for p in paths) == [
        "confusion_matrix_baseline_majority_class.png",
        "confusion_matrix_logreg.png",
        "roc.png",
    ]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
    assert report_table(report).row_count == 12
    with (
        EmbeddedClient(platform, owns_platform=False) as client,
        client.start_run("eval", capture_environment=False) as run,
    ):
        log_evaluation(run, report)
    stored = client.get_run(run.run_id)
    assert stored.metrics["eval.logreg.roc_auc"] > 0.9
    written = client.download_run_file(run.run_id, "evaluation/evaluation.json", tmp_path / "e.json")
    assert json.loads(written.read_text())["candidates"][0]["name"] == "logreg"
    client.download_run_file(run.run_id, "evaluation/roc.png", tmp_path / "roc.png")


def test_runs_compare_cli(server_url: str) -> None:
    from shipyard import Client

    with Client(server_url) as client:
        ids = []
        for lr in ("0.1", "0.01"):
            with client.start_run("cmp", capture_environment=False) as run:
                run.log_params({"lr": lr, "depth": 3})
                run.log_metric("auc", 0.8 if lr == "0.1" else 0.85)
            ids.append(run.run_id)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["SHIPYARD_TRACKING_URI"] = server_url
    result = subprocess.run(
        [sys.executable, "-m", "shipyard", "runs", "compare", *ids],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "lr *" in result.stdout and "depth *" not in result.stdout and "0.85" in result.stdout
    single = subprocess.run(
        [sys.executable, "-m", "shipyard", "runs", "compare", ids[0]],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert single.returncode == 2 and "at least two" in single.stderr
