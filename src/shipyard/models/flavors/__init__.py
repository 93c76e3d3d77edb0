"""Model flavors: how each kind of model is saved, loaded and asked for predictions.

Flavors register themselves in ``FLAVORS``; the common checks in ``shipyard.testing.flavor_checks``
run over every registered flavor.
"""

from __future__ import annotations

from shipyard.models.flavors.base import FLAVORS, Flavor, flavor_for, get_flavor

# Importing each module registers its flavor.
from shipyard.models.flavors import onnx as _onnx  # noqa: F401  isort: skip
from shipyard.models.flavors import pyfunc as _pyfunc  # noqa: F401  isort: skip
from shipyard.models.flavors import sklearn as _sklearn  # noqa: F401  isort: skip

__all__ = ["FLAVORS", "Flavor", "flavor_for", "get_flavor"]
