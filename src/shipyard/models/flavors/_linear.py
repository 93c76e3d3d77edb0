"""Linear scikit-learn models (alone or behind standard scalers) predicted with the same arithmetic,
without scikit-learn's per-call checks.

A scaler + logistic regression predicts 16 rows in ~0.4 ms, of which the arithmetic is a few
microseconds: the rest is validation that each step repeats (array-API namespace, estimator tags,
feature names, dtype and finiteness checks). ``LinearPredictor`` takes the data only where those
checks are known to pass and change nothing: a 2-D float64 NumPy array with the fitted number of
columns and only finite values. On that it runs the operations the estimators run, in the same
order (``X -= mean_``, ``X /= scale_``, ``X @ coef_.T + intercept_``, then sign or argmax, and
scikit-learn's own ``expit``/``softmax`` for probabilities), so the answers are bit-identical.
Anything else (a frame, NaN, a wrong width, other dtypes) goes to the model's own ``predict``, which
answers or fails exactly as it would have. As for forests, ``_fastpaths.predictor_for`` proves the
agreement on a model's first batch before it is used.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["LinearPredictor"]

_SCALERS = {("sklearn.preprocessing._data", "StandardScaler")}
_CLASSIFIERS = {("sklearn.linear_model._logistic", "LogisticRegression")}
_REGRESSORS = {
    ("sklearn.linear_model._base", "LinearRegression"),
    ("sklearn.linear_model._ridge", "Ridge"),
}
_PIPELINE = ("sklearn.pipeline", "Pipeline")


def _kind(estimator: Any) -> tuple[str, str]:
    return type(estimator).__module__, type(estimator).__name__


class LinearPredictor:
    """``predict`` and ``predict_proba`` of ``[StandardScaler...] -> linear model`` on float arrays."""

    exact = True
    model_checks = False  # it checks the array itself: scikit-learn's input checks never run

    def __init__(self, scalers: list[Any], final: Any, *, classifier: bool) -> None:
        self.classifier = classifier
        self.n_features = int(final.n_features_in_)
        self.steps = [
            (scaler.mean_ if scaler.with_mean else None, scaler.scale_ if scaler.with_std else None)
            for scaler in scalers
        ]
        coef = final.coef_
        self.coef = coef.T if coef.ndim == 2 else coef  # a view, as the estimators multiply by
        self.intercept = final.intercept_
        self.classes = getattr(final, "classes_", None)

    @classmethod
    def of(cls, model: Any) -> LinearPredictor | None:
        """The predictor of a plain linear model or a ``Pipeline`` of standard scalers ending in one
        (exact types, dense float64 coefficients), else None."""
        steps = [model]
        if _kind(model) == _PIPELINE:
            steps = [step for _, step in getattr(model, "steps", [])]
            if getattr(model, "transform_input", None) is not None:
                return None
        if not steps or any(_kind(step) not in _SCALERS for step in steps[:-1]):
            return None
        final = steps[-1]
        classifier = _kind(final) in _CLASSIFIERS
        if not classifier and _kind(final) not in _REGRESSORS:
            return None
        coef = getattr(final, "coef_", None)
        if not isinstance(coef, np.ndarray) or coef.dtype != np.float64 or coef.ndim not in (1, 2):
            return None
        if not hasattr(final, "intercept_") or not hasattr(final, "n_features_in_"):
            return None
        for scaler in steps[:-1]:
            for name in ("mean_", "scale_"):
                value = getattr(scaler, name, None)
                if value is not None and (not isinstance(value, np.ndarray) or value.dtype != np.float64):
                    return None
            if getattr(scaler, "n_features_in_", None) != final.n_features_in_:
                return None
        if classifier and getattr(final, "classes_", None) is None:
            return None
        return cls(steps[:-1], final, classifier=classifier)

    def accepts(self, data: Any) -> bool:
        """Whether every check the estimators make passes on ``data`` and converts nothing."""
        return (
            type(data) is np.ndarray
            and data.dtype == np.float64
            and data.ndim == 2
            and data.shape[0] > 0
            and data.shape[1] == self.n_features
            and bool(np.isfinite(data).all())
        )

    suits = accepts

    def _scores(self, data: np.ndarray) -> np.ndarray:
        X = data
        if self.steps:
            X = np.array(data, dtype=np.float64)  # the scaler's copy: the caller's array stays as it was
            for mean, scale in self.steps:
                if mean is not None:
                    X -= mean
                if scale is not None:
                    X /= scale
        scores = X @ self.coef + self.intercept
        if self.classifier and scores.ndim > 1 and scores.shape[1] == 1:
            scores = scores.reshape(-1)
        return scores

    def predict(self, data: np.ndarray) -> np.ndarray:
        scores = self._scores(data)
        if not self.classifier:
            return scores
        indices = (scores > 0).astype(np.intp) if scores.ndim == 1 else np.argmax(scores, axis=1)
        return self.classes.take(indices, axis=0)  # type: ignore[union-attr]

    def predict_proba(self, data: np.ndarray) -> np.ndarray:
        from scipy.special import expit
        from sklearn.utils.extmath import softmax

        scores = self._scores(data)
        if scores.ndim == 1:  # two classes: LogisticRegression's expit of the decision
            positive = expit(scores, out=scores)
            return np.stack([1 - positive, positive], axis=1)
        return softmax(scores, copy=False)
