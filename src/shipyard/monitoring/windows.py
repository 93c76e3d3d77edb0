"""Scoring one window of the prediction log: drift, prediction drift, delayed-label performance, latency.

The window is an Arrow table as ``PredictionLog.labelled`` returns it: ``received_at``, ``model_version``,
``latency_ms``, ``input.<feature>``, ``output.prediction``, ``output.proba_<class>`` and the joined
``label``. Every column is profiled once with NumPy (sorts and counts, no Python loop over rows) and
tested against the stored reference profile by the drift engine; performance uses scikit-learn's metrics
on the rows that have a label.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from shipyard.core.errors import InvalidParameterError
from shipyard.monitoring.drift import ColumnDrift, DriftReport, SkippedColumn, compute_drift, score_column
from shipyard.monitoring.profile import ReferenceProfile, profile_column

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "INPUT_PREFIX",
    "OUTPUT_PREFIX",
    "WindowScore",
    "classification_metrics",
    "regression_metrics",
    "score_window",
    "window_features",
]

logger = logging.getLogger(__name__)

INPUT_PREFIX = "input."
OUTPUT_PREFIX = "output."
PREDICTION = "output.prediction"
PROBA_PREFIX = "output.proba_"


@dataclass(frozen=True)
class WindowScore:
    """Everything measured on one window (``drift`` is None when it could not be scored: see ``error``)."""

    rows: int
    model_versions: tuple[str, ...]
    drift: DriftReport | None
    error: str | None
    prediction_drift: ColumnDrift | None
    task: str | None
    performance: dict[str, float | None] = field(default_factory=dict)
    # Per model version when the window holds several: {version: {metric: value, "labelled_rows": n, ...}}
    by_version: dict[str, dict[str, float | None]] = field(default_factory=dict)
    labelled_rows: int = 0
    label_coverage: float | None = None
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None
    throughput_rps: float | None = None


def window_features(
    table_columns: Sequence[str],
    reference_columns: Sequence[str],
    features: Sequence[str] | None,
    *,
    exclude: Sequence[str] = (),
) -> list[str]:
    """The features to test: the given ones, or every logged input the reference also holds.

    >>> window_features(["input.a", "input.b", "output.prediction"], ["a", "b", "y"], None, exclude=["y"])
    ['a', 'b']
    """
    logged = [c.removeprefix(INPUT_PREFIX) for c in table_columns if c.startswith(INPUT_PREFIX)]
    if features is not None:
        return list(features)
    return [name for name in logged if name in reference_columns and name not in exclude]


def _series(table: pa.Table, column: str) -> Any:
    return table.column(column).to_pandas()


def _latency(
    table: pa.Table, window_seconds: float | None
) -> tuple[float | None, float | None, float | None]:
    if table.num_rows == 0 or "latency_ms" not in table.column_names:
        return None, None, (0.0 if table.num_rows == 0 and window_seconds else None)
    latency = table.column("latency_ms").to_numpy(zero_copy_only=False).astype(np.float64)
    latency = latency[np.isfinite(latency)]
    p50, p99 = (float(v) for v in np.percentile(latency, [50, 99])) if latency.size else (None, None)
    seconds = window_seconds
    if seconds is None:
        times = table.column("received_at").to_numpy().astype("datetime64[us]").astype(np.int64)
        seconds = (int(times.max()) - int(times.min())) / 1e6 if times.size else 0.0
    throughput = table.num_rows / seconds if seconds and seconds > 0 else None
    return p50, p99, throughput


def _as_labels(values: np.ndarray) -> np.ndarray:
    """Labels as comparable values: numbers stay numbers (whole floats become ints), others text."""
    if values.dtype.kind in "iub":
        return values.astype(np.int64)
    if values.dtype.kind == "f":
        if np.all(np.isfinite(values)) and np.all(values == np.round(values)):
            return values.astype(np.int64)
        return values
    return values.astype(str)


def classification_metrics(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    proba: np.ndarray | None = None,
    classes: Sequence[Any] | None = None,
    positive_class: Any = None,
) -> dict[str, float | None]:
    """Accuracy, precision, recall (= sensitivity), specificity, F1 and ROC AUC with scikit-learn.

    Two classes: binary metrics for ``positive_class`` (default: the larger class label). More: macro
    averages (specificity per class, one-vs-rest, then averaged). ``proba`` holds one column per
    ``classes`` entry; ROC AUC is None without it or when the labels hold a single class.

    >>> import numpy as np
    >>> m = classification_metrics(np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0]))
    >>> m["accuracy"], m["recall"], m["specificity"]
    (0.75, 0.5, 1.0)
    """
    from sklearn import metrics

    y_true, y_pred = _as_labels(np.asarray(y_true)), _as_labels(np.asarray(y_pred))
    if y_true.dtype.kind != y_pred.dtype.kind and not (
        y_true.dtype.kind in "if" and y_pred.dtype.kind in "if"
    ):
        y_true, y_pred = y_true.astype(str), y_pred.astype(str)
    labels = np.unique(np.concatenate([y_true, y_pred]))
    if classes is not None:
        known = np.asarray([str(c) for c in classes]) if labels.dtype.kind == "U" else None
        if known is None:
            try:
                known = _as_labels(np.asarray(classes, dtype=np.float64))
            except (TypeError, ValueError):
                known = None
        if known is not None:
            labels = np.unique(np.concatenate([labels, known]))
    result: dict[str, float | None] = {"accuracy": float(metrics.accuracy_score(y_true, y_pred))}
    matrix = metrics.confusion_matrix(y_true, y_pred, labels=labels)
    total = matrix.sum()
    tp = np.diag(matrix).astype(np.float64)
    fp = matrix.sum(axis=0) - tp
    fn = matrix.sum(axis=1) - tp
    tn = total - tp - fp - fn
    with np.errstate(divide="ignore", invalid="ignore"):
        specificity = np.where(tn + fp > 0, tn / (tn + fp), 0.0)
    if len(labels) == 2:
        positive = labels[-1] if positive_class is None else _match(labels, positive_class)
        index = int(np.flatnonzero(labels == positive)[0])
        kwargs: dict[str, Any] = {"average": "binary", "pos_label": positive, "zero_division": 0}
        result["specificity"] = float(specificity[index])
    else:
        kwargs = {"average": "macro", "labels": labels, "zero_division": 0}
        result["specificity"] = float(specificity.mean())
    result["precision"] = float(metrics.precision_score(y_true, y_pred, **kwargs))
    result["recall"] = float(metrics.recall_score(y_true, y_pred, **kwargs))
    result["sensitivity"] = result["recall"]
    result["f1"] = float(metrics.f1_score(y_true, y_pred, **kwargs))
    result["roc_auc"] = _roc_auc(y_true, proba, classes, labels, kwargs.get("pos_label"))
    return result


def _match(labels: np.ndarray, wanted: Any) -> Any:
    for label in labels:
        if str(label) == str(wanted):
            return label
    raise InvalidParameterError(
        f"positive_class {wanted!r} is not among the labels ({', '.join(map(str, labels))})",
        field="positive_class",
    )


def _roc_auc(
    y_true: np.ndarray,
    proba: np.ndarray | None,
    classes: Sequence[Any] | None,
    labels: np.ndarray,
    positive: Any,
) -> float | None:
    from sklearn import metrics

    if proba is None or classes is None or len(np.unique(y_true)) < 2:
        return None
    names = [str(c) for c in classes]
    truth = y_true.astype(str)
    if not set(np.unique(truth)) <= set(names):
        return None  # a label the model has no probability for
    if len(names) == 2:
        column = names.index(str(positive)) if positive is not None and str(positive) in names else 1
        return float(metrics.roc_auc_score(truth == names[column], proba[:, column]))
    if len(np.unique(truth)) != len(names):
        return None  # one-vs-rest needs every class present in the window
    return float(metrics.roc_auc_score(truth, proba, multi_class="ovr", average="macro", labels=names))


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float | None]:
    """MAE, RMSE and R² with scikit-learn (R² is None below two rows).

    >>> import numpy as np
    >>> regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0]))["mae"]
    0.6666666666666666
    """
    from sklearn import metrics

    y_true, y_pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    return {
        "mae": float(metrics.mean_absolute_error(y_true, y_pred)),
        "rmse": float(math.sqrt(metrics.mean_squared_error(y_true, y_pred))),
        "r2": float(metrics.r2_score(y_true, y_pred)) if y_true.size >= 2 else None,
    }


def _task(table: pa.Table, task: str | None) -> str | None:
    if task is not None:
        return task
    if any(c.startswith(PROBA_PREFIX) for c in table.column_names):
        return "classification"
    if PREDICTION not in table.column_names:
        return None
    kind = table.column(PREDICTION).type
    import pyarrow.types as pat

    return "regression" if pat.is_floating(kind) else "classification"


def _performance(
    table: pa.Table, task: str | None, positive_class: str | None
) -> tuple[dict[str, float | None], int, float | None]:
    if "label" not in table.column_names or PREDICTION not in table.column_names or table.num_rows == 0:
        return {}, 0, (0.0 if table.num_rows else None)
    import pyarrow.compute as pc

    mask = pc.and_(pc.is_valid(table.column("label")), pc.is_valid(table.column(PREDICTION)))
    labelled = table.filter(mask)
    n = labelled.num_rows
    coverage = n / table.num_rows
    if n == 0 or task is None:
        return {}, n, coverage
    y_true = labelled.column("label").to_numpy(zero_copy_only=False)
    y_pred = labelled.column(PREDICTION).to_numpy(zero_copy_only=False)
    if task == "regression":
        try:
            return regression_metrics(y_true, y_pred), n, coverage
        except (TypeError, ValueError) as exc:
            logger.warning("regression metrics skipped: %s", exc)
            return {}, n, coverage
    proba_columns = [c for c in labelled.column_names if c.startswith(PROBA_PREFIX)]
    classes = [c.removeprefix(PROBA_PREFIX) for c in proba_columns] or None
    proba = (
        np.column_stack([labelled.column(c).to_numpy(zero_copy_only=False) for c in proba_columns])
        if proba_columns
        else None
    )
    if proba is not None and not np.all(np.isfinite(proba.astype(np.float64))):
        proba = None
    return (
        classification_metrics(y_true, y_pred, proba=proba, classes=classes, positive_class=positive_class),
        n,
        coverage,
    )


def score_window(
    table: pa.Table,
    reference: ReferenceProfile,
    *,
    features: Sequence[str] | None = None,
    stattest: str | None = None,
    stattests: Mapping[str, str] | None = None,
    threshold: float | None = None,
    thresholds: Mapping[str, float] | None = None,
    drift_share: float = 0.5,
    target_column: str | None = None,
    prediction_column: str | None = None,
    task: str | None = None,
    positive_class: str | None = None,
    window_seconds: float | None = None,
) -> WindowScore:
    """Score one window of the prediction log against a reference profile.

    ``features`` defaults to every logged input the reference holds (its target and prediction columns
    excepted). Prediction drift compares ``output.prediction`` with the reference's ``prediction_column``
    (else its ``target_column``) when one is given. ``window_seconds`` is the window's length for
    throughput (default: the span of its rows).
    """
    versions = tuple(
        sorted(set(table.column("model_version").to_pylist()))
        if "model_version" in table.column_names
        else ()
    )
    p50, p99, rps = _latency(table, window_seconds)
    names = window_features(
        table.column_names,
        list(reference.columns),
        features,
        exclude=[c for c in (target_column, prediction_column) if c],
    )
    drift: DriftReport | None = None
    error: str | None = None
    if table.num_rows == 0:
        error = "the window holds no predictions"
    elif not names:
        error = "no logged input column is in the reference data; set the monitor's features"
    else:
        missing = [
            n for n in names if f"{INPUT_PREFIX}{n}" not in table.column_names or n not in reference.columns
        ]
        if missing:
            error = f"features not logged or not in the reference: {', '.join(missing)}"
        else:
            current = {name: profile_column(_series(table, INPUT_PREFIX + name), name=name) for name in names}
            try:
                drift = compute_drift(
                    reference,
                    current,
                    columns=names,
                    stattest=stattest,
                    stattests={k: v for k, v in (stattests or {}).items() if k in names} or None,
                    threshold=threshold,
                    thresholds={k: v for k, v in (thresholds or {}).items() if k in names} or None,
                    drift_share=drift_share,
                    workers=1,
                )
            except InvalidParameterError as exc:
                error = exc.message
    prediction_drift = None
    source = prediction_column or target_column
    if source and source in reference.columns and PREDICTION in table.column_names and table.num_rows:
        outcome = score_column(
            reference.columns[source],
            profile_column(_series(table, PREDICTION), name=source),
            role="prediction",
        )
        if isinstance(outcome, ColumnDrift):
            prediction_drift = replace(outcome, column="prediction")
        elif isinstance(outcome, SkippedColumn):
            logger.info("prediction drift skipped: %s", outcome.reason)
    resolved = _task(table, task)
    performance, labelled, coverage = _performance(table, resolved, positive_class)
    by_version: dict[str, dict[str, float | None]] = {}
    if len(versions) > 1:
        import pyarrow.compute as pc

        for version in versions:
            part = table.filter(pc.equal(table.column("model_version"), version))
            metrics, n, share = _performance(part, resolved, positive_class)
            by_version[version] = {
                **metrics,
                "rows": float(part.num_rows),
                "labelled_rows": float(n),
                "label_coverage": share,
            }
    return WindowScore(
        rows=table.num_rows,
        model_versions=versions,
        drift=drift,
        error=error,
        prediction_drift=prediction_drift,
        task=resolved,
        performance=performance,
        by_version=by_version,
        labelled_rows=labelled,
        label_coverage=coverage,
        latency_p50_ms=p50,
        latency_p99_ms=p99,
        throughput_rps=rps,
    )
