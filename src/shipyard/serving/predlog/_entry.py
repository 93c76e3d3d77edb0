"""One served batch (``LogEntry``), its checks, and the Arrow form of a column.

Checks run in ``submit`` on the caller's thread, so they cost a few ``len`` calls and set lookups: a name
(column, model, version) is checked for control characters once per process, then remembered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from shipyard.core.errors import InvalidParameterError
from shipyard.core.validation import check_text

__all__ = [
    "BASE_SCHEMA",
    "INPUT_PREFIX",
    "OUTPUT_PREFIX",
    "RAW_KINDS",
    "InputBlock",
    "LogEntry",
    "check_endpoint",
    "check_entry",
    "check_outcome",
    "layout_key",
    "to_arrow",
]

RAW_KINDS = "biufcmM"
INPUT_PREFIX = "input."
OUTPUT_PREFIX = "output."
# Stored columns every prediction row has; inputs and outputs follow as "input.<name>", "output.<name>"
# so a feature called "latency_ms" can never collide with the log's own columns.
BASE_SCHEMA = pa.schema(
    [
        ("received_at", pa.timestamp("us", tz="UTC")),
        ("request_id", pa.string()),
        ("row", pa.int32()),
        ("model_name", pa.string()),
        ("model_version", pa.string()),
        ("protocol", pa.string()),
        ("latency_ms", pa.float64()),
    ]
)
_checked_names: set[str] = set()
_checked_endpoints: set[str] = set()
_checked_blocks: set[tuple[str, ...]] = set()
_MAX_CHECKED = 100_000
_ENDPOINT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass(eq=False)
class InputBlock:
    """Numeric input columns of one kind, kept as one ``(columns, rows)`` array.

    A served batch of float rows arrives as one block; logging it as one array instead of a dict of
    columns makes the per-batch work on the serving path independent of the number of features. The
    stored rows are the same: each name becomes its own ``input.<name>`` column when rows are sealed
    or scanned.
    """

    names: tuple[str, ...]
    values: np.ndarray  # shape (len(names), rows), C order


@dataclass(eq=False)  # identity: == on NumPy fields has no single truth value
class LogEntry:
    """One model call: a batch of one or more requests, one array element per row.

    ``request_ids`` repeats a request's id once per row it sent, and ``rows`` numbers those rows from 0.
    ``inputs`` and ``outputs`` map a column name to a 1-D array of ``n`` values, or to a 2-D array
    ``(n, k)`` for tensors (stored as a fixed-size list per row). ``input_block`` (optional) holds more
    input columns, stored before those of ``inputs``.

    >>> import numpy as np
    >>> entry = LogEntry(
    ...     endpoint="churn", model_name="churn", model_version="3", request_ids=["r1", "r1"], rows=[0, 1],
    ...     protocol="native", received_at=np.array([1.7e9, 1.7e9]), latency_ms=np.array([2.5, 2.5]),
    ...     inputs={"age": np.array([31, 47])}, outputs={"prediction": np.array([0, 1])})
    >>> check_entry(entry)
    2
    """

    endpoint: str
    model_name: str
    model_version: str
    request_ids: list[str]
    rows: list[int] | np.ndarray
    protocol: list[str] | str
    received_at: np.ndarray
    latency_ms: np.ndarray
    inputs: dict[str, np.ndarray]
    outputs: dict[str, np.ndarray]
    input_block: InputBlock | None = None


def check_endpoint(name: object, *, field: str = "endpoint") -> str:
    """Return ``name`` when it is a safe endpoint name (letters, digits, ``._-``; no path), else raise.

    >>> check_endpoint("fraud-v2")
    'fraud-v2'
    >>> check_endpoint("../etc")
    Traceback (most recent call last):
    ...
    shipyard.core.errors.InvalidParameterError: endpoint must be 1-128 letters, digits, '.', '_' or '-', \
starting with a letter or digit and without '..'; got '../etc'
    """
    if isinstance(name, str) and name in _checked_endpoints:
        return name
    if not isinstance(name, str) or not _ENDPOINT.fullmatch(name) or ".." in name:
        raise InvalidParameterError(
            f"{field} must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit "
            f"and without '..'; got {name!r}",
            field=field,
        )
    if len(_checked_endpoints) < _MAX_CHECKED:
        _checked_endpoints.add(name)
    return name


def _check_name(value: str, field: str) -> None:
    if isinstance(value, str) and value in _checked_names:
        return
    check_text(value, field=field, max_length=256, allow_empty=False)
    if len(_checked_names) >= _MAX_CHECKED:
        _checked_names.clear()
    _checked_names.add(value)


def _length(values: Any, field: str) -> int:
    try:
        return len(values)
    except TypeError:
        raise InvalidParameterError(
            f"{field} must be a sequence with one value per row; got {type(values).__name__}", field=field
        ) from None


def _check_columns(columns: object, n: int, field: str) -> None:
    if not isinstance(columns, dict):
        raise InvalidParameterError(f"{field} must map column names to arrays", field=field)
    for name, values in columns.items():
        where = f"{field}.{name}"
        if not isinstance(name, str):
            raise InvalidParameterError(f"{field} column names must be strings; got {name!r}", field=field)
        _check_name(name, field)
        if not isinstance(values, np.ndarray) or values.ndim not in (1, 2):
            got = f"{type(values).__name__} of shape {getattr(values, 'shape', '?')}"
            raise InvalidParameterError(f"{where} must be a 1-D or 2-D NumPy array; got {got}", field=where)
        if values.shape[0] != n:
            raise InvalidParameterError(f"{where} has {values.shape[0]} rows; the entry has {n}", field=where)


def check_entry(entry: LogEntry) -> int:
    """Return the entry's row count after checking every per-row field has that many values."""
    check_endpoint(entry.endpoint)
    _check_name(entry.model_name, "model_name")
    _check_name(entry.model_version, "model_version")
    n = _length(entry.request_ids, "request_ids")
    per_row = {"rows": entry.rows, "received_at": entry.received_at, "latency_ms": entry.latency_ms}
    if not isinstance(entry.protocol, str):
        per_row["protocol"] = entry.protocol
    for field, values in per_row.items():
        _check_per_row(field, values, n)
    _check_columns(entry.inputs, n, "inputs")
    _check_columns(entry.outputs, n, "outputs")
    if entry.input_block is not None:
        _check_block(entry.input_block, n, entry.inputs)
    return n


def check_outcome(entry: LogEntry, n: int) -> None:
    """``check_entry`` of the fields a prepared entry gets last (``outputs``, ``latency_ms``)."""
    _check_per_row("latency_ms", entry.latency_ms, n)
    _check_columns(entry.outputs, n, "outputs")


def _check_per_row(field: str, values: Any, n: int) -> None:
    if _length(values, field) != n:
        raise InvalidParameterError(
            f"{field} has {_length(values, field)} values; request_ids has {n} (one per row)", field=field
        )


def _check_block(block: object, n: int, inputs: dict[str, np.ndarray]) -> None:
    field = "input_block"
    if not isinstance(block, InputBlock) or not isinstance(block.names, tuple):
        raise InvalidParameterError(f"{field} must be an InputBlock with a tuple of names", field=field)
    values, names = block.values, block.names
    if not isinstance(values, np.ndarray) or values.ndim != 2 or values.dtype.kind not in RAW_KINDS:
        got = f"{type(values).__name__} of shape {getattr(values, 'shape', '?')}"
        raise InvalidParameterError(
            f"{field}.values must be a 2-D numeric NumPy array; got {got}", field=field
        )
    if values.shape != (len(names), n):
        raise InvalidParameterError(
            f"{field}.values has shape {values.shape}; {len(names)} names and {n} rows need "
            f"({len(names)}, {n})",
            field=field,
        )
    if names not in _checked_blocks:
        for name in names:
            if not isinstance(name, str):
                raise InvalidParameterError(f"{field} names must be strings; got {name!r}", field=field)
            _check_name(name, field)
        if len(set(names)) != len(names):
            raise InvalidParameterError(f"{field} names must be distinct", field=field)
        if len(_checked_blocks) >= _MAX_CHECKED:
            _checked_blocks.clear()
        _checked_blocks.add(names)
    if inputs and not inputs.keys().isdisjoint(names):
        raise InvalidParameterError(f"{field} and inputs both have a column of the same name", field=field)


def _specs(columns: dict[str, np.ndarray]) -> tuple[Any, ...]:
    # dtype.char ("d", "q", "U", "O", "M" ...) is all grouping needs: NumPy concatenates across string
    # lengths, byte orders and datetime units, and the record format is chosen per kind, not per dtype.
    return tuple([v.dtype.char if v.ndim == 1 else (v.dtype.char, v.shape[1]) for v in columns.values()])


def layout_key(entry: LogEntry) -> tuple[Any, ...]:
    """Entries with equal keys share one record: same model version, columns, kinds and widths."""
    block = entry.input_block
    return (
        entry.model_name,
        entry.model_version,
        None if block is None else (block.names, block.values.dtype.char),
        tuple(entry.inputs),
        tuple(entry.outputs),
        _specs(entry.inputs),
        _specs(entry.outputs),
    )


def to_arrow(values: np.ndarray) -> pa.Array:
    """A 1-D column as its Arrow type, a 2-D one as a fixed-size list; odd objects fall back to text.

    >>> to_arrow(np.array([[1.0, 2.0], [3.0, 4.0]])).type
    FixedSizeListType(fixed_size_list<item: double>[2])
    """
    if values.ndim == 2:
        width = values.shape[1]
        flat = to_arrow(np.ascontiguousarray(values).reshape(-1))
        return pa.FixedSizeListArray.from_arrays(flat, width)
    if values.dtype.kind == "U":
        return pa.array(values.tolist(), type=pa.string())
    if values.dtype.kind == "M" and values.dtype != np.dtype("datetime64[us]"):
        values = values.astype("datetime64[us]")  # one unit keeps versions unifiable
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        # Mixed Python objects in one column: keep them readable rather than drop the whole batch.
        return pa.array([None if v is None else str(v) for v in values.tolist()], type=pa.string())
