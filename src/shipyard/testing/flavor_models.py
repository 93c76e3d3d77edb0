"""Importable models for the python-function flavor's checks (pickles refer to their module)."""

from __future__ import annotations

from typing import Any

import numpy as np

from shipyard.models.flavors.pyfunc import PythonModel

__all__ = ["ThresholdModel"]


class ThresholdModel(PythonModel):
    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def predict(self, data: Any) -> Any:
        return (np.asarray(data)[:, 0] > self.threshold).astype(int)
