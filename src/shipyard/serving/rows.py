"""The canonical, validated input of one request: ``Rows``.

Every protocol codec (native, Open Inference V2, MLflow ``/invocations``) turns its body into ``Rows``
through the functions here, so the three share one set of rules, the same rules as
``Signature.enforce`` but on NumPy arrays: ``enforce`` builds a DataFrame per request, which costs
hundreds of microseconds, while a one-row request here takes a few.

- Tabular signature: ``Rows.columns`` holds every signature column, in signature order, as a 1-D array
  of the column's type (float64 for double, int64 for long, bool, object for string ...). A missing
  optional column is filled with missing values.
- Tensor signature: ``Rows.tensor`` is an ndarray of shape ``(n, ...)`` in the signature's dtype.
- No signature: named input becomes ``columns`` (types as sent, in the order sent); unnamed input
  becomes ``tensor``.

Each error is an ``InvalidParameterError`` whose ``field`` names the column or input at fault.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from shipyard.core.errors import InvalidParameterError
from shipyard.models.signature import ColumnSpec, Signature, TensorSpec

__all__ = [
    "MAX_ROWS",
    "Rows",
    "concat",
    "records_to_columns",
    "to_model_input",
    "validate_array",
    "validate_columns",
]

MAX_ROWS = 10_000

# NumPy failures that mean "this data is not what it should be" (never a bug of ours).
_CONVERSION_ERRORS = (ValueError, TypeError, OverflowError)
_FLOAT_TYPES = {"double": np.dtype(np.float64), "float": np.dtype(np.float32)}
_INT_TYPES = {"long": np.dtype(np.int64), "integer": np.dtype(np.int32)}
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}
# Text that means "no value" in CSV (the common subset of pandas' defaults).
NA_STRINGS = frozenset({"", "NA", "N/A", "NaN", "nan", "NULL", "null", "None", "<NA>", "#N/A", "n/a", "-nan"})


@dataclass(frozen=True, slots=True)
class Rows:
    """One request's input, validated: ``n`` rows as named ``columns`` or as one ``tensor``."""

    n: int
    columns: dict[str, np.ndarray] | None = None
    tensor: np.ndarray | None = None

    @property
    def key(self) -> tuple[Any, ...]:
        """Parts with equal keys can be concatenated (column names, or the tensor's trailing shape)."""
        if self.columns is not None:
            return ("columns", tuple(self.columns))
        assert self.tensor is not None
        return ("tensor", self.tensor.shape[1:])


# -- entry points -------------------------------------------------------------------------------------


def validate_columns(
    signature: Signature | None, columns: dict[str, Any], *, max_rows: int = MAX_ROWS, extra: str = "error"
) -> Rows:
    """Named columns (lists or arrays, one value per row) -> ``Rows``.

    ``extra="ignore"`` drops columns the signature does not name (as MLflow's scoring server does);
    the default refuses them.

    >>> from shipyard.models.signature import infer_signature
    >>> sig = infer_signature({"age": [31], "income": [1.5]})
    >>> rows = validate_columns(sig, {"income": [2.0, 3.5], "age": [40.0, 52]})
    >>> rows.n, list(rows.columns), rows.columns["age"].dtype.name
    (2, ['age', 'income'], 'int64')
    """
    if not isinstance(columns, dict):
        raise InvalidParameterError("input must map column names to lists of values", field="inputs")
    if signature is not None and isinstance(signature.inputs, TensorSpec):
        if len(columns) != 1:
            raise InvalidParameterError(
                f"the model takes one tensor; got {len(columns)} named inputs {_names(columns)}",
                field="inputs",
            )
        return validate_array(signature, next(iter(columns.values())), max_rows=max_rows)
    if signature is not None:
        plan = _plan(signature)
        if extra == "ignore" and columns.keys() != plan.index.keys():
            columns = {name: values for name, values in columns.items() if name in plan.index}
        if plan.float_only is not None and columns.keys() == plan.index.keys():
            block = _float_block(plan, [columns[name] for name in plan.names])
            if block is not None:  # all numbers, all the same length: one conversion for every column
                _check_count(block.shape[1], max_rows)
                return Rows(block.shape[1], columns=dict(zip(plan.names, block, strict=True)))
    arrays = {str(name): _column_array(str(name), values) for name, values in columns.items()}
    n = _common_length(arrays)
    _check_count(n, max_rows)
    if signature is None:
        return Rows(n, columns={name: _infer_column(name, a) for name, a in arrays.items()})
    return Rows(n, columns=_typed_columns(_plan(signature), arrays, n))


def validate_array(
    signature: Signature | None,
    array: Any,
    names: list[str] | None = None,
    *,
    max_rows: int = MAX_ROWS,
    extra: str = "error",
) -> Rows:
    """2-D data in signature column order (or in the order of ``names``), or a tensor -> ``Rows``.

    >>> validate_array(None, [[1.0, 2.0], [3.0, 4.0]]).tensor.shape
    (2, 2)
    """
    if names is not None:
        return _named_array(signature, array, names, max_rows, extra)
    if signature is not None and isinstance(signature.inputs, TensorSpec):
        tensor = _tensor(signature.inputs, array)
        _check_count(tensor.shape[0], max_rows)
        return Rows(tensor.shape[0], tensor=tensor)
    if signature is None:
        tensor = _any_array(array, "inputs")
        if tensor.ndim == 0:
            raise InvalidParameterError("input must be a list of rows; got a single value", field="inputs")
        _check_count(tensor.shape[0], max_rows)
        return Rows(tensor.shape[0], tensor=tensor)
    plan = _plan(signature)
    matrix = _matrix(plan, array)
    _check_count(matrix.shape[0], max_rows)
    if matrix.shape[1] != len(plan.specs):
        raise InvalidParameterError(
            f"input rows have {matrix.shape[1]} values; the model takes {len(plan.specs)} columns "
            f"({_short(plan.names)})",
            field="inputs",
        )
    if matrix.dtype == plan.float_only:
        return Rows(matrix.shape[0], columns=dict(zip(plan.names, matrix.T, strict=True)))
    arrays = {spec.name: matrix[:, j] for j, spec in enumerate(plan.specs)}
    return Rows(matrix.shape[0], columns=_typed_columns(plan, arrays, matrix.shape[0]))


def records_to_columns(records: Any, *, missing: str = "error") -> dict[str, list[Any]]:
    """``[{col: value}, ...]`` -> ``{col: [values]}``, columns in order of first appearance.

    ``missing="error"`` refuses a record without a key that others have; ``"null"`` fills ``None``
    (as pandas does for MLflow's ``dataframe_records``).

    >>> records_to_columns([{"a": 1, "b": 2}, {"b": 3}], missing="null")
    {'a': [1, None], 'b': [2, 3]}
    """
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InvalidParameterError("rows must be a list of objects {column: value}", field="rows")
    if not records:
        raise InvalidParameterError("input has no rows", field="rows")
    first = records[0]
    if all(r.keys() == first.keys() for r in records):  # the common case: one pass per column
        return {str(name): [r[name] for r in records] for name in first}
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    if missing == "error":
        for index, record in enumerate(records):
            absent = [name for name in names if name not in record]
            if absent:
                raise InvalidParameterError(
                    f"row {index} has no value for column(s) {_short(absent)}; every row needs the same "
                    "columns (use null for a missing value)",
                    field=str(absent[0]),
                )
    return {str(name): [r.get(name) for r in records] for name in names}


def concat(parts: Sequence[Rows]) -> Rows:
    """Merge the inputs of many requests for one model call (``np.concatenate`` per column).

    >>> a, b = validate_array(None, [[1, 2]]), validate_array(None, [[3, 4], [5, 6]])
    >>> concat([a, b]).tensor.tolist()
    [[1, 2], [3, 4], [5, 6]]
    """
    if not parts:
        raise InvalidParameterError("nothing to concatenate", field="inputs")
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    key = first.key
    for part in parts[1:]:
        if part.key != key:
            raise InvalidParameterError(
                "requests with different columns or tensor shapes cannot share a model call", field="inputs"
            )
    n = sum(p.n for p in parts)
    if first.columns is not None:
        merged = {name: np.concatenate([p.columns[name] for p in parts]) for name in first.columns}  # type: ignore[index]
        return Rows(n, columns=merged)
    return Rows(n, tensor=np.concatenate([p.tensor for p in parts]))  # type: ignore[misc]


def to_model_input(rows: Rows, signature: Signature | None) -> Any:
    """What the model's ``predict`` takes: a DataFrame named like the signature, else the ndarray."""
    if rows.columns is None:
        return rows.tensor
    import pandas as pd  # only here: building the frame is the one pandas step, once per batch

    names = list(rows.columns)
    arrays = list(rows.columns.values())
    dtype = arrays[0].dtype
    if dtype.kind in "biuf" and all(a.dtype == dtype for a in arrays):
        # One 2-D block: pandas builds it without per-column consolidation (10x faster for 30 columns).
        return pd.DataFrame(np.column_stack(arrays), columns=names, copy=False)
    return pd.DataFrame(dict(zip(names, arrays, strict=True)), copy=False)


# -- signature plans (computed once per signature, looked up by identity) -----------------------------


@dataclass(frozen=True, slots=True)
class _Plan:
    specs: tuple[ColumnSpec, ...]
    names: tuple[str, ...]
    index: dict[str, int]
    float_only: np.dtype | None  # every column double (or every column float): one conversion of the block


_PLANS: dict[int, tuple[Signature, _Plan]] = {}


def _plan(signature: Signature) -> _Plan:
    entry = _PLANS.get(id(signature))
    if entry is not None and entry[0] is signature:
        return entry[1]
    specs = signature.inputs
    assert isinstance(specs, tuple)
    types = {spec.type for spec in specs}
    float_only = _FLOAT_TYPES[next(iter(types))] if len(types) == 1 and types <= _FLOAT_TYPES.keys() else None
    plan = _Plan(specs, tuple(s.name for s in specs), {s.name: i for i, s in enumerate(specs)}, float_only)
    if len(_PLANS) > 512:  # signatures of unloaded models must not pile up
        _PLANS.clear()
    _PLANS[id(signature)] = (signature, plan)
    return plan


# -- tabular ------------------------------------------------------------------------------------------


def _named_array(
    signature: Signature | None, array: Any, names: list[str], max_rows: int, extra: str
) -> Rows:
    if not isinstance(names, list) or not all(isinstance(n, str | int) for n in names):
        raise InvalidParameterError("columns must be a list of names", field="columns")
    keys = [str(n) for n in names]
    if len(set(keys)) != len(keys):
        duplicate = next(k for k in keys if keys.count(k) > 1)
        raise InvalidParameterError(f"column {duplicate} appears more than once", field=duplicate)
    if signature is not None and isinstance(signature.inputs, tuple):
        plan = _plan(signature)
        if tuple(keys) == plan.names:  # the usual case: no re-ordering needed
            return validate_array(signature, array, max_rows=max_rows)
    matrix = _any_array(array, "data") if signature is None else _object_matrix(array)
    if matrix.ndim == 1 and len(keys) == 1:
        matrix = matrix.reshape(-1, 1)
    if matrix.ndim != 2 or matrix.shape[1] != len(keys):
        raise InvalidParameterError(
            f"data must be rows of {len(keys)} values (one per column: {_short(keys)}); "
            f"got shape {list(matrix.shape)}",
            field="data",
        )
    columns = {k: matrix[:, j] for j, k in enumerate(keys)}
    return validate_columns(signature, columns, max_rows=max_rows, extra=extra)


def _matrix(plan: _Plan, array: Any) -> np.ndarray:
    """Rows of values -> a 2-D array: float when every column is, object otherwise (keeps each type)."""
    matrix: np.ndarray | None = None
    if plan.float_only is not None:
        try:
            matrix = np.asarray(array, dtype=plan.float_only)
        except _CONVERSION_ERRORS:
            matrix = None  # ragged, strings or nested: the general path finds and names the problem
    if matrix is None:
        matrix = _object_matrix(array)
    if matrix.ndim == 1 and (len(plan.specs) > 1 or (matrix.size and _is_list(matrix.flat[0]))):
        matrix = matrix.reshape(1, -1) if len(plan.specs) > 1 else matrix
    if matrix.ndim == 1:
        matrix = matrix.reshape(-1, 1)
    if matrix.ndim != 2:
        raise InvalidParameterError(
            f"input must be rows of {len(plan.specs)} values; got shape {list(matrix.shape)}", field="inputs"
        )
    return matrix


def _float_block(plan: _Plan, values: list[Any]) -> np.ndarray | None:
    """Columns of numbers -> one (columns, rows) float array, or None to take the checking path."""
    try:
        block = np.asarray(values, dtype=plan.float_only)
    except _CONVERSION_ERRORS:
        return None
    return block if block.ndim == 2 else None


def _object_matrix(array: Any) -> np.ndarray:
    if isinstance(array, np.ndarray):
        return array
    try:
        matrix = np.array(array, dtype=object)
    except _CONVERSION_ERRORS as exc:
        raise InvalidParameterError(
            f"input cannot be read as rows of values: {exc}", field="inputs"
        ) from None
    if matrix.ndim == 1 and matrix.size and any(_is_list(v) for v in matrix):
        raise InvalidParameterError("input rows have different lengths (ragged rows)", field="inputs")
    return matrix


def _typed_columns(plan: _Plan, arrays: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    if arrays.keys() != plan.index.keys():
        _check_names(plan, arrays)
    out: dict[str, np.ndarray] = {}
    for spec in plan.specs:
        values = arrays.get(spec.name)
        out[spec.name] = _missing_column(spec, n) if values is None else convert_column(spec, values)
    return out


def _check_names(plan: _Plan, arrays: dict[str, np.ndarray]) -> None:
    missing = [s.name for s in plan.specs if s.required and s.name not in arrays]
    if missing:
        raise InvalidParameterError(
            f"input is missing column(s) {_short(missing)}; expected {_short(plan.names)}", field=missing[0]
        )
    extra = [name for name in arrays if name not in plan.index]
    if extra:
        raise InvalidParameterError(
            f"input has unknown column(s) {_short(extra)}; expected {_short(plan.names)}", field=extra[0]
        )


def _missing_column(spec: ColumnSpec, n: int) -> np.ndarray:
    if spec.type in _FLOAT_TYPES:
        return np.full(n, np.nan, dtype=_FLOAT_TYPES[spec.type])
    return np.full(n, None, dtype=object)


def _column_array(name: str, values: Any) -> np.ndarray:
    if isinstance(values, np.ndarray):
        array = values
    elif isinstance(values, list | tuple):
        try:
            array = np.asarray(values)
        except _CONVERSION_ERRORS:
            array = _object_vector(values)  # nested cells (lists, dicts): kept as Python objects
        if array.dtype.kind in "US":  # NumPy turned [1, "a"] into text: keep each value's own type
            array = _object_vector(values)
    else:
        raise InvalidParameterError(
            f"column {name} must be a list of values; got {type(values).__name__}", field=name
        )
    if array.ndim != 1:
        if array.ndim == 2 and array.shape[1] == 1:
            return array[:, 0]
        array = _object_vector(list(values))
    return array


def _object_vector(values: Any) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = list(values) if not isinstance(values, list) else [*values]
    return array


def _common_length(arrays: dict[str, np.ndarray]) -> int:
    if not arrays:
        raise InvalidParameterError("input has no columns", field="inputs")
    lengths = {name: len(a) for name, a in arrays.items()}
    n = next(iter(lengths.values()))
    if any(length != n for length in lengths.values()):
        detail = ", ".join(f"{name} has {length}" for name, length in list(lengths.items())[:6])
        raise InvalidParameterError(f"columns have different lengths: {detail}", field=next(iter(lengths)))
    return n


def convert_column(spec: ColumnSpec, values: np.ndarray) -> np.ndarray:
    """One column -> the spec's type, or an ``InvalidParameterError`` naming the column and a bad value."""
    kind = values.dtype.kind
    if spec.type in _FLOAT_TYPES:
        target = _FLOAT_TYPES[spec.type]
        if kind in "biuf":
            return values.astype(target, copy=False)
        try:
            return _text_to_float(values).astype(target, copy=False)
        except _CONVERSION_ERRORS:
            bad = _first(values, _not_number)
            raise InvalidParameterError(
                f"column {spec.name} must hold numbers ({spec.type}); got {bad!r}", field=spec.name
            ) from None
    if spec.type in _INT_TYPES:
        return _to_int(spec, values, _INT_TYPES[spec.type])
    if spec.type == "boolean":
        return _to_bool(spec, values)
    if spec.type == "string":
        return _to_text(spec, values)
    if spec.type == "binary":
        return _to_binary(spec, values)
    if spec.type == "datetime":
        try:
            return values if kind == "M" else np.asarray(values, dtype="datetime64[ns]")
        except _CONVERSION_ERRORS:
            raise InvalidParameterError(
                f"column {spec.name} must hold dates and times (datetime); got {_sample(values)}",
                field=spec.name,
            ) from None
    return values if kind == "O" else values.astype(object)  # array, object, map, any: passed through


def _text_to_float(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind in "US" or (values.dtype.kind == "O" and any(isinstance(v, str) for v in values)):
        values = np.array(
            [np.nan if isinstance(v, str) and v.strip() in NA_STRINGS else v for v in values], dtype=object
        )
    return values.astype(np.float64)


def _to_int(spec: ColumnSpec, values: np.ndarray, target: np.dtype) -> np.ndarray:
    kind = values.dtype.kind
    if kind == "b" or (kind == "O" and any(isinstance(v, bool) for v in values.tolist())):
        bad = _first(values, lambda v: isinstance(v, bool | np.bool_))
        raise InvalidParameterError(
            f"column {spec.name} must hold whole numbers ({spec.type}); got {bad!r}", field=spec.name
        )
    if kind == "O" and all(type(v) is int for v in values.tolist()):
        try:  # exact Python ints: no detour through float (which would round past 2**53)
            values, kind = np.array(values.tolist(), dtype=np.int64), "i"
        except OverflowError:
            raise _out_of_range(spec, target) from None
    elif kind not in "iuf":
        try:
            values, kind = _text_to_float(values), "f"
        except _CONVERSION_ERRORS:
            bad = _first(values, lambda v: _not_number(v) or isinstance(v, bool))
            raise InvalidParameterError(
                f"column {spec.name} must hold whole numbers ({spec.type}); got {bad!r}", field=spec.name
            ) from None
    if kind == "f":
        if not np.isfinite(values).all():
            raise InvalidParameterError(
                f"column {spec.name} ({spec.type}) cannot hold NaN, infinite or missing values",
                field=spec.name,
            )
        fractional = values != np.floor(values)
        if fractional.any():
            bad = values[fractional][0].item()
            raise InvalidParameterError(
                f"column {spec.name} must hold whole numbers ({spec.type}); got {bad!r}",
                field=spec.name,
            )
    if values.size and (kind != "i" or values.dtype.itemsize > target.itemsize):
        info = np.iinfo(target)
        if values.min() < info.min or values.max() > info.max:
            raise _out_of_range(spec, target)
    return values.astype(target, copy=False)


def _out_of_range(spec: ColumnSpec, target: np.dtype) -> InvalidParameterError:
    info = np.iinfo(target)
    return InvalidParameterError(
        f"column {spec.name} ({spec.type}) holds a value outside [{info.min}, {info.max}]", field=spec.name
    )


def _to_bool(spec: ColumnSpec, values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "b":
        return values
    out = np.empty(len(values), dtype=bool)
    for i, value in enumerate(values.tolist()):
        if isinstance(value, bool):
            out[i] = value
        elif isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:  # CSV text
            out[i] = value.strip().lower() in _TRUE
        elif _is_missing(value) or (isinstance(value, str) and value.strip() in NA_STRINGS):
            raise InvalidParameterError(
                f"column {spec.name} (boolean) cannot hold NaN or missing values", field=spec.name
            )
        else:
            raise InvalidParameterError(
                f"column {spec.name} must hold true or false (boolean); got {value!r}", field=spec.name
            )
    return out


def _to_text(spec: ColumnSpec, values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "U":
        return values.astype(object)
    if values.dtype.kind == "O":
        bad = _first(values, lambda v: not (isinstance(v, str) or _is_missing(v)))
        if bad is _NONE:
            return values
        if isinstance(bad, bytes):  # binary-encoded text (V2 BYTES): decode it
            try:
                return np.array([v.decode() if isinstance(v, bytes) else v for v in values], dtype=object)
            except UnicodeDecodeError:
                pass
        raise InvalidParameterError(
            f"column {spec.name} must hold text (string); got {bad!r}", field=spec.name
        )
    raise InvalidParameterError(
        f"column {spec.name} must hold text (string); got {values.dtype} values like {_sample(values)}",
        field=spec.name,
    )


def _to_binary(spec: ColumnSpec, values: np.ndarray) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values.tolist()):
        if isinstance(value, bytes) or value is None:
            out[i] = value
        elif isinstance(value, str):  # JSON carries bytes as base64, as MLflow's clients send them
            try:
                out[i] = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise InvalidParameterError(
                    f"column {spec.name} (binary) must hold base64 text; got {value[:40]!r}", field=spec.name
                ) from None
        else:
            raise InvalidParameterError(
                f"column {spec.name} must hold bytes (binary); got {value!r}", field=spec.name
            )
    return out


def _infer_column(name: str, array: np.ndarray) -> np.ndarray:
    """No signature: keep what was sent, but as a dtype a model can take (text as object)."""
    if array.dtype.kind in "US":
        return array.astype(object)
    if array.dtype.kind == "O":
        values = array.tolist()
        if any(type(v) in (int, float) for v in values) and all(
            v is None or type(v) in (int, float) for v in values
        ):
            return array.astype(np.float64)  # numbers with gaps (null): float with NaN, as pandas reads them
    return array


# -- tensors ------------------------------------------------------------------------------------------


def _any_array(array: Any, field: str) -> np.ndarray:
    if isinstance(array, np.ndarray):
        return array.astype(object) if array.dtype.kind == "U" else array
    try:
        result = np.asarray(array)
    except _CONVERSION_ERRORS as exc:
        raise InvalidParameterError(_array_problem(exc), field=field) from None
    if result.dtype.kind in "US":
        result = np.array(array, dtype=object)
    elif result.dtype.kind == "O" and result.ndim >= 1 and any(_is_list(v) for v in result.flat):
        raise InvalidParameterError("input rows have different lengths (ragged rows)", field=field)
    return result


def _array_problem(exc: Exception) -> str:
    text = str(exc)
    if "inhomogeneous" in text:
        return "input rows have different lengths (ragged rows)"
    return f"input cannot be read as an array: {text}"


def _tensor(spec: TensorSpec, data: Any) -> np.ndarray:
    target = np.dtype(spec.dtype)
    array: np.ndarray | None = None
    if not isinstance(data, np.ndarray) and target.kind == "f":
        try:
            array = np.asarray(data, dtype=target)
        except _CONVERSION_ERRORS:
            array = None
    if array is None:
        array = _any_array(data, "inputs")
    if array.ndim == 0 or array.shape[0] == 0:
        _check_count(0 if array.ndim else 1, MAX_ROWS)
    if array.ndim == len(spec.shape) - 1 and len(spec.shape) >= 2:
        array = array.reshape(1, *array.shape)  # one row sent without its batch dimension
    if array.ndim != len(spec.shape):
        raise InvalidParameterError(
            f"input must have {len(spec.shape)} dimensions {list(spec.shape)}; got shape {list(array.shape)}",
            field="inputs",
        )
    for axis, (want, got) in enumerate(zip(spec.shape, array.shape, strict=True)):
        if want != -1 and want != got and axis > 0:
            raise InvalidParameterError(
                f"input dimension {axis} must be {want}; got {got} (shape {list(array.shape)})",
                field="inputs",
            )
    if array.dtype == target:
        return array
    return _cast_tensor(array, target, spec.dtype)


def _cast_tensor(array: np.ndarray, target: np.dtype, name: str) -> np.ndarray:
    kind = array.dtype.kind
    if target.kind in "iu":
        if kind in "OUS":
            try:
                array = _text_to_float(array.ravel()).reshape(array.shape)
            except _CONVERSION_ERRORS:
                raise InvalidParameterError(
                    f"input must hold whole numbers ({name})", field="inputs"
                ) from None
            kind = "f"
        if kind == "f":
            if not np.isfinite(array).all():
                raise InvalidParameterError(
                    f"input ({name}) cannot hold NaN or infinite values", field="inputs"
                )
            if not (array == np.floor(array)).all():
                raise InvalidParameterError(f"input must hold whole numbers ({name})", field="inputs")
        info = np.iinfo(target)
        if array.size and kind != "b" and (array.min() < info.min or array.max() > info.max):
            raise InvalidParameterError(
                f"input ({name}) holds a value outside [{info.min}, {info.max}]", field="inputs"
            )
        return array.astype(target)
    if target.kind in "fc":
        try:
            return (_text_to_float(array.ravel()).reshape(array.shape) if kind in "OUS" else array).astype(
                target
            )
        except _CONVERSION_ERRORS:
            raise InvalidParameterError(f"input must hold numbers ({name})", field="inputs") from None
    if target.kind == "b":
        if kind != "b":
            raise InvalidParameterError(f"input must hold true or false ({name})", field="inputs")
        return array
    try:
        return array.astype(target)
    except _CONVERSION_ERRORS:
        raise InvalidParameterError(f"input cannot be read as {name}", field="inputs") from None


# -- small helpers ------------------------------------------------------------------------------------

_NONE = object()


def _first(values: np.ndarray, bad: Any) -> Any:
    for value in values.tolist() if isinstance(values, np.ndarray) else values:
        if bad(value):
            return value
    return _NONE


def _not_number(value: Any) -> bool:
    if value is None or isinstance(value, int | float):
        return False
    if isinstance(value, str):
        if value.strip() in NA_STRINGS:
            return False
        try:
            float(value)
        except ValueError:
            return True
        return False
    return True


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple | np.ndarray)


def _sample(values: np.ndarray) -> str:
    return (
        repr(values.flat[0].item() if hasattr(values.flat[0], "item") else values.flat[0])
        if values.size
        else "nothing"
    )


def _short(names: Sequence[Any], limit: int = 8) -> str:
    shown = ", ".join(str(n) for n in list(names)[:limit])
    return shown + (f" ... ({len(names)} in all)" if len(names) > limit else "")


def _names(columns: dict[str, Any]) -> str:
    return _short(list(columns))


def _check_count(n: int, max_rows: int) -> None:
    if n == 0:
        raise InvalidParameterError("input has no rows", field="inputs")
    if n > max_rows:
        raise InvalidParameterError(
            f"input has {n} rows; the limit is {max_rows} rows per request (split it into smaller requests)",
            field="inputs",
        )
