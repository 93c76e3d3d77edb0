"""scikit-learn forests predicted without joblib's per-tree overhead, with the same answers.

A forest predicts through joblib even with one job, and for every tree joblib's wrapper copies the
configuration and the warning filters: on a small batch that costs three times the trees' own work
(a 100-tree forest on 16 rows spends ~70 % of its time there). ``ForestPredictor`` validates the
input with the forest's own check, then adds up the same trees' outputs in the same order with the
same float64 arithmetic as a one-job forest, so a one-job forest's answers come out bit-identical.

It is used only after proving that on a model's first batch: ``predictor_for`` predicts that batch
both ways and keeps the fast way only if predictions (and probabilities) agree (exactly, or within
1e-12 relative for a multi-job forest, which itself sums in whatever order its threads finish). A
forest subclass, multi-output forest or a scikit-learn whose internals moved keeps ``predict``.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np

__all__ = ["ForestPredictor", "predictor_for"]

#: Rows up to which one thread beats a multi-job forest's thread pool (its per-tree cost dominates).
_SMALL_BATCH = 256

_FORESTS = {
    ("sklearn.ensemble._forest", "RandomForestClassifier"): True,
    ("sklearn.ensemble._forest", "ExtraTreesClassifier"): True,
    ("sklearn.ensemble._forest", "RandomForestRegressor"): False,
    ("sklearn.ensemble._forest", "ExtraTreesRegressor"): False,
}


class ForestPredictor:
    """``predict`` and ``predict_proba`` of one single-output forest, tree by tree."""

    def __init__(self, model: Any, *, classifier: bool) -> None:
        self.model = model
        self.classifier = classifier
        self.trees = [estimator.tree_ for estimator in model.estimators_]
        self.sequential = getattr(model, "n_jobs", None) in (None, 1)

    def suits(self, data: Any) -> bool:
        """Whether this is the faster way for ``data``: always for a one-job forest; for a multi-job
        one only on small batches, where joblib's overhead outweighs what its threads win."""
        return self.sequential or len(data) <= _SMALL_BATCH

    @classmethod
    def of(cls, model: Any) -> ForestPredictor | None:
        """The predictor of a plain scikit-learn forest (exact type, one output), else None."""
        kind = _FORESTS.get((type(model).__module__, type(model).__name__))
        if kind is None or getattr(model, "n_outputs_", None) != 1:
            return None
        if not hasattr(model, "_validate_X_predict") or not getattr(model, "estimators_", None):
            return None
        if not all(hasattr(estimator, "tree_") for estimator in model.estimators_):
            return None
        return cls(model, classifier=kind)

    def _sum(self, data: Any) -> np.ndarray:
        X = self.model._validate_X_predict(data)  # float32, feature names and count, NaN rules
        if self.classifier:
            total = np.zeros((X.shape[0], int(self.model.n_classes_)), dtype=np.float64)
            for tree in self.trees:
                total += tree.predict(X)[:, : total.shape[1]]
        else:
            total = np.zeros(X.shape[0], dtype=np.float64)
            for tree in self.trees:
                total += tree.predict(X)[:, 0]
        total /= len(self.trees)
        return total

    def predict_proba(self, data: Any) -> np.ndarray:
        return self._sum(data)

    def predict(self, data: Any) -> np.ndarray:
        total = self._sum(data)
        return self.model.classes_.take(np.argmax(total, axis=1), axis=0) if self.classifier else total


# Keyed by the model object: a model's decision is taken once, on the first data it predicts.
_DECIDED: weakref.WeakKeyDictionary[Any, ForestPredictor | None] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def predictor_for(model: Any, data: Any) -> tuple[ForestPredictor | None, Any]:
    """The proven fast predictor of ``model`` (or None), and, when this call decided, the model's own
    predictions for ``data`` (else None): the caller returns those rather than predict again."""
    try:
        return _DECIDED[model], None
    except KeyError:
        pass
    except TypeError:  # not weak-referenceable: never fast
        return None, None
    predictor = ForestPredictor.of(model)
    expected = model.predict(data)
    if predictor is not None and not _agrees(predictor, model, data, expected):
        predictor = None
    with _LOCK:
        _DECIDED[model] = predictor
    return predictor, expected


def _agrees(predictor: ForestPredictor, model: Any, data: Any, expected: Any) -> bool:
    exact = predictor.sequential
    try:
        pairs = [(np.asarray(expected), predictor.predict(data))]
        if predictor.classifier:
            pairs.append((np.asarray(model.predict_proba(data)), predictor.predict_proba(data)))
    except Exception:  # the fast way fails where the model does not: keep the model's way
        return False
    for want, got in pairs:
        if want.shape != got.shape or want.dtype != got.dtype:
            return False
        if exact or want.dtype.kind not in "fc":
            if not np.array_equal(want, got):
                return False
        elif not np.allclose(want, got, rtol=1e-12, atol=0.0):
            return False
    return True
