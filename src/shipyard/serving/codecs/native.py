"""Shipyard's own prediction API: ``POST /endpoints/{name}/predict``.

Request bodies (JSON), one of::

    {"rows": [{"age": 31, "city": "Oslo"}, ...]}
    {"columns": {"age": [31, 45], "city": ["Oslo", "Rome"]}}
    {"data": [[31, "Oslo"], ...], "columns": ["age", "city"]}     # "columns" optional: signature order

plus an optional ``"id"``: the caller's request id (up to 128 safe printable characters), echoed back
and used to join feedback later. The response names the model version that answered::

    {"predictions": [...], "probabilities": [[...]], "classes": [...],
     "model_name": "churn", "model_version": "3", "request_id": "..."}
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import orjson

from shipyard.core.errors import InvalidParameterError
from shipyard.models.signature import Signature
from shipyard.serving import rows as rowslib
from shipyard.serving.codecs._json import loads
from shipyard.serving.rows import Rows

__all__ = ["REQUEST_ID_PATTERN", "decode_native", "encode_native"]

# Safe in a URL, a log line, a header and a file name; long enough for a UUID or a trace id.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:@+=~-]{1,128}")
_FIELDS = ("rows", "columns", "data", "id")


def decode_native(
    body: bytes, signature: Signature | None, *, max_rows: int = rowslib.MAX_ROWS
) -> tuple[Rows, str | None]:
    """The request body -> validated ``Rows`` and the caller's request id (None when not given).

    >>> rows, rid = decode_native(b'{"rows": [{"x": 1.5}], "id": "r-1"}', None)
    >>> rows.n, rows.columns["x"].tolist(), rid
    (1, [1.5], 'r-1')
    """
    document = loads(body)
    if not isinstance(document, dict):
        raise InvalidParameterError(
            'the body must be a JSON object: {"rows": [...]}, {"columns": {...}} or {"data": [[...]]}',
            field="body",
        )
    unknown = [key for key in document if key not in _FIELDS]
    if unknown:
        raise InvalidParameterError(
            f"unknown field {unknown[0]!r}; expected rows, columns, data and optionally id", field=unknown[0]
        )
    request_id = _request_id(document.get("id"))
    columns = document.get("columns")
    if "data" in document:
        if "rows" in document:
            raise InvalidParameterError("give either rows or data, not both", field="rows")
        if columns is not None and not isinstance(columns, list):
            raise InvalidParameterError("with data, columns must be a list of column names", field="columns")
        data = document["data"]
        if not isinstance(data, list):
            raise InvalidParameterError("data must be a list of rows", field="data")
        return rowslib.validate_array(signature, data, names=columns, max_rows=max_rows), request_id
    if "rows" in document:
        if columns is not None:
            raise InvalidParameterError("give either rows or columns, not both", field="columns")
        return rowslib.validate_records(signature, document["rows"], max_rows=max_rows), request_id
    if columns is not None:
        if not isinstance(columns, dict):
            raise InvalidParameterError("columns must be an object {column: [values]}", field="columns")
        return rowslib.validate_columns(signature, columns, max_rows=max_rows), request_id
    raise InvalidParameterError("the body needs rows, columns or data", field="rows")


def _request_id(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not REQUEST_ID_PATTERN.fullmatch(value):
        shown = repr(value)[:60]
        raise InvalidParameterError(
            f"id must be 1 to 128 characters of letters, digits and . _ : @ + = ~ -; got {shown}", field="id"
        )
    return value


def encode_native(
    *,
    predictions: np.ndarray,
    probabilities: np.ndarray | None,
    classes: list[Any] | None,
    model_name: str,
    model_version: str,
    request_id: str,
) -> bytes:
    """The response body. ``probabilities`` is one row per prediction, in the order of ``classes``.

    >>> encode_native(predictions=np.array([1]), probabilities=np.array([[0.25, 0.75]]), classes=[0, 1],
    ...               model_name="churn", model_version="3", request_id="r-1")
    b'{"predictions":[1],"probabilities":[[0.25,0.75]],"classes":[0,1],"model_name":"churn","model_version":"3","request_id":"r-1"}'
    """
    response: dict[str, Any] = {"predictions": _array(predictions)}
    if probabilities is not None:
        response["probabilities"] = _array(probabilities)
        response["classes"] = [_plain(c) for c in classes] if classes is not None else None
    response["model_name"] = model_name
    response["model_version"] = model_version
    response["request_id"] = request_id
    return orjson.dumps(response, option=orjson.OPT_SERIALIZE_NUMPY, default=_default)


def _array(values: Any) -> Any:
    array = np.asarray(values)
    if array.dtype.kind in "OUSM" or not array.flags.c_contiguous or array.dtype.byteorder not in "=|":
        return [_plain(v) for v in array.tolist()] if array.ndim == 1 else _nested(array.tolist())
    return array  # orjson writes NumPy arrays natively (NaN as null: strict JSON)


def _nested(values: Any) -> Any:
    if isinstance(values, list):
        return [_nested(v) for v in values]
    return _plain(values)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _default(value: Any) -> Any:
    plain = _plain(value)
    if plain is value:
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")
    return plain
