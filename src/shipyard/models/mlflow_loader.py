"""The ``loader_module`` MLflow calls for Shipyard packages it cannot read with its own flavors.

``mlflow.pyfunc.load_model`` imports the module named in a package's ``python_function`` section and
calls ``_load_pyfunc(path)``; for such packages (a LightGBM classifier, whose file is a booster) this
loads the package with Shipyard, hash check and signature included.
"""

from __future__ import annotations

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
    # Never trusted: a package read by MLflow from wherever it was pointed at must not run pickles.
    return ShipyardPyfunc(load_model(path))
