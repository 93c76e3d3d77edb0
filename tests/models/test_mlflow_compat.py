"""MLflow compatibility both ways, with the real ``mlflow`` client.

Models logged by ``mlflow`` through Shipyard's MLflow API load with ``Client.load_model``; packages
saved by Shipyard load with ``mlflow.pyfunc.load_model`` and predict the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shipyard import Client
from shipyard._client.embedded import EmbeddedClient
from shipyard.core.errors import IntegrityError
from shipyard.core.platform import Platform
from shipyard.models import fetch_package, load_model, save_model
from shipyard.testing.flavor_checks import FLAVOR_EXAMPLES
from shipyard.testing.flavor_models import mlflow_scaled_sum_model

mlflow = pytest.importorskip("mlflow", reason="the mlflow client is in the test extra")

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*Type hint used in the model's predict function:UserWarning",
    # MLflow's own notice when it logs a model in a pickle format; that is what these tests do.
    "ignore:.*Saving the models in the pickle or cloudpickle format:UserWarning",
)


def _same(actual: Any, expected: Any) -> None:
    actual, expected = np.asarray(actual), np.asarray(expected)
    if expected.dtype.kind == "f":
        np.testing.assert_allclose(actual.astype(float), expected, rtol=1e-6)
    else:
        np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("example_id", sorted(FLAVOR_EXAMPLES))
def test_mlflow_pyfunc_loads_shipyard_packages(
    example_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = FLAVOR_EXAMPLES[example_id]()
    if example.trusted:  # MLflow, too, refuses pickles unless told otherwise
        monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    path = save_model(example.model, tmp_path / "pkg", input_example=example.features)
    theirs = mlflow.pyfunc.load_model(str(path)).predict(example.features)
    if isinstance(theirs, dict):  # MLflow's ONNX pyfunc answers every output by name; labels come first
        theirs = theirs["label"]
    _same(theirs, example.expected)


def test_mlflow_refuses_shipyard_pickles_without_the_opt_in(tmp_path: Path) -> None:
    example = FLAVOR_EXAMPLES["python_model"]()
    path = save_model(example.model, tmp_path / "pkg", input_example=example.features)
    with pytest.raises(IntegrityError, match="runs code when loaded"):
        mlflow.pyfunc.load_model(str(path))


def _log_with_mlflow(mlflow_url: str, flavor: str, model: Any, registered: str, **kwargs: Any) -> None:
    module = getattr(mlflow, flavor)
    with mlflow.start_run():
        if flavor == "pyfunc":
            module.log_model(name="model", python_model=model, registered_model_name=registered, **kwargs)
        else:
            module.log_model(model, name="model", registered_model_name=registered, **kwargs)


def test_mlflow_logged_sklearn_skops_and_cloudpickle_load(mlflow_url: str, tmp_path: Path) -> None:
    example = FLAVOR_EXAMPLES["sklearn"]()
    _log_with_mlflow(mlflow_url, "sklearn", example.model, "sk-skops", serialization_format="skops")
    _log_with_mlflow(mlflow_url, "sklearn", example.model, "sk-pickle", serialization_format="cloudpickle")
    with Client(mlflow_url) as client:
        for name in ("sk-skops", "sk-pickle"):
            loaded = client.load_model(f"models:/{name}/1", cache_dir=tmp_path)
            assert loaded.flavor.name == "sklearn" and loaded.manifest["source"] == "mlflow"
            _same(loaded.predict(example.features), example.expected)
            _same(loaded.predict_proba(example.features), example.expected_proba)
        pickled = fetch_package(client, "models:/sk-pickle/1", tmp_path)
    load_model(fetch_package_path := pickled.path, trusted=True)
    with pytest.raises(IntegrityError, match="runs code when loaded"):
        load_model(fetch_package_path)  # outside the registry path nobody vouches for the pickle


def test_mlflow_logged_python_model_loads_and_takes_params(mlflow_url: str, tmp_path: Path) -> None:
    features = FLAVOR_EXAMPLES["sklearn"]().features
    model = mlflow_scaled_sum_model(scale=0.5)
    _log_with_mlflow(mlflow_url, "pyfunc", model, "scorer", input_example=features)
    with Client(mlflow_url) as client:
        loaded = client.load_model("models:/scorer/latest", cache_dir=tmp_path)
    assert loaded.flavor.name == "python_function"
    expected = features.to_numpy().sum(axis=1) * 0.5
    np.testing.assert_allclose(loaded.predict(features), expected)
    np.testing.assert_allclose(loaded.predict(features, params={"factor": 2.0}), expected * 2)


@pytest.mark.parametrize(
    ("example_id", "flavor"),
    [
        ("xgboost-classifier", "xgboost"),
        ("xgboost-booster", "xgboost"),
        ("lightgbm-classifier", "lightgbm"),
        ("lightgbm-booster", "lightgbm"),
    ],
)
def test_mlflow_logged_boosting_models_load(
    mlflow_url: str, platform: Platform, example_id: str, flavor: str, tmp_path: Path
) -> None:
    example = FLAVOR_EXAMPLES[example_id]()
    _log_with_mlflow(mlflow_url, flavor, example.model, "booster", input_example=example.features)
    with EmbeddedClient(platform, owns_platform=False) as client:
        loaded = client.load_model("models:/booster/1", cache_dir=tmp_path)
    _same(loaded.predict(example.features), example.expected)
    if example.expected_proba is not None:
        np.testing.assert_allclose(loaded.predict_proba(example.features), example.expected_proba, rtol=1e-6)
