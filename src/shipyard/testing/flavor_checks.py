"""The common checks every model flavor must pass, discovered from the flavor registry.

A flavor supplies example models through ``FLAVOR_EXAMPLES`` (a builder per example id, each naming
its flavor); a flavor without an example fails the suite, so none can be added untested. Each
example carries the original model's own predictions, so a check compares the loaded package with
the model as trained, not with another load of the same files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["FLAVOR_EXAMPLES", "FlavorExample"]


@dataclass(frozen=True)
class FlavorExample:
    flavor: str
    model: Any
    features: Any  # a small input the model predicts on
    expected: Any  # the original model's predictions for ``features``
    expected_proba: Any = None  # and its class probabilities, when it has them
    trusted: bool = False  # flavors that run code on load need trusted=True


def _breast_cancer(columns: int = 5) -> tuple[Any, Any]:
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    return frame.drop(columns="target").iloc[:, :columns], frame["target"]


def _sklearn() -> FlavorExample:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features, labels = _breast_cancer()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(features, labels)
    head = features.head(20)
    return FlavorExample("sklearn", model, head, model.predict(head), model.predict_proba(head))


def _onnx() -> FlavorExample:
    from skl2onnx import to_onnx
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    features, labels = load_iris(return_X_y=True)
    features = features.astype(np.float32)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(features, labels)
    onnx_model = to_onnx(tree, features[:1], options={"zipmap": False})
    head = features[:20]
    return FlavorExample("onnx", onnx_model, head, tree.predict(head), tree.predict_proba(head))


def _python_model() -> FlavorExample:
    from shipyard.testing.flavor_models import ThresholdModel

    features = np.linspace(0, 1, 20).reshape(-1, 1)
    model = ThresholdModel(threshold=0.5)
    return FlavorExample("python_model", model, features, model.predict(features), trusted=True)


def _mlflow_python_model() -> FlavorExample:
    from shipyard.testing.flavor_models import mlflow_scaled_sum_model

    features = _breast_cancer()[0].head(20)
    model = mlflow_scaled_sum_model(scale=0.5)
    return FlavorExample("python_function", model, features, model.predict(None, features), trusted=True)


def _xgboost_classifier() -> FlavorExample:
    import xgboost

    features, labels = _breast_cancer()
    model = xgboost.XGBClassifier(n_estimators=20, max_depth=3, n_jobs=1, random_state=0)
    model.fit(features, labels)
    head = features.head(20)
    return FlavorExample("xgboost", model, head, model.predict(head), model.predict_proba(head))


def _xgboost_booster() -> FlavorExample:
    import xgboost

    features, labels = _breast_cancer()
    array = features.to_numpy()
    booster = xgboost.train(
        {"objective": "reg:squarederror", "max_depth": 3, "nthread": 1, "seed": 0},
        xgboost.DMatrix(array, label=labels.to_numpy()),
        num_boost_round=20,
    )
    head = array[:20]
    return FlavorExample("xgboost", booster, head, booster.predict(xgboost.DMatrix(head)))


def _lightgbm_classifier() -> FlavorExample:
    import lightgbm

    features, labels = _breast_cancer()
    labels = labels.map({0: "malignant", 1: "benign"})  # string labels survive the round trip
    model = lightgbm.LGBMClassifier(n_estimators=20, num_leaves=7, n_jobs=1, random_state=0, verbose=-1)
    model.fit(features, labels)
    head = features.head(20)
    return FlavorExample("lightgbm", model, head, model.predict(head), model.predict_proba(head))


def _lightgbm_regressor() -> FlavorExample:
    import lightgbm

    features, labels = _breast_cancer()
    model = lightgbm.LGBMRegressor(n_estimators=20, num_leaves=7, n_jobs=1, random_state=0, verbose=-1)
    model.fit(features, labels.astype(float))
    head = features.head(20)
    return FlavorExample("lightgbm", model, head, model.predict(head))


def _lightgbm_booster() -> FlavorExample:
    import lightgbm

    features, labels = _breast_cancer()
    array = features.to_numpy()
    params = {"objective": "binary", "num_leaves": 7, "num_threads": 1, "seed": 0, "verbose": -1}
    booster = lightgbm.train(params, lightgbm.Dataset(array, label=labels.to_numpy()), num_boost_round=20)
    head = array[:20]
    return FlavorExample("lightgbm", booster, head, booster.predict(head))


FLAVOR_EXAMPLES: dict[str, Callable[[], FlavorExample]] = {
    "sklearn": _sklearn,
    "onnx": _onnx,
    "python_model": _python_model,
    "mlflow-python-model": _mlflow_python_model,
    "xgboost-classifier": _xgboost_classifier,
    "xgboost-booster": _xgboost_booster,
    "lightgbm-classifier": _lightgbm_classifier,
    "lightgbm-regressor": _lightgbm_regressor,
    "lightgbm-booster": _lightgbm_booster,
}
