"""Model packages: a folder with the model's files, an MLflow-compatible ``MLmodel`` and a manifest.

``shipyard.json`` records the flavor, the signature, the input example, library versions and the
SHA-256 of every other file. ``load_model`` verifies all of them before reading a byte of the model,
and refuses formats that run code on load (pickle) unless the caller vouches for the package
(``trusted=True``: its own files, or the registry's after the store's hash check, see
``shipyard.models.fetch``). Because ``MLmodel`` follows MLflow's layout, ``mlflow.pyfunc.load_model``
reads Shipyard packages, and Shipyard reads MLflow's scikit-learn (skops; pickle when trusted),
XGBoost, LightGBM, ONNX and ``python_model`` packages.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from shipyard.core.errors import IntegrityError, InvalidParameterError
from shipyard.models.flavors import get_flavor
from shipyard.models.flavors.base import Flavor, flavor_for
from shipyard.models.signature import Signature, infer_signature

__all__ = ["MANIFEST", "LoadedModel", "file_digests", "load_manifest", "load_model", "save_model"]

MANIFEST = "shipyard.json"
MLMODEL = "MLmodel"
INPUT_EXAMPLE = "input_example.json"
# The MLmodel sections load_model reads in packages MLflow wrote, in order of preference.
_MLFLOW_FLAVORS = ("sklearn", "xgboost", "lightgbm", "onnx", "python_function")
# Distribution names: XGBoost's CPU-only wheel is "xgboost-cpu" (same import name, no CUDA libraries).
_LIBRARIES = (
    "scikit-learn",
    "numpy",
    "pandas",
    "skops",
    "onnx",
    "onnxruntime",
    "xgboost",
    "xgboost-cpu",
    "lightgbm",
)


def file_digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` except the manifest, by relative POSIX path."""
    digests = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST):
        hasher = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(1024 * 1024):
                hasher.update(chunk)
        digests[path.relative_to(folder).as_posix()] = hasher.hexdigest()
    return digests


def _libraries() -> dict[str, str]:
    found = {}
    for name in _LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _example_json(example: Any) -> dict[str, Any]:
    if hasattr(example, "to_dict") and hasattr(example, "columns"):
        return {"columns": [str(c) for c in example.columns], "data": example.to_numpy().tolist()}
    if isinstance(example, dict):
        columns = list(example)
        return {"columns": columns, "data": [list(row) for row in zip(*example.values(), strict=True)]}
    return {"data": np.asarray(example).tolist()}


def _mlmodel_yaml(flavor: Flavor, conf: dict[str, Any], signature: Signature | None, model_id: str) -> str:
    import yaml

    sections: dict[str, Any] = {"flavors": {flavor.name: conf}}
    python_function = flavor.python_function_conf(conf)
    if python_function is not None:
        python_function["python_version"] = platform.python_version()
        sections["flavors"]["python_function"] = python_function
    if signature is not None:
        sections["signature"] = signature.to_mlflow()
    sections.update(
        {
            "model_uuid": model_id,
            "utc_time_created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
            "saved_input_example_info": {
                "artifact_path": INPUT_EXAMPLE,
                "type": "dataframe",
                "pandas_orient": "split",
            },
        }
    )
    return yaml.safe_dump(sections, sort_keys=True)


def save_model(
    model: Any,
    path: str | Path,
    *,
    flavor: str | None = None,
    input_example: Any = None,
    signature: Signature | None = None,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Write ``model`` as a package folder at ``path`` (which must not exist yet); returns the path.

    The signature is inferred from ``input_example`` when not given.
    """
    target = Path(path)
    if target.exists():
        raise InvalidParameterError(f"{target} exists; save into a new folder", field="path")
    chosen = get_flavor(flavor) if flavor else flavor_for(model)
    if signature is None and input_example is not None:
        signature = infer_signature(input_example)
    staging = Path(
        tempfile.mkdtemp(prefix=".shipyard-model-", dir=target.parent if target.parent.exists() else None)
    )
    try:
        conf = chosen.save(model, staging)
        model_id = uuid.uuid4().hex
        (staging / MLMODEL).write_text(_mlmodel_yaml(chosen, conf, signature, model_id))
        if input_example is not None:
            (staging / INPUT_EXAMPLE).write_text(json.dumps(_example_json(input_example)))
        manifest = {
            "format_version": 1,
            "flavor": chosen.name,
            "flavor_conf": conf,
            "model_uuid": model_id,
            "signature": signature.to_mlflow() if signature else None,
            "libraries": _libraries(),
            "python_version": platform.python_version(),
            "metadata": metadata or {},
            "files": file_digests(staging),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(target)  # the package appears whole or not at all
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


@dataclass
class LoadedModel:
    """A verified, loaded package: ``predict`` enforces the signature first."""

    flavor: Flavor
    model: Any
    signature: Signature | None
    manifest: dict[str, Any]

    def prepare(self, data: Any) -> Any:
        return self.signature.enforce(data) if self.signature is not None else data

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predictions for ``data``; ``params`` reach models that take them (MLflow pyfunc models)."""
        return self.flavor.predict_with_params(self.model, self.prepare(data), params)

    def predict_proba(self, data: Any) -> Any | None:
        return self.flavor.predict_proba(self.model, self.prepare(data))


def load_manifest(folder: str | Path) -> dict[str, Any]:
    """The ``shipyard.json`` of a package folder, as written by ``save_model`` (not verified)."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise InvalidParameterError(f"{folder} has no {MANIFEST}; it is not a Shipyard package", field="path")
    return dict(json.loads(path.read_text()))


def _verify(folder: Path, expected: dict[str, str]) -> None:
    actual = file_digests(folder)
    for name, digest in expected.items():
        if name not in actual:
            raise IntegrityError(f"model file {name} is missing from {folder}", field="model")
        if actual[name] != digest:
            raise IntegrityError(
                f"model file {name} does not match its recorded SHA-256; refusing to load", field="model"
            )
    extra = sorted(set(actual) - set(expected))
    if extra:
        raise IntegrityError(f"unexpected file(s) in the model package: {', '.join(extra)}", field="model")


def load_model(path: str | Path, *, trusted: bool = False) -> LoadedModel:
    """Load a package after checking every file's hash; pickle formats need ``trusted=True``.

    Packages written by MLflow (no ``shipyard.json``) load when their flavor is one Shipyard reads
    safely (skops scikit-learn, ONNX); their bytes are verified by the artifact store they come from.
    """
    import yaml

    folder = Path(path)
    manifest_path, mlmodel_path = folder / MANIFEST, folder / MLMODEL
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        _verify(folder, manifest["files"])
        flavor, conf = get_flavor(manifest["flavor"]), manifest["flavor_conf"]
        signature = Signature.from_mlflow(manifest["signature"]) if manifest.get("signature") else None
    elif mlmodel_path.is_file():
        mlmodel = yaml.safe_load(mlmodel_path.read_text()) or {}
        flavors = mlmodel.get("flavors") or {}
        name = next((n for n in _MLFLOW_FLAVORS if n in flavors), None)
        if name is None:
            raise InvalidParameterError(
                f"no flavor Shipyard can load in {sorted(flavors)}; it reads {', '.join(_MLFLOW_FLAVORS)}",
                field="model",
            )
        flavor, conf = get_flavor(name), flavors[name]
        signature = Signature.from_mlflow(mlmodel["signature"]) if mlmodel.get("signature") else None
        manifest = {"flavor": name, "flavor_conf": conf, "files": {}, "source": "mlflow"}
    else:
        raise InvalidParameterError(
            f"{folder} is not a model package (no {MANIFEST} or {MLMODEL})", field="path"
        )
    if flavor.runs_code(conf) and not trusted:
        raise IntegrityError(
            f"the {flavor.name} package at {folder} is a pickle, which runs code when loaded; only "
            "packages from the platform's own registry (trusted=True) may be loaded that way",
            field="model",
        )
    return LoadedModel(flavor, flavor.load(folder, conf), signature, manifest)
