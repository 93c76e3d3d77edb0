"""scikit-learn models, stored with skops (no pickle): loading refuses types it does not trust.

MLflow's pickle and cloudpickle files load too, but only when ``load_model`` was told the package is
trusted (``runs_code`` says so for them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from shipyard.core.errors import IntegrityError
from shipyard.models.flavors._fastpaths import predictor_for
from shipyard.models.flavors.base import Flavor, register

__all__ = ["SklearnFlavor"]

FILE = "model.skops"
#: Types a package may ask skops to trust: classes of these libraries, never arbitrary callables.
LIBRARY_TYPES = (
    "sklearn.",
    "numpy.",
    "scipy.",
    "lightgbm.",
    "xgboost.",
    "collections.OrderedDict",
    "collections.defaultdict",
)
PICKLE_FORMATS = ("pickle", "cloudpickle")


@register
class SklearnFlavor(Flavor):
    name: ClassVar[str] = "sklearn"

    def accepts(self, model: Any) -> bool:
        try:
            from sklearn.base import BaseEstimator
        except ImportError:
            return False
        return isinstance(model, BaseEstimator)

    def runs_code(self, conf: dict[str, Any]) -> bool:
        return conf.get("serialization_format", "skops") in PICKLE_FORMATS

    def save(self, model: Any, folder: Path) -> dict[str, Any]:
        import sklearn
        import skops.io

        skops.io.dump(model, folder / FILE)
        # skops refuses, on load, library types outside its default list (a forest's Tree, say).
        # Record the ones this model needs; load accepts them only from the libraries named below.
        needed = sorted(skops.io.get_untrusted_types(file=folder / FILE))
        return {
            "pickled_model": FILE,
            "serialization_format": "skops",
            "sklearn_version": sklearn.__version__,
            "code": None,
            "skops_trusted_types": needed or None,
        }

    def load(self, folder: Path, conf: dict[str, Any]) -> Any:
        import skops.io

        path = folder / conf.get("pickled_model", FILE)
        serialization = conf.get("serialization_format", "skops")
        if serialization in PICKLE_FORMATS:
            # load_model lets this through only for trusted packages (runs_code is True).
            import cloudpickle

            with open(path, "rb") as handle:
                return cloudpickle.load(handle)
        if serialization != "skops":
            raise IntegrityError(
                f"{path.name} is in an unknown serialization format {serialization!r}; expected skops, "
                "cloudpickle or pickle",
                field="serialization_format",
            )
        trusted = [t for t in conf.get("skops_trusted_types") or [] if t.startswith(LIBRARY_TYPES)]
        untrusted = [t for t in skops.io.get_untrusted_types(file=path) if t not in trusted]
        if untrusted:
            raise IntegrityError(
                f"{path.name} contains types skops does not trust by default: {', '.join(untrusted)}"
                "; list them in skops_trusted_types when saving if you trust them",
                field="model",
            )
        return skops.io.load(path, trusted=trusted or None)

    def predict(self, model: Any, data: Any) -> Any:
        # A plain forest or linear model takes a faster way once it is proven to give its answers.
        fast, decided = predictor_for(model, data)
        if decided is not None:
            return decided
        return fast.predict(data) if fast is not None and fast.suits(data) else model.predict(data)

    def predict_proba(self, model: Any, data: Any) -> Any | None:
        if not hasattr(model, "predict_proba"):
            return None
        fast, _ = predictor_for(model, data)
        return (
            fast.predict_proba(data) if fast is not None and fast.suits(data) else model.predict_proba(data)
        )

    def python_function_conf(self, conf: dict[str, Any]) -> dict[str, Any] | None:
        return {
            "loader_module": "mlflow.sklearn",
            "model_path": conf["pickled_model"],
            "predict_fn": "predict",
        }
