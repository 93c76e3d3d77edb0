"""Value conversion for ``rows``: one column to its signature type, one tensor to its spec.

Kept apart from ``rows`` (which orchestrates: names, lengths, fast paths) so each stays readable.
Every problem is an ``InvalidParameterError`` naming the column, with a sample of the bad value.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import math
from typing import Any

import numpy as np

from shipyard.core.errors import InvalidParameterError
from shipyard.models.signature import ColumnSpec, TensorSpec

__all__ = [
    "CONVERSION_ERRORS",
    "FLOAT_TYPES",
    "NA_STRINGS",
    "FloatRangeError",
    "any_array",
    "as_float",
    "convert_column",
    "infer_column",
    "is_list",
    "tensor_array",
]

# NumPy failures that mean "this data is not what it should be" (never a bug of ours).
CONVERSION_ERRORS = (ValueError, TypeError, OverflowError)
FLOAT_TYPES = {"double": np.dtype(np.float64), "float": np.dtype(np.float32)}
_INT_TYPES = {"long": np.dtype(np.int64), "integer": np.dtype(np.int32)}
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}
# Text that means "no value" in CSV (the common subset of pandas' defaults).
# Text that means "no value" in CSV (the common subset of pandas' defaults).
NA_STRINGS = frozenset({"", "NA", "N/A", "NaN", "nan", "NULL", "null", "None", "<NA>", "#N/A", "n/a", "-nan"})


class FloatRangeError(OverflowError):
    """A finite number too large for a narrow float type (it would silently become infinity)."""


def as_float(values: Any, target: np.dtype) -> np.ndarray:
    """Numbers -> a float array of ``target``; ``FloatRangeError`` for a value past float32/16's range.

    >>> as_float([1, 2.5], np.dtype("float32")).tolist()
    [1.0, 2.5]
    """
    wide = np.asarray(values, dtype=np.float64)
    if target == wide.dtype:
        return wide
    with np.errstate(over="ignore"):
        narrow = wide.astype(target)
    if np.isinf(narrow).any() and (np.isinf(narrow) & np.isfinite(wide)).any():
        limit = np.finfo(target).max
        raise FloatRangeError(f"holds a value outside the {target} range (about ±{limit:.4g})")
    return narrow


def convert_column(spec: ColumnSpec, values: np.ndarray) -> np.ndarray:
    """One column -> the spec's type, or an ``InvalidParameterError`` naming the column and a bad value."""
    kind = values.dtype.kind
    if spec.type in FLOAT_TYPES:
        target = FLOAT_TYPES[spec.type]
        try:
            return as_float(values if kind in "biuf" else _text_to_float(values), target)
        except FloatRangeError as exc:
            raise InvalidParameterError(f"column {spec.name} ({spec.type}) {exc}", field=spec.name) from None
        except CONVERSION_ERRORS:
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
        except CONVERSION_ERRORS:
            raise InvalidParameterError(
                f"column {spec.name} must hold dates and times (datetime); got {_sample(values)}",
                field=spec.name,
            ) from None
    return values if kind == "O" else values.astype(object)  # array, object, map, any: passed through


def _text_to_float(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "U":
        try:  # NumPy parses plain numbers itself; only text like "" or "NA" needs the slower path
            return values.astype(np.float64)
        except ValueError:
            pass
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
    if kind == "U":
        with contextlib.suppress(ValueError, OverflowError):  # strict: "1.5" and "" take the float path
            values, kind = values.astype(np.int64), "i"
    if kind == "O" and all(type(v) is int for v in values.tolist()):
        try:  # exact Python ints: no detour through float (which would round past 2**53)
            values, kind = np.array(values.tolist(), dtype=np.int64), "i"
        except OverflowError:
            raise _out_of_range(spec, target) from None
    elif kind not in "iuf":
        try:
            values, kind = _text_to_float(values), "f"
        except CONVERSION_ERRORS:
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


def infer_column(name: str, array: np.ndarray) -> np.ndarray:
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


def any_array(array: Any, field: str) -> np.ndarray:
    if isinstance(array, np.ndarray):
        return array.astype(object) if array.dtype.kind == "U" else array
    try:
        result = np.asarray(array)
    except CONVERSION_ERRORS as exc:
        raise InvalidParameterError(_array_problem(exc), field=field) from None
    if result.dtype.kind in "US":
        result = np.array(array, dtype=object)
    elif result.dtype.kind == "O" and result.ndim >= 1 and any(is_list(v) for v in result.flat):
        raise InvalidParameterError("input rows have different lengths (ragged rows)", field=field)
    return result


def _array_problem(exc: Exception) -> str:
    text = str(exc)
    if "inhomogeneous" in text:
        return "input rows have different lengths (ragged rows)"
    return f"input cannot be read as an array: {text}"


def tensor_array(spec: TensorSpec, data: Any) -> np.ndarray:
    target = np.dtype(spec.dtype)
    array: np.ndarray | None = None
    if not isinstance(data, np.ndarray) and target.kind == "f":
        try:
            array = as_float(data, target)
        except CONVERSION_ERRORS:
            array = None
    if array is None:
        array = any_array(data, "inputs")
    if array.ndim and array.shape[0] == 0:
        raise InvalidParameterError("input has no rows", field="inputs")
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
    return _casttensor_array(array, target, spec.dtype)


def _casttensor_array(array: np.ndarray, target: np.dtype, name: str) -> np.ndarray:
    kind = array.dtype.kind
    if target.kind in "iu":
        if kind in "OUS":
            try:
                array = _text_to_float(array.ravel()).reshape(array.shape)
            except CONVERSION_ERRORS:
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
    if target.kind == "f":
        try:
            return as_float(
                _text_to_float(array.ravel()).reshape(array.shape) if kind in "OUS" else array, target
            )
        except FloatRangeError as exc:
            raise InvalidParameterError(f"input ({name}) {exc}", field="inputs") from None
        except CONVERSION_ERRORS:
            raise InvalidParameterError(f"input must hold numbers ({name})", field="inputs") from None
    if target.kind == "b":
        if kind != "b":
            raise InvalidParameterError(f"input must hold true or false ({name})", field="inputs")
        return array
    try:
        return array.astype(target)
    except CONVERSION_ERRORS:
        raise InvalidParameterError(f"input cannot be read as {name}", field="inputs") from None


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


def is_list(value: Any) -> bool:
    return isinstance(value, list | tuple | np.ndarray)


def _sample(values: np.ndarray) -> str:
    return (
        repr(values.flat[0].item() if hasattr(values.flat[0], "item") else values.flat[0])
        if values.size
        else "nothing"
    )
