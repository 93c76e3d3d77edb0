"""Model signatures: what a model takes, inferred from an input example, enforced on every request.

Two forms, as in MLflow: named columns (tabular models; each column has a type) or one tensor (a
dtype and a shape with -1 for any size). Both serialise to MLflow's ``MLmodel`` JSON strings, so
signatures written by either tool are read by the other. ``enforce`` turns request data into what the
model expects, or raises ``InvalidParameterError`` naming the column and the problem.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from shipyard.core.errors import InvalidParameterError

__all__ = ["ColumnSpec", "Signature", "TensorSpec", "infer_signature"]

# MLflow column type -> NumPy kind(s) accepted for it.
_COLUMN_TYPES = {
    "boolean": "b",
    "integer": "iu",
    "long": "iu",
    "float": "fiu",
    "double": "fiu",
    "string": "OUS",
    "binary": "OS",
    "datetime": "M",
}
_NUMPY_TO_COLUMN = {
    "b": "boolean",
    "i": "long",
    "u": "long",
    "f": "double",
    "O": "string",
    "U": "string",
    "S": "binary",
    "M": "datetime",
}


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str
    required: bool = True


@dataclass(frozen=True)
class TensorSpec:
    dtype: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class Signature:
    inputs: tuple[ColumnSpec, ...] | TensorSpec
    outputs: TensorSpec | tuple[ColumnSpec, ...] | None = None

    @property
    def columns(self) -> list[str]:
        return list(self.column_names)

    @functools.cached_property
    def column_names(self) -> tuple[str, ...]:
        """The input column names in order (none for a tensor signature); computed once, read per request."""
        return tuple(c.name for c in self.inputs) if isinstance(self.inputs, tuple) else ()

    # -- MLflow's representation ------------------------------------------------------------------
    def to_mlflow(self) -> dict[str, str | None]:
        return {
            "inputs": json.dumps(_spec_json(self.inputs)),
            "outputs": json.dumps(_spec_json(self.outputs)) if self.outputs is not None else None,
            "params": None,
        }

    @classmethod
    def from_mlflow(cls, data: dict[str, Any]) -> Signature:
        def parse(text: str | None) -> tuple[ColumnSpec, ...] | TensorSpec | None:
            if not text:
                return None
            items = json.loads(text)
            if items and items[0].get("type") == "tensor":
                spec = items[0]["tensor-spec"]
                return TensorSpec(spec["dtype"], tuple(spec["shape"]))
            # Output columns may be unnamed in MLflow's files; name them by position.
            return tuple(
                ColumnSpec(str(i.get("name", index)), i["type"], i.get("required", True))
                for index, i in enumerate(items)
            )

        inputs = parse(data.get("inputs"))
        if inputs is None:
            raise InvalidParameterError("the model's signature has no inputs", field="signature")
        return cls(inputs=inputs, outputs=parse(data.get("outputs")))

    # -- enforcement ------------------------------------------------------------------------------
    def enforce(self, data: Any) -> Any:
        """Check and convert request data: a DataFrame for columns, an ndarray for a tensor."""
        if isinstance(self.inputs, TensorSpec):
            return _enforce_tensor(self.inputs, data)
        return _enforce_columns(self.inputs, data)


def _spec_json(spec: tuple[ColumnSpec, ...] | TensorSpec | None) -> list[dict[str, Any]]:
    if isinstance(spec, TensorSpec):
        return [{"type": "tensor", "tensor-spec": {"dtype": spec.dtype, "shape": list(spec.shape)}}]
    return [{"type": c.type, "name": c.name, "required": c.required} for c in spec or ()]


def _enforce_tensor(spec: TensorSpec, data: Any) -> np.ndarray:
    try:
        array = np.asarray(data.to_numpy() if hasattr(data, "to_numpy") else data)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"input cannot be read as an array: {exc}", field="inputs") from None
    if array.ndim == 1 and len(spec.shape) == 2:
        array = array.reshape(1, -1)
    if array.ndim != len(spec.shape):
        raise InvalidParameterError(
            f"input must have {len(spec.shape)} dimensions {list(spec.shape)}; got shape {list(array.shape)}",
            field="inputs",
        )
    for axis, (want, got) in enumerate(zip(spec.shape, array.shape, strict=True)):
        if want != -1 and want != got:
            raise InvalidParameterError(
                f"input dimension {axis} must be {want}; got {got} (shape {list(array.shape)})",
                field="inputs",
            )
    target = np.dtype(spec.dtype)
    if array.dtype.kind == "O" or (array.dtype.kind not in "biuf" and target.kind in "biuf"):
        try:
            array = array.astype(target)
        except (TypeError, ValueError):
            raise InvalidParameterError(f"input must be {spec.dtype} numbers", field="inputs") from None
    elif target.kind in "f" and array.dtype != target:
        array = array.astype(target)
    elif target.kind in "iu" and array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.all(np.mod(array, 1) == 0):
            raise InvalidParameterError(f"input must be whole numbers ({spec.dtype})", field="inputs")
        array = array.astype(target)
    return array


def _enforce_columns(columns: tuple[ColumnSpec, ...], data: Any) -> Any:
    import pandas as pd

    if isinstance(data, dict):
        data = pd.DataFrame(data)
    elif not isinstance(data, pd.DataFrame):
        raise InvalidParameterError("input must be a table with named columns", field="inputs")
    names = [c.name for c in columns]
    missing = [c.name for c in columns if c.required and c.name not in data.columns]
    if missing:
        raise InvalidParameterError(
            f"input is missing column(s) {', '.join(missing)}; expected {', '.join(names)}", field=missing[0]
        )
    extra = [str(c) for c in data.columns if c not in names]
    if extra:
        raise InvalidParameterError(
            f"input has unknown column(s) {', '.join(extra)}; expected {', '.join(names)}", field=extra[0]
        )
    converted = {}
    for column in columns:
        if column.name not in data.columns:
            continue
        values = data[column.name]
        converted[column.name] = _column_values(column, values)
    return pd.DataFrame(converted, index=data.index)[[n for n in names if n in converted]]


def _column_values(column: ColumnSpec, values: Any) -> Any:
    import pandas as pd

    kinds = _COLUMN_TYPES.get(column.type)
    if kinds is None:
        return values  # types we do not check (array, object, map, any) pass through
    kind = values.dtype.kind
    if column.type in ("double", "float") and kind in "biuf":
        return values.astype("float64" if column.type == "double" else "float32")
    if column.type in ("long", "integer"):
        if kind in "iu":
            return values
        if kind == "f" and values.notna().all() and (values % 1 == 0).all():
            return values.astype("int64" if column.type == "long" else "int32")
        raise InvalidParameterError(
            f"column {column.name} must hold whole numbers ({column.type}); got {_sample(values)}",
            field=column.name,
        )
    if kind in kinds:
        return values
    if kind == "O" and column.type in ("double", "float"):
        numeric = pd.to_numeric(values, errors="coerce")
        bad = values[numeric.isna() & values.notna()]
        if len(bad):
            raise InvalidParameterError(
                f"column {column.name} must hold numbers ({column.type}); got {bad.iloc[0]!r}",
                field=column.name,
            )
        return numeric.astype("float64")
    raise InvalidParameterError(
        f"column {column.name} must be {column.type}; got {values.dtype} values like {_sample(values)}",
        field=column.name,
    )


def _sample(values: Any) -> str:
    return repr(values.iloc[0]) if len(values) else "nothing"


def infer_signature(input_example: Any, output_example: Any = None) -> Signature:
    """Columns from a DataFrame or dict of columns; a tensor from an array or nested lists.

    >>> infer_signature({"age": [31, 45], "income": [1.5, 2.0]}).columns
    ['age', 'income']
    >>> infer_signature([[0.1, 0.2, 0.3]]).inputs
    TensorSpec(dtype='float64', shape=(-1, 3))
    """
    return Signature(
        inputs=_infer(input_example), outputs=None if output_example is None else _infer(output_example)
    )


def _infer(example: Any) -> tuple[ColumnSpec, ...] | TensorSpec:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if isinstance(example, dict):
        example = pd.DataFrame(example)
    if pd is not None and isinstance(example, pd.DataFrame):
        return tuple(
            ColumnSpec(str(name), _NUMPY_TO_COLUMN.get(example[name].dtype.kind, "string"))
            for name in example.columns
        )
    if pd is not None and isinstance(example, pd.Series):
        example = example.to_numpy()
    array = np.asarray(example)
    if array.dtype.kind not in "biuf":
        raise InvalidParameterError(
            f"cannot infer a tensor signature from {array.dtype} data; give a DataFrame",
            field="input_example",
        )
    return TensorSpec(str(array.dtype), (-1, *array.shape[1:]))
