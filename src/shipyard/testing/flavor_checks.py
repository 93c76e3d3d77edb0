"""The common checks every model flavor must pass, discovered from the flavor registry.

A flavor supplies an example model through ``FLAVOR_EXAMPLES`` (a builder per flavor name); a
flavor without one fails the suite, so none can be added untested.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["FLAVOR_EXAMPLES", "FlavorExample"]


@dataclass(frozen=True)
class FlavorExample:
    model: Any
    features: Any  # a small input the model predicts on
    trusted: bool = False  # flavors that run code on load need trusted=True


def _sklearn() -> FlavorExample:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = load_breast_cancer(as_frame=True).frame
    features, labels = frame.drop(columns="target").iloc[:, :5], frame["target"]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(features, labels)
    return FlavorExample(model, features.head(20))


def _onnx() -> FlavorExample:
    from skl2onnx import to_onnx
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    features, labels = load_iris(return_X_y=True)
    features = features.astype(np.float32)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(features, labels)
    return FlavorExample(to_onnx(tree, features[:1], options={"zipmap": False}), features[:20])


def _python_model() -> FlavorExample:
    from shipyard.testing.flavor_models import ThresholdModel

    return FlavorExample(ThresholdModel(threshold=0.5), np.linspace(0, 1, 20).reshape(-1, 1), trusted=True)


FLAVOR_EXAMPLES: dict[str, Callable[[], FlavorExample]] = {
    "sklearn": _sklearn,
    "onnx": _onnx,
    "python_model": _python_model,
}
