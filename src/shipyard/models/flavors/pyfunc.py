"""The python-function flavor: any object with ``predict``, for models no other flavor knows.

Saving pickles the object (cloudpickle), so loading executes code: ``load_model`` allows it only for
trusted packages — the caller's own files, or the platform's registry after the hash check — never
for bytes a client sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from shipyard.models.flavors.base import Flavor, register

__all__ = ["PythonModel", "PythonModelFlavor"]

FILE = "python_model.pkl"


class PythonModel:
    """Subclass and implement ``predict`` (and optionally ``predict_proba``) to package any model."""

    def predict(self, data: Any) -> Any:
        raise NotImplementedError


@register
class PythonModelFlavor(Flavor):
    name: ClassVar[str] = "python_model"
    executes_code: ClassVar[bool] = True

    def accepts(self, model: Any) -> bool:
        return isinstance(model, PythonModel)

    def save(self, model: Any, folder: Path) -> dict[str, Any]:
        import cloudpickle

        with open(folder / FILE, "wb") as handle:
            cloudpickle.dump(model, handle)
        return {"python_model": FILE}

    def load(self, folder: Path, conf: dict[str, Any]) -> Any:
        import cloudpickle

        with open(folder / conf.get("python_model", FILE), "rb") as handle:
            return cloudpickle.load(handle)

    def predict(self, model: Any, data: Any) -> Any:
        return model.predict(data)

    def predict_proba(self, model: Any, data: Any) -> Any | None:
        method = getattr(model, "predict_proba", None)
        return method(data) if callable(method) else None

    def python_function_conf(self, conf: dict[str, Any]) -> dict[str, Any] | None:
        return {"loader_module": "shipyard.models.mlflow_loader"}
