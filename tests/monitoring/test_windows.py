"""Window scoring on tables shaped like the prediction log: metrics equal scikit-learn's, every task."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn import metrics

from shipyard.monitoring.drift import compute_drift
from shipyard.monitoring.profile import ReferenceProfile
from shipyard.monitoring.windows import classification_metrics, regression_metrics, score_window

RNG_SEED = 7


def log_table(
    inputs: dict[str, np.ndarray], outputs: dict[str, np.ndarray], labels: list[object]
) -> pa.Table:
    n = len(labels)
    columns: dict[str, object] = {
        "received_at": pa.array(np.arange(n, dtype=np.int64) * 10_000, pa.timestamp("us", tz="UTC")),
        "model_version": ["3"] * n,
        "latency_ms": np.linspace(1.0, 100.0, n),
    }
    columns.update({f"input.{k}": v for k, v in inputs.items()})
    columns.update({f"output.{k}": v for k, v in outputs.items()})
    columns["label"] = pa.array(labels)
    return pa.table(columns)


def test_regression_window_matches_sklearn_and_scores_prediction_drift() -> None:
    rng = np.random.default_rng(RNG_SEED)
    x = rng.normal(size=3000)
    reference = ReferenceProfile.from_frame(pd.DataFrame({"x": x, "target": 2 * x + rng.normal(size=3000)}))
    current = rng.normal(0.3, size=1500)
    truth = 2 * current + rng.normal(size=1500)
    prediction = 2 * current
    labels: list[object] = [float(v) if i % 3 else None for i, v in enumerate(truth)]
    table = log_table({"x": current}, {"prediction": prediction}, labels)
    score = score_window(table, reference, target_column="target")
    mask = np.array([v is not None for v in labels])
    assert score.task == "regression" and score.labelled_rows == int(mask.sum())
    assert score.performance["mae"] == pytest.approx(
        metrics.mean_absolute_error(truth[mask], prediction[mask])
    )
    assert score.performance["rmse"] == pytest.approx(
        math.sqrt(metrics.mean_squared_error(truth[mask], prediction[mask]))
    )
    assert score.performance["r2"] == pytest.approx(metrics.r2_score(truth[mask], prediction[mask]))
    assert score.label_coverage == pytest.approx(mask.mean())
    # Feature and prediction drift are the engine's numbers on the same data.
    expected = compute_drift(pd.DataFrame({"x": x}), pd.DataFrame({"x": current}))
    assert score.drift is not None and score.drift.column("x").score == pytest.approx(
        expected.column("x").score
    )
    assert score.prediction_drift is not None and score.prediction_drift.column == "prediction"
    assert score.prediction_drift.stattest == "wasserstein"
    assert score.latency_p99_ms == pytest.approx(np.percentile(np.linspace(1.0, 100.0, 1500), 99))


def test_multiclass_window_with_string_classes_matches_sklearn() -> None:
    rng = np.random.default_rng(RNG_SEED)
    classes = ["cat", "dog", "eel"]
    n = 900
    logits = rng.normal(size=(n, 3))
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    prediction = np.array(classes)[proba.argmax(axis=1)]
    truth = np.where(rng.random(n) < 0.7, prediction, np.array(classes)[rng.integers(0, 3, n)])
    outputs = {"prediction": prediction, **{f"proba_{c}": proba[:, i] for i, c in enumerate(classes)}}
    table = log_table({"x": rng.normal(size=n)}, outputs, list(truth))
    reference = ReferenceProfile.from_frame(pd.DataFrame({"x": rng.normal(size=500)}))
    score = score_window(table, reference)
    assert score.task == "classification"
    perf = score.performance
    assert perf["accuracy"] == pytest.approx(metrics.accuracy_score(truth, prediction))
    assert perf["f1"] == pytest.approx(metrics.f1_score(truth, prediction, average="macro"))
    assert perf["precision"] == pytest.approx(metrics.precision_score(truth, prediction, average="macro"))
    assert perf["recall"] == pytest.approx(metrics.recall_score(truth, prediction, average="macro"))
    assert perf["roc_auc"] == pytest.approx(
        metrics.roc_auc_score(truth, proba, multi_class="ovr", labels=classes)
    )
    matrix = metrics.confusion_matrix(truth, prediction, labels=classes)
    fp = matrix.sum(axis=0) - np.diag(matrix)
    tn = matrix.sum() - matrix.sum(axis=0) - matrix.sum(axis=1) + np.diag(matrix)
    assert perf["specificity"] == pytest.approx(float(np.mean(tn / (tn + fp))))
    assert score.drift is not None and score.drift.columns[0].stattest == "ks"


def test_binary_metrics_follow_the_positive_class() -> None:
    y = np.array(["no", "yes", "yes", "no", "yes"])
    p = np.array(["no", "yes", "no", "no", "no"])
    for positive in ("yes", "no"):
        found = classification_metrics(y, p, positive_class=positive)
        assert found["recall"] == metrics.recall_score(y, p, pos_label=positive)
        assert found["precision"] == metrics.precision_score(y, p, pos_label=positive)


def test_labels_and_predictions_of_different_types_are_compared_as_values() -> None:
    # Feedback sent as floats (1.0) for integer predictions still counts as the same class.
    found = classification_metrics(np.array([1.0, 0.0, 1.0]), np.array([1, 0, 0]))
    assert found["accuracy"] == pytest.approx(2 / 3) and found["recall"] == 0.5


def test_windows_without_labels_or_rows_say_so() -> None:
    reference = ReferenceProfile.from_frame(pd.DataFrame({"x": np.arange(50.0)}))
    unlabelled = log_table({"x": np.arange(20.0)}, {"prediction": np.zeros(20, dtype=np.int64)}, [None] * 20)
    score = score_window(unlabelled, reference)
    assert score.performance == {} and score.labelled_rows == 0 and score.label_coverage == 0.0
    empty = score_window(unlabelled.slice(0, 0), reference)
    assert empty.drift is None and empty.error == "the window holds no predictions" and empty.rows == 0
    wrong = score_window(unlabelled, reference, features=["nope"])
    assert wrong.drift is None and wrong.error is not None and "nope" in wrong.error


def test_regression_metrics_need_two_rows_for_r2() -> None:
    assert regression_metrics(np.array([1.0]), np.array([2.0])) == {"mae": 1.0, "rmse": 1.0, "r2": None}
