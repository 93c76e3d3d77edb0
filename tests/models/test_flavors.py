"""Common checks over every registered flavor (all examples of each)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shipyard.core.errors import IntegrityError, InvalidParameterError
from shipyard.models import load_model, save_model
from shipyard.models.flavors import FLAVORS
from shipyard.testing.flavor_checks import FLAVOR_EXAMPLES

EXAMPLES = sorted(FLAVOR_EXAMPLES)

# MLflow warns, each time the example python_model class is made (also when unpickled), that an
# ``Any`` type hint is no input schema it can validate; the hint is deliberate.
pytestmark = pytest.mark.filterwarnings("ignore:.*Type hint used in the model's predict function:UserWarning")


@pytest.mark.parametrize("name", sorted(FLAVORS))
def test_every_flavor_has_an_example(name: str) -> None:
    covered = {FLAVOR_EXAMPLES[example]().flavor for example in EXAMPLES}
    assert name in covered, f"add an example for the {name} flavor to shipyard.testing.flavor_checks"


@pytest.mark.parametrize("example_id", EXAMPLES)
def test_save_load_predicts_the_same(example_id: str, tmp_path: Path) -> None:
    example = FLAVOR_EXAMPLES[example_id]()
    path = save_model(example.model, tmp_path / "pkg", input_example=example.features)
    loaded = load_model(path, trusted=example.trusted)
    assert loaded.flavor.name == example.flavor
    assert loaded.manifest["flavor"] == example.flavor
    predictions = np.asarray(loaded.predict(example.features))
    if predictions.dtype.kind == "f":
        np.testing.assert_allclose(predictions, np.asarray(example.expected), rtol=1e-6)
    else:
        np.testing.assert_array_equal(predictions, np.asarray(example.expected))
    probabilities = loaded.predict_proba(example.features)
    if example.expected_proba is None:
        assert probabilities is None
    else:
        np.testing.assert_allclose(np.asarray(probabilities), example.expected_proba, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("example_id", EXAMPLES)
def test_flavor_is_chosen_by_model_type(example_id: str, tmp_path: Path) -> None:
    example = FLAVOR_EXAMPLES[example_id]()
    manifest = load_model(save_model(example.model, tmp_path / "pkg"), trusted=example.trusted).manifest
    assert manifest["flavor"] == example.flavor


@pytest.mark.parametrize("example_id", EXAMPLES)
def test_tampered_file_is_refused(example_id: str, tmp_path: Path) -> None:
    example = FLAVOR_EXAMPLES[example_id]()
    path = save_model(example.model, tmp_path / "pkg", input_example=example.features)
    model_file = next(p for p in path.iterdir() if p.name.startswith(("model.", "python_model")))
    model_file.write_bytes(model_file.read_bytes() + b"\0")
    with pytest.raises(IntegrityError, match=f"{model_file.name} does not match its recorded SHA-256"):
        load_model(path, trusted=True)


@pytest.mark.parametrize("example_id", EXAMPLES)
def test_signature_is_enforced(example_id: str, tmp_path: Path) -> None:
    example = FLAVOR_EXAMPLES[example_id]()
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


@pytest.mark.parametrize("example_id", ["python_model", "mlflow-python-model"])
def test_pickle_flavors_need_trust(example_id: str, tmp_path: Path) -> None:
    example = FLAVOR_EXAMPLES[example_id]()
    path = save_model(example.model, tmp_path / "pkg")
    with pytest.raises(IntegrityError, match="runs code when loaded"):
        load_model(path)


def test_saving_into_an_existing_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    with pytest.raises(InvalidParameterError, match="exists"):
        save_model(FLAVOR_EXAMPLES["sklearn"]().model, tmp_path / "pkg")
    with pytest.raises(InvalidParameterError, match="no flavor"):
        save_model(object(), tmp_path / "other")


def test_xgboost_model_class_outside_the_allow_list_is_refused(tmp_path: Path) -> None:
    import json

    example = FLAVOR_EXAMPLES["xgboost-classifier"]()
    path = save_model(example.model, tmp_path / "pkg")
    manifest = json.loads((path / "shipyard.json").read_text())
    manifest["flavor_conf"]["model_class"] = "subprocess.Popen"
    (path / "shipyard.json").write_text(json.dumps(manifest))
    with pytest.raises(IntegrityError, match=r"subprocess\.Popen") as refused:
        load_model(path)
    assert refused.value.field == "model_class"


def test_xgboost_version_is_recorded_under_the_installed_distribution(tmp_path: Path) -> None:
    """``xgboost`` and the CPU-only ``xgboost-cpu`` wheel install the same module under two names."""
    import xgboost

    from shipyard.models.package import load_manifest

    path = save_model(FLAVOR_EXAMPLES["xgboost-classifier"]().model, tmp_path / "pkg")
    libraries = load_manifest(path)["libraries"]
    recorded = [libraries.get("xgboost"), libraries.get("xgboost-cpu")]
    assert xgboost.__version__ in recorded, libraries


def test_mlflow_python_model_without_mlflow_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from shipyard.core.errors import ConfigurationError

    example = FLAVOR_EXAMPLES["mlflow-python-model"]()
    path = save_model(example.model, tmp_path / "pkg")
    for module in [name for name in sys.modules if name == "mlflow" or name.startswith("mlflow.")]:
        monkeypatch.setitem(sys.modules, module, None)  # as if MLflow were not installed
    with pytest.raises(ConfigurationError, match="needs the mlflow package"):
        load_model(path, trusted=True)
