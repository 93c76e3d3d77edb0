"""MLflow ``python_model`` packages: an ``mlflow.pyfunc.PythonModel`` subclass, cloudpickled.

Shipyard loads them without MLflow's loader: unpickle the object, call ``load_context`` with the
package's artifacts, then ``predict(context, model_input[, params])`` as MLflow would. The pickle
refers to ``mlflow.pyfunc.PythonModel`` by name, so unpickling imports MLflow; when it is not
installed the error says so. Loading runs the pickle's code, so ``load_model`` allows it only for
trusted packages. Saving such an object from Shipyard writes the same layout, which
``mlflow.pyfunc.load_model`` reads.
"""

from __future__ import annotations

import bz2
import gzip
import inspect
import lzma
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, ClassVar

from shipyard.core.errors import ConfigurationError, InvalidParameterError
from shipyard.models.flavors.base import Flavor, register

__all__ = ["MlflowPythonModel", "MlflowPythonModelFlavor", "PythonModelContext"]

FILE = "python_model.pkl"
LOADER = "mlflow.pyfunc.model"
_BASE = "mlflow.pyfunc.model.PythonModel"
_OPENERS: dict[str, Callable[..., IO[bytes]]] = {"lzma": lzma.open, "bzip2": bz2.open, "gzip": gzip.open}


@dataclass(frozen=True)
class PythonModelContext:
    """What MLflow hands ``load_context`` and ``predict``: artifact paths and the model config."""

    artifacts: dict[str, str] = field(default_factory=dict)
    model_config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MlflowPythonModel:
    """A loaded ``python_model`` with its context, called the way MLflow's pyfunc wrapper calls it."""

    python_model: Any
    context: PythonModelContext
    takes_context: bool
    takes_params: bool

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        kwargs = {"params": params} if self.takes_params else {}
        if self.takes_context:
            return self.python_model.predict(self.context, data, **kwargs)
        return self.python_model.predict(data, **kwargs)


def _calling_convention(python_model: Any) -> tuple[bool, bool]:
    """(takes context, takes params), by MLflow's rule: a ``context`` parameter, or two positional ones."""
    parameters = inspect.signature(python_model.predict).parameters
    positional = [name for name in parameters if name not in ("self", "params")]
    return "context" in parameters or len(positional) == 2, "params" in parameters


@register
class MlflowPythonModelFlavor(Flavor):
    name: ClassVar[str] = "python_function"
    executes_code: ClassVar[bool] = True

    def accepts(self, model: Any) -> bool:
        # By class name: MLflow is imported only when such an object is actually saved or loaded.
        return any(f"{c.__module__}.{c.__qualname__}" == _BASE for c in type(model).__mro__)

    def save(self, model: Any, folder: Path) -> dict[str, Any]:
        import cloudpickle

        with open(folder / FILE, "wb") as handle:
            cloudpickle.dump(model, handle)
        return {
            "loader_module": LOADER,
            "python_model": FILE,
            "cloudpickle_version": cloudpickle.__version__,
            "artifacts": {},
        }

    def load(self, folder: Path, conf: dict[str, Any]) -> Any:
        import cloudpickle

        loader = conf.get("loader_module")
        if loader != LOADER or "python_model" not in conf:
            raise InvalidParameterError(
                f"this python_function package uses loader_module {loader!r}"
                f"{' (models from code)' if 'model_code_path' in conf else ''}; Shipyard loads MLflow "
                f"pyfunc packages written by {LOADER} with a pickled python_model",
                field="loader_module",
            )
        if conf.get("code"):  # MLflow's code_paths: modules the pickle imports
            code = str((folder / conf["code"]).resolve())
            if code not in sys.path:
                sys.path.insert(0, code)
        opener = _OPENERS.get(conf.get("python_model_compression") or "", open)
        try:
            with opener(folder / conf["python_model"], "rb") as handle:
                python_model = cloudpickle.load(handle)
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] != "mlflow":
                raise
            raise ConfigurationError(
                "this model is an MLflow python_model: loading it needs the mlflow package "
                "(pip install mlflow) in the serving environment",
                field="model",
            ) from exc
        artifacts = {name: str(folder / info["path"]) for name, info in (conf.get("artifacts") or {}).items()}
        context = PythonModelContext(artifacts, dict(conf.get("model_config") or {}))
        load_context = getattr(python_model, "load_context", None)
        if callable(load_context):
            load_context(context)
        return MlflowPythonModel(python_model, context, *_calling_convention(python_model))

    def predict(self, model: Any, data: Any) -> Any:
        return model.predict(data)

    def predict_with_params(self, model: Any, data: Any, params: dict[str, Any] | None) -> Any:
        return model.predict(data, params)

    def python_function_conf(self, conf: dict[str, Any]) -> dict[str, Any] | None:
        return dict(conf)
