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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from shipyard.core.errors import InvalidParameterError
from shipyard.models.signature import ColumnSpec, Signature, TensorSpec
from shipyard.serving._convert import (
    CONVERSION_ERRORS,
    FLOAT_TYPES,
    NA_STRINGS,
    FloatRangeError,
    any_array,
    as_float,
    convert_column,
    infer_column,
    is_list,
    tensor_array,
)

__all__ = [
    "MAX_ROWS",
    "NA_STRINGS",
    "FloatRangeError",
    "Rows",
    "as_float",
    "concat",
    "convert_column",
    "records_to_columns",
    "to_model_input",
    "validate_array",
    "validate_columns",
    "validate_records",
]

MAX_ROWS = 10_000


class Rows:
    """One request's input, validated: ``n`` rows as named ``columns`` or as one ``tensor``.

    When every column is float64, ``block`` holds the same values as one (n, columns) array and
    ``columns`` is built from it (views) only when read: ``concat`` joins one array per request,
    ``to_model_input`` hands it to pandas whole, and a one-row request does not pay for a dict of
    thirty views that nobody reads. Compared by identity (equality of arrays is ambiguous).
    """

    __slots__ = ("_columns", "_names", "block", "n", "tensor")

    def __init__(
        self,
        n: int,
        columns: dict[str, np.ndarray] | None = None,
        tensor: np.ndarray | None = None,
        block: np.ndarray | None = None,
        names: tuple[str, ...] | None = None,
    ) -> None:
        if names is not None and block is None:
            raise ValueError("names describe a block's columns: give the block too")
        self.n = n
        self.tensor = tensor
        self.block = block
        self._columns = columns
        self._names = names if names is not None or columns is None else tuple(columns)

    @property
    def columns(self) -> dict[str, np.ndarray] | None:
        if self._columns is None and self._names is not None:
            assert self.block is not None
            self._columns = dict(zip(self._names, self.block.T, strict=True))
        return self._columns

    @property
    def names(self) -> tuple[str, ...] | None:
        """The column names (None for a tensor), without building ``columns``."""
        return self._names

    @property
    def key(self) -> tuple[Any, ...]:
        """Parts with equal keys can be concatenated (column names, or the tensor's trailing shape)."""
        if self._names is not None:
            return ("columns", self._names)
        assert self.tensor is not None
        return ("tensor", self.tensor.shape[1:])

    def __repr__(self) -> str:
        shape = f"columns={list(self._names)}" if self._names is not None else f"tensor={self.tensor!r}"
        return f"Rows(n={self.n}, {shape})"


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
                return Rows(block.shape[1], block=block.T, names=plan.names)
    arrays = {str(name): _column_array(str(name), values) for name, values in columns.items()}
    n = _common_length(arrays)
    _check_count(n, max_rows)
    if signature is None:
        return Rows(n, columns={name: infer_column(name, a) for name, a in arrays.items()})
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
        tensor = tensor_array(signature.inputs, array)
        _check_count(tensor.shape[0], max_rows)
        return Rows(tensor.shape[0], tensor=tensor)
    if signature is None:
        tensor = any_array(array, "inputs")
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
        return Rows(matrix.shape[0], block=matrix, names=plan.names)
    arrays = {spec.name: matrix[:, j] for j, spec in enumerate(plan.specs)}
    return Rows(matrix.shape[0], columns=_typed_columns(plan, arrays, matrix.shape[0]))


def validate_records(
    signature: Signature | None,
    records: Any,
    *,
    missing: str = "error",
    max_rows: int = MAX_ROWS,
    extra: str = "error",
) -> Rows:
    """``[{col: value}, ...]`` -> ``Rows``; see ``records_to_columns`` for ``missing``.

    >>> validate_records(None, [{"a": 1.5}, {"a": 2.5}]).columns["a"].tolist()
    [1.5, 2.5]
    """
    if (
        signature is not None
        and isinstance(signature.inputs, tuple)
        and isinstance(records, list)
        and records
    ):
        names = _plan(signature).names
        width = len(names)
        try:  # every record has the signature's keys: one list of rows, as for ``data`` bodies
            matrix = [[record[name] for name in names] for record in records]
            exact = extra == "ignore" or all(len(record) == width for record in records)
        except (KeyError, TypeError):
            exact = False
        if exact:
            return validate_array(signature, matrix, max_rows=max_rows)
    columns = records_to_columns(records, missing=missing)
    return validate_columns(signature, columns, max_rows=max_rows, extra=extra)


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
    if first.names is not None and all(p.block is not None for p in parts):
        block = np.concatenate([p.block for p in parts])  # type: ignore[misc]
        return Rows(n, block=block, names=first.names)
    if first.columns is not None:
        merged = {name: np.concatenate([p.columns[name] for p in parts]) for name in first.columns}  # type: ignore[index]
        return Rows(n, columns=merged)
    return Rows(n, tensor=np.concatenate([p.tensor for p in parts]))  # type: ignore[misc]


def to_model_input(rows: Rows, signature: Signature | None) -> Any:
    """What the model's ``predict`` takes: a DataFrame named like the signature, else the ndarray."""
    if rows.names is None:
        return rows.tensor
    import pandas as pd  # only here: building the frame is the one pandas step, once per batch

    names = rows.names
    index = _INDEXES.get(names)
    if index is None:  # building the column Index is half the cost of a small frame: keep one per name list
        if len(_INDEXES) > 512:
            _INDEXES.clear()
        index = _INDEXES[names] = pd.Index(names)
    if rows.block is not None:
        return pd.DataFrame(rows.block, columns=index, copy=False)
    arrays = list(rows.columns.values())  # type: ignore[union-attr]
    dtype = arrays[0].dtype
    if dtype.kind in "biuf" and all(a.dtype == dtype for a in arrays):
        # One 2-D block: pandas builds it without per-column consolidation (10x faster for 30 columns).
        return pd.DataFrame(np.column_stack(arrays), columns=index, copy=False)
    return pd.DataFrame(dict(zip(names, arrays, strict=True)), copy=False)


_INDEXES: dict[tuple[str, ...], Any] = {}


# -- signature plans (computed once per signature, looked up by identity) -----------------------------


@dataclass(frozen=True, slots=True)
class _Plan:
    specs: tuple[ColumnSpec, ...]
    names: tuple[str, ...]
    index: dict[str, int]
    float_only: np.dtype | None  # every column double: one conversion for the whole block


_PLANS: dict[int, tuple[Signature, _Plan]] = {}


def _plan(signature: Signature) -> _Plan:
    entry = _PLANS.get(id(signature))
    if entry is not None and entry[0] is signature:
        return entry[1]
    specs = signature.inputs
    assert isinstance(specs, tuple)
    types = {spec.type for spec in specs}
    # Only double: narrower floats go through ``as_float``, which refuses values past their range.
    float_only = np.dtype(np.float64) if types == {"double"} else None
    plan = _Plan(specs, tuple(s.name for s in specs), {s.name: i for i, s in enumerate(specs)}, float_only)
    if len(_PLANS) > 512:  # signatures of unloaded models must not pile up
        _PLANS.clear()
    _PLANS[id(signature)] = (signature, plan)
    return plan


# -- tabular ------------------------------------------------------------------------------------------


def _named_array(
    signature: Signature | None, array: Any, names: list[str], max_rows: int, extra: str
) -> Rows:
    tabular = signature is not None and isinstance(signature.inputs, tuple)
    if tabular and isinstance(names, list) and tuple(names) == _plan(signature).names:  # type: ignore[arg-type]
        return validate_array(signature, array, max_rows=max_rows)  # signature order: nothing to re-order
    if not isinstance(names, list) or not all(isinstance(n, str | int) for n in names):
        raise InvalidParameterError("columns must be a list of names", field="columns")
    keys = [str(n) for n in names]
    if len(set(keys)) != len(keys):
        duplicate = next(k for k in keys if keys.count(k) > 1)
        raise InvalidParameterError(f"column {duplicate} appears more than once", field=duplicate)
    matrix = any_array(array, "data") if signature is None else _object_matrix(array)
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
        except CONVERSION_ERRORS:
            matrix = None  # ragged, strings or nested: the general path finds and names the problem
    if matrix is None:
        matrix = _object_matrix(array)
    if matrix.ndim == 1 and (len(plan.specs) > 1 or (matrix.size and is_list(matrix.flat[0]))):
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
    except CONVERSION_ERRORS:
        return None
    return block if block.ndim == 2 else None


def _object_matrix(array: Any) -> np.ndarray:
    if isinstance(array, np.ndarray):
        return array
    try:
        matrix = np.array(array, dtype=object)
    except CONVERSION_ERRORS as exc:
        raise InvalidParameterError(
            f"input cannot be read as rows of values: {exc}", field="inputs"
        ) from None
    if matrix.ndim == 1 and matrix.size and any(is_list(v) for v in matrix):
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
    if spec.type in FLOAT_TYPES:
        return np.full(n, np.nan, dtype=FLOAT_TYPES[spec.type])
    return np.full(n, None, dtype=object)


def _column_array(name: str, values: Any) -> np.ndarray:
    if isinstance(values, np.ndarray):
        array = values
    elif isinstance(values, list | tuple):
        try:
            array = np.asarray(values)
        except CONVERSION_ERRORS:
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


# -- small helpers ------------------------------------------------------------------------------------
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
