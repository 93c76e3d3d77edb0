"""scikit-learn forests predicted without joblib's per-tree overhead, with the same answers.

A forest predicts through joblib even with one job, and for every tree joblib's wrapper copies the
configuration and the warning filters: on a small batch that costs three times the trees' own work
(a 100-tree forest on 16 rows spends ~70 % of its time there). ``ForestPredictor`` validates the
input with the forest's own check, then adds up the same trees' outputs in the same order with the
same float64 arithmetic as a one-job forest, so a one-job forest's answers come out bit-identical.

It is used only after proving that on a model's first batch (``_fastpaths.predictor_for``): exactly,
or within 1e-12 relative for a multi-job forest, which itself sums in whatever order its threads
finish. A forest subclass, multi-output forest or a scikit-learn whose internals moved keeps
``predict``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ForestPredictor"]

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
        self.exact = self.sequential  # a multi-job forest sums in its threads' order
        self.model_checks = True  # the forest's own input check runs (and warns as it warns)

    def accepts(self, data: Any) -> bool:
        """Any input: the forest's own check validates it (and fails as the forest fails)."""
        return True

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
