"""ONNX models (``onnx.ModelProto``), run with onnxruntime on the CPU."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from shipyard.models.flavors.base import Flavor, register

__all__ = ["OnnxFlavor"]

FILE = "model.onnx"


@register
class OnnxFlavor(Flavor):
    name: ClassVar[str] = "onnx"

    def accepts(self, model: Any) -> bool:
        return type(model).__name__ == "ModelProto" and type(model).__module__.startswith("onnx")

    def save(self, model: Any, folder: Path) -> dict[str, Any]:
        import onnx

        onnx.save_model(model, str(folder / FILE))
        return {"onnx_version": onnx.__version__, "data": FILE, "providers": ["CPUExecutionProvider"]}

    def load(self, folder: Path, conf: dict[str, Any]) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # serving runs many batches in parallel; one thread each
        return onnxruntime.InferenceSession(
            str(folder / conf.get("data", FILE)), options, providers=["CPUExecutionProvider"]
        )

    def _run(self, session: Any, data: Any) -> list[Any]:
        array = np.asarray(data.to_numpy() if hasattr(data, "to_numpy") else data)
        first = session.get_inputs()[0]
        if "float" in first.type and array.dtype != np.float32:
            array = array.astype(np.float32)
        return session.run(None, {first.name: array})

    def predict(self, model: Any, data: Any) -> Any:
        return self._run(model, data)[0]

    def predict_proba(self, model: Any, data: Any) -> Any | None:
        outputs = self._run(model, data)
        if len(outputs) < 2:
            return None
        probabilities = outputs[1]
        if isinstance(probabilities, list):  # ZipMap output: a dict per row
            keys = sorted(probabilities[0])
            return np.array([[row[k] for k in keys] for row in probabilities])
        return np.asarray(probabilities)

    def python_function_conf(self, conf: dict[str, Any]) -> dict[str, Any] | None:
        return {"loader_module": "mlflow.onnx", "data": conf["data"]}
