"""LightGBM models (``Booster``, ``LGBMClassifier``, ``LGBMRegressor``) as LightGBM's text model file.

The scikit-learn estimators are saved as their booster's model file plus what the file does not
hold (the estimator class and the class labels), and load back as ``LightGBMModel``, which predicts
as the estimator did: labels and probabilities for a classifier, values for a regressor.

The MLmodel section follows MLflow's ``lightgbm`` flavor with ``model_class: lightgbm.basic.Booster``,
because that is what the file is: ``mlflow.lightgbm.load_model`` returns the booster. MLflow's pyfunc
of a booster returns class-1 probabilities, so a classifier's ``python_function`` section names
``shipyard.models.mlflow_loader`` instead (labels, as ``mlflow.sklearn`` would give; MLflow then
needs Shipyard installed). Shipyard also loads MLflow's own LightGBM packages: boosters from their
model file, scikit-learn estimators through the scikit-learn flavor (skops, or pickle when trusted).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from shipyard.models.flavors.base import Flavor, register

__all__ = ["LightGBMFlavor", "LightGBMModel"]

FILE = "model.lgb"
BOOSTER = "lightgbm.basic.Booster"
_ESTIMATORS = {"lightgbm.sklearn.LGBMClassifier", "lightgbm.sklearn.LGBMRegressor"}


def _qualified_name(model: Any) -> str:
    return f"{type(model).__module__}.{type(model).__qualname__}"


@dataclass(frozen=True)
class LightGBMModel:
    """A loaded LightGBM package: the booster, and the classes when it was a classifier."""

    booster: Any
    estimator: str  # the saved object's class, e.g. lightgbm.sklearn.LGBMClassifier
    classes: np.ndarray | None = None

    def predict_proba(self, data: Any) -> np.ndarray | None:
        if self.classes is None:
            return None
        scores = np.asarray(self.booster.predict(data))
        return np.column_stack([1.0 - scores, scores]) if scores.ndim == 1 else scores

    def predict(self, data: Any) -> np.ndarray:
        probabilities = self.predict_proba(data)
        if probabilities is None:
            return np.asarray(self.booster.predict(data))
        assert self.classes is not None
        return self.classes[np.argmax(probabilities, axis=1)]


@register
class LightGBMFlavor(Flavor):
    name: ClassVar[str] = "lightgbm"

    def accepts(self, model: Any) -> bool:
        # By name, so that saving other models never imports LightGBM.
        return _qualified_name(model) in {BOOSTER, *_ESTIMATORS}

    def runs_code(self, conf: dict[str, Any]) -> bool:
        from shipyard.models.flavors.sklearn import SklearnFlavor

        is_estimator = conf.get("model_class", BOOSTER) != BOOSTER
        return is_estimator and SklearnFlavor().runs_code(_sklearn_conf(conf))

    def save(self, model: Any, folder: Path) -> dict[str, Any]:
        import lightgbm

        estimator = _qualified_name(model)
        booster = model if estimator == BOOSTER else model.booster_
        booster.save_model(str(folder / FILE))
        conf: dict[str, Any] = {
            "lgb_version": lightgbm.__version__,
            "data": FILE,
            "model_class": BOOSTER,
            "code": None,
            "estimator_class": estimator,
        }
        if hasattr(model, "classes_"):
            conf["classes"] = np.asarray(model.classes_).tolist()
        return conf

    def load(self, folder: Path, conf: dict[str, Any]) -> Any:
        import lightgbm

        if conf.get("model_class", BOOSTER) != BOOSTER:  # MLflow's scikit-learn-API packages
            from shipyard.models.flavors.sklearn import SklearnFlavor

            return SklearnFlavor().load(folder, _sklearn_conf(conf))
        booster = lightgbm.Booster(model_file=str(folder / conf.get("data", FILE)))
        classes = conf.get("classes")
        return LightGBMModel(
            booster, conf.get("estimator_class", BOOSTER), None if classes is None else np.asarray(classes)
        )

    def predict(self, model: Any, data: Any) -> Any:
        return model.predict(data)

    def predict_proba(self, model: Any, data: Any) -> Any | None:
        method = getattr(model, "predict_proba", None)
        return method(data) if callable(method) else None

    def python_function_conf(self, conf: dict[str, Any]) -> dict[str, Any] | None:
        if conf.get("classes") is not None:
            return {"loader_module": "shipyard.models.mlflow_loader"}
        return {"loader_module": "mlflow.lightgbm", "data": conf["data"]}


def _sklearn_conf(conf: dict[str, Any]) -> dict[str, Any]:
    return {
        "pickled_model": conf.get("data"),
        "serialization_format": conf.get("serialization_format") or "cloudpickle",
        "skops_trusted_types": conf.get("skops_trusted_types"),
    }
