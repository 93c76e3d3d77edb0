"""Importable models for the python-function flavor's checks (pickles refer to their module)."""

from __future__ import annotations

from typing import Any

import numpy as np

from shipyard.models.flavors.pyfunc import PythonModel

__all__ = ["ThresholdModel", "mlflow_scaled_sum_model"]


class ThresholdModel(PythonModel):
    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def predict(self, data: Any) -> Any:
        return (np.asarray(data)[:, 0] > self.threshold).astype(int)


def mlflow_scaled_sum_model(scale: float) -> Any:
    """An ``mlflow.pyfunc.PythonModel`` (MLflow imported only here): the scaled sum of each row.

    The class is made inside the function so cloudpickle stores it by value, as it stores the
    notebook classes MLflow users log; its base class is referenced by name, as in theirs.
    """
    import mlflow.pyfunc

    class ScaledSum(mlflow.pyfunc.PythonModel):
        def __init__(self, scale: float) -> None:
            self.scale = scale

        def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
            factor = (params or {}).get("factor", 1.0)
            return np.asarray(model_input, dtype=float).sum(axis=1) * self.scale * factor

    return ScaledSum(scale)
