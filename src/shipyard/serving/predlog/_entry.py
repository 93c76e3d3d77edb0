"""One served batch (``LogEntry``), its checks, and its conversion to Arrow.

Checks run in ``submit`` on the caller's thread and cost a few ``len`` calls; the conversion to Arrow runs
on the writer thread, once per group of entries that share a layout (same model version, same columns and
dtypes), so 1-row entries arriving together are converted by one NumPy concatenate per column rather than
one Arrow call per entry and column.
"""

from __future__ import annotations

import itertools
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
    "LogEntry",
    "check_endpoint",
    "check_entry",
    "entries_to_batch",
    "layout_key",
    "to_arrow",
]

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
_ENDPOINT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass
class LogEntry:
    """One model call: a batch of one or more requests, one array element per row.

    ``request_ids`` repeats a request's id once per row it sent, and ``rows`` numbers those rows from 0.
    ``inputs`` and ``outputs`` map a column name to a 1-D array of ``n`` values, or to a 2-D array
    ``(n, k)`` for tensors (stored as a fixed-size list per row).

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
    if not isinstance(name, str) or not _ENDPOINT.fullmatch(name) or ".." in name:
        raise InvalidParameterError(
            f"{field} must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit "
            f"and without '..'; got {name!r}",
            field=field,
        )
    return name


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
        if not isinstance(name, str) or not name:
            raise InvalidParameterError(
                f"{field} column names must be non-empty strings; got {name!r}", field=field
            )
        check_text(name, field=field, max_length=256)
        if not isinstance(values, np.ndarray) or values.ndim not in (1, 2):
            got = f"{type(values).__name__} of shape {getattr(values, 'shape', '?')}"
            raise InvalidParameterError(f"{where} must be a 1-D or 2-D NumPy array; got {got}", field=where)
        if values.shape[0] != n:
            raise InvalidParameterError(f"{where} has {values.shape[0]} rows; the entry has {n}", field=where)


def check_entry(entry: LogEntry) -> int:
    """Return the entry's row count after checking every per-row field has that many values."""
    check_endpoint(entry.endpoint)
    for field in ("model_name", "model_version"):
        check_text(getattr(entry, field), field=field, max_length=256)
    n = _length(entry.request_ids, "request_ids")
    per_row = {"rows": entry.rows, "received_at": entry.received_at, "latency_ms": entry.latency_ms}
    if not isinstance(entry.protocol, str):
        per_row["protocol"] = entry.protocol
    for field, values in per_row.items():
        if _length(values, field) != n:
            raise InvalidParameterError(
                f"{field} has {_length(values, field)} values; request_ids has {n} (one per row)", field=field
            )
    _check_columns(entry.inputs, n, "inputs")
    _check_columns(entry.outputs, n, "outputs")
    return n


def _column_key(columns: dict[str, np.ndarray]) -> tuple[tuple[str, str, tuple[int, ...]], ...]:
    return tuple((name, values.dtype.str, values.shape[1:]) for name, values in columns.items())


def layout_key(entry: LogEntry) -> tuple[Any, ...]:
    """Entries with equal keys are converted together: same version, columns, dtypes and widths."""
    return (
        entry.model_name,
        entry.model_version,
        _column_key(entry.inputs),
        _column_key(entry.outputs),
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


def _per_row_strings(values: list[str] | str, n: int) -> pa.Array:
    if isinstance(values, str):
        return pa.repeat(pa.scalar(values, pa.string()), n)
    return pa.array(values, type=pa.string())


def _row_numbers(rows: np.ndarray) -> np.ndarray:
    if rows.dtype == np.int32:
        return rows
    if rows.dtype.kind not in "iu" or (len(rows) and not (rows.min() >= 0 and rows.max() < 2**31)):
        raise InvalidParameterError("rows must be row indices between 0 and 2**31 - 1", field="rows")
    return rows.astype(np.int32)


def entries_to_batch(entries: list[LogEntry]) -> pa.RecordBatch:
    """One record batch for entries of one layout (see ``layout_key``), rows in submission order."""
    first = entries[0]
    n_total = sum(len(e.request_ids) for e in entries)

    def cat(arrays: list[np.ndarray]) -> np.ndarray:
        return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)

    received = cat([np.asarray(e.received_at, dtype=np.float64) for e in entries])
    micros = np.rint(received * 1e6).astype(np.int64)
    protocols = [e.protocol for e in entries]
    if all(p == protocols[0] for p in protocols if isinstance(p, str)) and all(
        isinstance(p, str) for p in protocols
    ):
        protocol = _per_row_strings(protocols[0], n_total)  # type: ignore[arg-type]
    else:
        protocol = pa.array(
            list(
                itertools.chain.from_iterable(
                    [p] * len(e.request_ids) if isinstance(p, str) else p
                    for p, e in zip(protocols, entries, strict=True)
                )
            ),
            type=pa.string(),
        )
    arrays: list[pa.Array] = [
        pa.array(micros, type=BASE_SCHEMA.field("received_at").type),
        pa.array(list(itertools.chain.from_iterable(e.request_ids for e in entries)), type=pa.string()),
        pa.array(_row_numbers(cat([np.asarray(e.rows) for e in entries])), type=pa.int32()),
        _per_row_strings(first.model_name, n_total),
        _per_row_strings(first.model_version, n_total),
        protocol,
        pa.array(cat([np.asarray(e.latency_ms, dtype=np.float64) for e in entries]), type=pa.float64()),
    ]
    names = list(BASE_SCHEMA.names)
    for prefix, attribute in ((INPUT_PREFIX, "inputs"), (OUTPUT_PREFIX, "outputs")):
        for column in getattr(first, attribute):
            names.append(prefix + column)
            arrays.append(to_arrow(cat([getattr(e, attribute)[column] for e in entries])))
    return pa.RecordBatch.from_arrays(arrays, names=names)
