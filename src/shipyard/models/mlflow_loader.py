"""The ``loader_module`` MLflow calls for Shipyard packages it cannot read with its own flavors.

``mlflow.pyfunc.load_model`` imports the module named in a package's ``python_function`` section and
calls ``_load_pyfunc(path)``; for such packages (a LightGBM classifier, whose file is a booster, and
Shipyard's own ``PythonModel``) this loads the package with Shipyard, hash check and signature
included. Pickles load only when the MLflow user opted in the way MLflow asks for its own
(``MLFLOW_ALLOW_PICKLE_DESERIALIZATION=true``).
"""

from __future__ import annotations

import os
from typing import Any

from shipyard.models.package import LoadedModel, load_model

__all__ = ["ShipyardPyfunc"]


class ShipyardPyfunc:
    """What MLflow's ``PyFuncModel`` wraps: ``predict(data, params=None)``."""

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self.loaded.predict(data)

    def get_raw_model(self) -> Any:
        return self.loaded.model


def _load_pyfunc(path: str) -> ShipyardPyfunc:
    # MLflow reads packages from wherever it is pointed at: pickles need the user's explicit opt-in.
    trusted = os.environ.get("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "").strip().lower() == "true"
    return ShipyardPyfunc(load_model(path, trusted=trusted))
