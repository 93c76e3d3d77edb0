"""XGBoost models (``Booster`` and the scikit-learn API estimators) in XGBoost's own UBJSON format.

The MLmodel section matches MLflow's ``xgboost`` flavor (``data``, ``model_class``, ``model_format``),
so ``mlflow.xgboost``/``mlflow.pyfunc`` load Shipyard packages and Shipyard loads MLflow's. Loading
instantiates ``model_class`` only from a fixed list of XGBoost classes: the name comes from the package,
and a package must not be able to make us construct an arbitrary object.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from shipyard.core.errors import IntegrityError
from shipyard.models.flavors.base import Flavor, register

__all__ = ["XGBoostFlavor"]

FORMAT = "ubj"
_CLASSES = {
    "xgboost.core.Booster": "Booster",
    "xgboost.sklearn.XGBClassifier": "XGBClassifier",
    "xgboost.sklearn.XGBRegressor": "XGBRegressor",
    "xgboost.sklearn.XGBRanker": "XGBRanker",
    "xgboost.sklearn.XGBRFClassifier": "XGBRFClassifier",
    "xgboost.sklearn.XGBRFRegressor": "XGBRFRegressor",
}


def _qualified_name(model: Any) -> str:
    return f"{type(model).__module__}.{type(model).__qualname__}"


@register
class XGBoostFlavor(Flavor):
    name: ClassVar[str] = "xgboost"

    def accepts(self, model: Any) -> bool:
        # Checked by name first so that saving a scikit-learn model never imports XGBoost.
        return _qualified_name(model) in _CLASSES

    def save(self, model: Any, folder: Path) -> dict[str, Any]:
        import xgboost

        data = f"model.{FORMAT}"
        model.save_model(str(folder / data))
        return {
            "xgb_version": xgboost.__version__,
            "data": data,
            "model_class": _qualified_name(model),
            "model_format": FORMAT,
            "code": None,
        }

    def load(self, folder: Path, conf: dict[str, Any]) -> Any:
        import xgboost

        model_class = conf.get("model_class", "xgboost.core.Booster")
        if model_class not in _CLASSES:
            raise IntegrityError(
                f"model_class {model_class!r} is not an XGBoost model class Shipyard loads; "
                f"expected one of {', '.join(sorted(_CLASSES))}",
                field="model_class",
            )
        model = getattr(xgboost, _CLASSES[model_class])()
        model.load_model(str(folder / conf["data"]))
        return model

    def predict(self, model: Any, data: Any) -> Any:
        import xgboost

        if isinstance(model, xgboost.Booster):
            return model.predict(xgboost.DMatrix(data))
        return model.predict(data)

    def predict_proba(self, model: Any, data: Any) -> Any | None:
        method = getattr(model, "predict_proba", None)
        return method(data) if callable(method) else None

    def python_function_conf(self, conf: dict[str, Any]) -> dict[str, Any] | None:
        return {"loader_module": "mlflow.xgboost", "data": conf["data"]}
