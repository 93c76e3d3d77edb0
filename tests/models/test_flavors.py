"""Common checks over every registered flavor, plus MLflow compatibility both ways."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shipyard.core.errors import IntegrityError, InvalidParameterError
from shipyard.models import load_model, save_model
from shipyard.models.flavors import FLAVORS
from shipyard.testing.flavor_checks import FLAVOR_EXAMPLES

NAMES = sorted(FLAVORS)


@pytest.mark.parametrize("name", NAMES)
def test_every_flavor_has_an_example(name: str) -> None:
    assert name in FLAVOR_EXAMPLES, f"add an example for the {name} flavor to shipyard.testing.flavor_checks"


@pytest.mark.parametrize("name", NAMES)
def test_save_load_predicts_the_same(name: str, tmp_path: Path) -> None:
    example = FLAVOR_EXAMPLES[name]()
    path = save_model(example.model, tmp_path / "pkg", input_example=example.features)
    loaded = load_model(path, trusted=example.trusted)
    assert loaded.flavor.name == name
    expected = FLAVORS[name].predict(
        example.model if name != "onnx" else FLAVORS[name].load(path, loaded.manifest["flavor_conf"]),
        example.features,
    )
    np.testing.assert_array_equal(np.asarray(loaded.predict(example.features)), np.asarray(expected))


@pytest.mark.parametrize("name", NAMES)
def test_tampered_file_is_refused(name: str, tmp_path: Path) -> None:
    example = FLAVOR_EXAMPLES[name]()
    path = save_model(example.model, tmp_path / "pkg", input_example=example.features)
    model_file = next(p for p in path.iterdir() if p.name.startswith(("model.", "python_model")))
    model_file.write_bytes(model_file.read_bytes() + b"\0")
    with pytest.raises(IntegrityError, match="SHA-256"):
        load_model(path, trusted=True)


@pytest.mark.parametrize("name", NAMES)
def test_signature_is_enforced(name: str, tmp_path: Path) -> None:
    example = FLAVOR_EXAMPLES[name]()
    loaded = load_model(
        save_model(example.model, tmp_path / "pkg", input_example=example.features), trusted=example.trusted
    )
    features = example.features
    if hasattr(features, "columns"):
        with pytest.raises(InvalidParameterError) as missing:
            loaded.predict(features.drop(columns=features.columns[0]))
        assert missing.value.field == features.columns[0]
        bad = features.astype(object)
        bad.iloc[0, 1] = "not a number"
        with pytest.raises(InvalidParameterError, match="must hold numbers") as wrong:
            loaded.predict(bad)
        assert wrong.value.field == features.columns[1]
    else:
        with pytest.raises(InvalidParameterError, match="dimension 1"):
            loaded.predict(
                np.asarray(features)[:, :-1]
                if np.asarray(features).shape[1] > 1
                else np.hstack([features, features])
            )


def test_pickle_flavors_need_trust(tmp_path: Path) -> None:
    example = FLAVOR_EXAMPLES["python_model"]()
    path = save_model(example.model, tmp_path / "pkg")
    with pytest.raises(IntegrityError, match="runs code"):
        load_model(path)


def test_saving_into_an_existing_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    with pytest.raises(InvalidParameterError, match="exists"):
        save_model(FLAVOR_EXAMPLES["sklearn"]().model, tmp_path / "pkg")
    with pytest.raises(InvalidParameterError, match="no flavor"):
        save_model(object(), tmp_path / "other")


def test_mlflow_loads_shipyard_packages_and_back(tmp_path: Path) -> None:
    mlflow = pytest.importorskip("mlflow")
    example = FLAVOR_EXAMPLES["sklearn"]()
    path = save_model(example.model, tmp_path / "ours", input_example=example.features)
    theirs = mlflow.pyfunc.load_model(str(path))
    np.testing.assert_array_equal(theirs.predict(example.features), example.model.predict(example.features))
    import mlflow.sklearn

    mlflow.sklearn.save_model(example.model, str(tmp_path / "mlflow"), input_example=example.features)
    loaded = load_model(tmp_path / "mlflow")
    np.testing.assert_array_equal(loaded.predict(example.features), example.model.predict(example.features))
    mlflow.sklearn.save_model(example.model, str(tmp_path / "pickled"), serialization_format="cloudpickle")
    with pytest.raises(IntegrityError, match="only skops-format"):
        load_model(tmp_path / "pickled")
