"""Evaluation and model selection: candidates and a baseline side by side, on the metrics that matter.

Classification (binary or multiclass; per class one-vs-rest): TP, TN, FP, FN, accuracy, precision,
sensitivity (recall), specificity, type I error rate (false positive rate = FP / (FP + TN)), type II
error rate (false negative rate = FN / (FN + TP)), F1 and ROC AUC, plus the confusion matrix. Binary
rows report the positive class; multiclass rows macro-average the per-class values.
Regression: MAE, RMSE and R².

>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> rng = np.random.default_rng(0)
>>> features = rng.normal(size=(200, 3)); labels = (features[:, 0] > 0).astype(int)
>>> report = evaluate({"logreg": LogisticRegression().fit(features, labels)}, features, labels)
>>> [row.name for row in report.rows], report.rows[0].metrics["accuracy"] > 0.9
(['logreg', 'baseline (majority class)'], True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
from sklearn import metrics as skm

from shipyard.core.errors import InvalidParameterError

__all__ = [
    "CLASSIFICATION_METRICS",
    "REGRESSION_METRICS",
    "CandidateResult",
    "EvaluationReport",
    "GateResult",
    "Predictor",
    "beats",
    "evaluate",
]

CLASSIFICATION_METRICS = (
    "accuracy",
    "precision",
    "sensitivity",
    "specificity",
    "type_i_error_rate",
    "type_ii_error_rate",
    "f1",
    "roc_auc",
    "tp",
    "tn",
    "fp",
    "fn",
)
REGRESSION_METRICS = ("mae", "rmse", "r2")
LOWER_IS_BETTER = {"type_i_error_rate", "type_ii_error_rate", "fp", "fn", "mae", "rmse"}


class Predictor(Protocol):
    def predict(self, features: Any) -> Any: ...


@dataclass(frozen=True)
class CandidateResult:
    name: str
    metrics: dict[str, float]
    # Per class (classification): {"tp": …, "precision": …, …}; empty for regression.
    per_class: dict[str, dict[str, float]] = field(default_factory=dict)
    confusion_matrix: list[list[int]] = field(default_factory=list)
    roc_curve: dict[str, list[float]] = field(default_factory=dict)  # binary only: fpr, tpr


@dataclass(frozen=True)
class EvaluationReport:
    task: Literal["classification", "regression"]
    labels: list[str]
    rows: list[CandidateResult]

    def row(self, name: str) -> CandidateResult:
        for row in self.rows:
            if row.name == name:
                return row
        raise InvalidParameterError(
            f"no candidate named {name!r}; have {', '.join(r.name for r in self.rows)}", field="candidate"
        )

    @property
    def metric_names(self) -> tuple[str, ...]:
        return CLASSIFICATION_METRICS if self.task == "classification" else REGRESSION_METRICS

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "labels": self.labels,
            "candidates": [
                {
                    "name": r.name,
                    "metrics": r.metrics,
                    "per_class": r.per_class,
                    "confusion_matrix": r.confusion_matrix,
                }
                for r in self.rows
            ],
        }

    def best(self, metric: str) -> CandidateResult:
        """The candidate (baseline excluded) with the best value of ``metric``."""
        candidates = [r for r in self.rows if not r.name.startswith("baseline")] or self.rows
        sign = -1 if metric in LOWER_IS_BETTER else 1
        return max(candidates, key=lambda r: sign * r.metrics.get(metric, float("-inf") * sign))


@dataclass(frozen=True)
class GateResult:
    passed: bool
    message: str


class _MajorityClass:
    def __init__(self, labels: np.ndarray) -> None:
        values, counts = np.unique(labels, return_counts=True)
        self.value = values[np.argmax(counts)]
        self.classes_ = values

    def predict(self, features: Any) -> np.ndarray:
        return np.full(len(features), self.value)

    def predict_proba(self, features: Any) -> np.ndarray:
        probabilities = np.zeros((len(features), len(self.classes_)))
        probabilities[:, list(self.classes_).index(self.value)] = 1.0
        return probabilities


class _Mean:
    def __init__(self, targets: np.ndarray) -> None:
        self.value = float(np.mean(targets))

    def predict(self, features: Any) -> np.ndarray:
        return np.full(len(features), self.value)


def _infer_task(targets: np.ndarray) -> Literal["classification", "regression"]:
    if targets.dtype.kind in "OUSb" or (targets.dtype.kind in "iu" and len(np.unique(targets)) <= 20):
        return "classification"
    return "regression"


def _scores(model: Any, features: Any, classes: np.ndarray) -> np.ndarray | None:
    if not hasattr(model, "predict_proba"):
        return None
    probabilities = np.asarray(model.predict_proba(features))
    model_classes = list(getattr(model, "classes_", classes))
    # Reorder columns to our class order; a class the model never saw scores 0.
    return np.column_stack(
        [
            probabilities[:, model_classes.index(c)] if c in model_classes else np.zeros(len(probabilities))
            for c in classes
        ]
    )


def _classification(
    name: str, truth: np.ndarray, predicted: np.ndarray, scores: np.ndarray | None, classes: np.ndarray
) -> CandidateResult:
    matrix = skm.confusion_matrix(truth, predicted, labels=classes)
    total = matrix.sum()
    per_class: dict[str, dict[str, float]] = {}
    for index, label in enumerate(classes):
        tp = int(matrix[index, index])
        fn = int(matrix[index].sum() - tp)
        fp = int(matrix[:, index].sum() - tp)
        tn = int(total - tp - fn - fp)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        per_class[str(label)] = {
            "tp": tp,
            "tn": tn,
            "fp": fp,
            "fn": fn,
            "precision": precision,
            "sensitivity": recall,
            "specificity": tn / (tn + fp) if tn + fp else 0.0,
            "type_i_error_rate": fp / (fp + tn) if fp + tn else 0.0,
            "type_ii_error_rate": fn / (fn + tp) if fn + tp else 0.0,
            "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        }
    binary = len(classes) == 2
    summary = (
        dict(per_class[str(classes[1])])
        if binary
        else {
            key: float(np.mean([values[key] for values in per_class.values()]))
            for key in (
                "precision",
                "sensitivity",
                "specificity",
                "type_i_error_rate",
                "type_ii_error_rate",
                "f1",
            )
        }
        | {key: float(sum(values[key] for values in per_class.values())) for key in ("tp", "tn", "fp", "fn")}
    )
    summary["accuracy"] = float(skm.accuracy_score(truth, predicted))
    summary["roc_auc"] = float("nan")
    curve: dict[str, list[float]] = {}
    if scores is not None and len(np.unique(truth)) > 1:
        if binary:
            summary["roc_auc"] = float(skm.roc_auc_score(truth == classes[1], scores[:, 1]))
            fpr, tpr, _ = skm.roc_curve(truth == classes[1], scores[:, 1])
            curve = {"fpr": fpr.tolist(), "tpr": tpr.tolist()}
        elif len(np.unique(truth)) == len(classes):
            summary["roc_auc"] = float(skm.roc_auc_score(truth, scores, multi_class="ovr", labels=classes))
    return CandidateResult(
        name, {k: float(summary[k]) for k in CLASSIFICATION_METRICS}, per_class, matrix.tolist(), curve
    )


def _regression(name: str, truth: np.ndarray, predicted: np.ndarray) -> CandidateResult:
    return CandidateResult(
        name,
        {
            "mae": float(skm.mean_absolute_error(truth, predicted)),
            "rmse": float(np.sqrt(skm.mean_squared_error(truth, predicted))),
            "r2": float(skm.r2_score(truth, predicted)),
        },
    )


def _load(model: Any) -> Any:
    if isinstance(model, str):
        try:
            import mlflow.pyfunc
        except ImportError:
            raise InvalidParameterError(
                f"loading {model!r} by URI needs the mlflow client (pip install mlflow); "
                "or pass the model object",
                field="model",
            ) from None
        return mlflow.pyfunc.load_model(model)
    if not hasattr(model, "predict"):
        raise InvalidParameterError(
            f"a candidate must have predict(); got {type(model).__name__}", field="model"
        )
    return model


def evaluate(
    candidates: Mapping[str, Any] | Any,
    features: Any,
    targets: Sequence[Any] | np.ndarray,
    *,
    baseline: Literal["majority", "mean", "none"] | Any = "majority",
    task: Literal["classification", "regression"] | None = None,
    labels: Sequence[Any] | None = None,
) -> EvaluationReport:
    """Score each candidate (model objects or ``models:/``/``runs:/`` URIs) and a baseline on one data set.

    ``baseline`` is ``"majority"`` (classification), ``"mean"`` (regression), ``"none"``, or a model.
    """
    truth = np.asarray(targets)
    if truth.ndim != 1 or len(truth) == 0:
        raise InvalidParameterError("targets must be a non-empty 1-D sequence", field="targets")
    if len(features) != len(truth):
        raise InvalidParameterError(
            f"features have {len(features)} rows but targets {len(truth)}", field="targets"
        )
    task = task or _infer_task(truth)
    named = dict(candidates) if isinstance(candidates, Mapping) else {"candidate": candidates}
    if not named:
        raise InvalidParameterError("give at least one candidate", field="candidates")
    models = {name: _load(model) for name, model in named.items()}
    if isinstance(baseline, str) and baseline != "none":
        if baseline not in ("majority", "mean"):
            raise InvalidParameterError(
                f"baseline must be 'majority', 'mean', 'none' or a model; got {baseline!r}", field="baseline"
            )
        label = "baseline (majority class)" if task == "classification" else "baseline (mean)"
        models[label] = _MajorityClass(truth) if task == "classification" else _Mean(truth.astype(float))
    elif not isinstance(baseline, str):
        models["baseline"] = _load(baseline)
    if task == "regression":
        rows = [
            _regression(name, truth.astype(float), np.asarray(model.predict(features), dtype=float))
            for name, model in models.items()
        ]
        return EvaluationReport("regression", [], rows)
    classes = np.asarray(labels) if labels is not None else np.unique(truth)
    if len(classes) < 2:
        raise InvalidParameterError(
            "classification needs at least two classes in labels or targets", field="labels"
        )
    rows = [
        _classification(
            name,
            truth,
            np.asarray(model.predict(features)).ravel(),
            _scores(model, features, classes),
            classes,
        )
        for name, model in models.items()
    ]
    return EvaluationReport("classification", [str(c) for c in classes], rows)


def beats(
    report: EvaluationReport, candidate: str, *, over: str | None = None, metric: str = "f1", by: float = 0.0
) -> GateResult:
    """Gate: does ``candidate`` beat ``over`` (default: the baseline row) on ``metric`` by at least ``by``?"""
    if metric not in report.metric_names:
        raise InvalidParameterError(
            f"metric must be one of {', '.join(report.metric_names)}; got {metric!r}", field="metric"
        )
    reference = (
        report.row(over) if over else next((r for r in report.rows if r.name.startswith("baseline")), None)
    )
    if reference is None:
        raise InvalidParameterError("no baseline row to compare with; name one with over=", field="over")
    ours, theirs = report.row(candidate).metrics[metric], reference.metrics[metric]
    margin = (theirs - ours) if metric in LOWER_IS_BETTER else (ours - theirs)
    passed = bool(margin >= by)
    verb = "beats" if passed else "does not beat"
    return GateResult(
        passed,
        f"{candidate} {verb} {reference.name} on {metric}: {ours:.4f} vs {theirs:.4f} "
        f"(margin {margin:+.4f}, required {by:+.4f})",
    )
