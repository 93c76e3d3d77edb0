"""Model flavors: how each kind of model is saved, loaded and asked for predictions.

Flavors register themselves in ``FLAVORS``; the common checks in ``shipyard.testing.flavor_checks``
run over every registered flavor. ``flavor_for`` takes the first flavor that accepts a model, so the
boosting flavors come before scikit-learn (their estimators are scikit-learn estimators too).
"""

from __future__ import annotations

from shipyard.models.flavors.base import FLAVORS, Flavor, flavor_for, get_flavor

# Importing each module registers its flavor, in this order.
from shipyard.models.flavors import xgboost as _xgboost  # noqa: F401  isort: skip
from shipyard.models.flavors import lightgbm as _lightgbm  # noqa: F401  isort: skip
from shipyard.models.flavors import sklearn as _sklearn  # noqa: F401  isort: skip
from shipyard.models.flavors import onnx as _onnx  # noqa: F401  isort: skip
from shipyard.models.flavors import pyfunc as _pyfunc  # noqa: F401  isort: skip
from shipyard.models.flavors import mlflow_pyfunc as _mlflow_pyfunc  # noqa: F401  isort: skip

__all__ = ["FLAVORS", "Flavor", "flavor_for", "get_flavor"]
