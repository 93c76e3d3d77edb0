"""MLflow's scoring protocol (``POST /invocations``): the bodies, messages and status codes of mlflow 3.x.

Accepted: ``application/json`` holding exactly one of ``dataframe_split``, ``dataframe_records``,
``instances`` or ``inputs`` (plus optional ``params``); ``text/csv`` with a header row; and
``application/vnd.apache.parquet``. The only content-type parameter is ``charset=utf-8``.

Where MLflow's own server differs from this module, on purpose:

- no Content-Type is read as JSON (MLflow answers 500);
- JSON and CSV are parsed without pandas (a one-row request costs microseconds, not a millisecond);
- the 0-or-2-keys message lists the formats in a fixed order (MLflow prints a Python set);
- a column the signature lacks is ignored, as MLflow ignores it, but a wrong type or a missing column
  is a 400 ``INVALID_PARAMETER_VALUE`` that names the column, before the model is called.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
from typing import Any

import numpy as np
import orjson

from shipyard.core.errors import InvalidParameterError
from shipyard.models.signature import Signature
from shipyard.serving import rows as rowslib
from shipyard.serving.codecs._json import loads
from shipyard.serving.rows import NA_STRINGS, Rows

__all__ = [
    "CONTENT_TYPES",
    "REQUIRED_INPUT_FORMAT",
    "ScoringError",
    "decode_invocations",
    "encode_predictions",
    "error_body",
]

CONTENT_TYPES = ["text/csv", "application/json", "application/vnd.apache.parquet"]
_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
REQUIRED_INPUT_FORMAT = (
    "The input must be a JSON dictionary with exactly one of the input fields "
    "{'dataframe_split', 'dataframe_records', 'instances', 'inputs'}"
)
_PROTOCOL_CHANGE = (
    "IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0. If you are seeing this "
    "error, you are likely using an outdated scoring request format. To resolve the error, either update "
    "your request format or adjust your MLflow Model's requirements file to specify an older version of "
    "MLflow (for example, change the 'mlflow' requirement specifier to 'mlflow==1.30.0'). If you are making "
    "a request using the MLflow client (e.g. via `mlflow.pyfunc.spark_udf()`), upgrade your MLflow client "
    "to a version >= 2.0 in order to use the new request format. For more information about the updated "
    "MLflow Model scoring protocol in MLflow 2.0, see "
    "https://mlflow.org/docs/latest/models.html#deploy-mlflow-models."
)
_CSV_HINT = (
    "Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid CSV-formatted Pandas "
    "DataFrame produced using the `pandas.DataFrame.to_csv()` method. Error: '{}'"
)
_PARQUET_HINT = (
    "Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid Parquet Pandas DataFrame "
    "produced using the `pandas.DataFrame.to_parquet()` method. Error: '{}'"
)


class ScoringError(Exception):
    """A refused ``/invocations`` request: HTTP ``status``, MLflow ``error_code`` and ``message``.

    400s have the JSON body ``{"error_code", "message"}``; 415s a plain-text body, as MLflow sends.

    >>> error_body(ScoringError(400, "BAD_REQUEST", "no input"))
    b'{"error_code":"BAD_REQUEST","message":"no input"}'
    """

    def __init__(self, status: int, error_code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.field = field

    @property
    def content_type(self) -> str:
        return "text/plain" if self.status == 415 else "application/json"


def _bad_request(message: str) -> ScoringError:
    return ScoringError(400, "BAD_REQUEST", message)


def error_body(error: ScoringError) -> bytes:
    if error.status == 415:
        return error.message.encode()
    return orjson.dumps({"error_code": error.error_code, "message": error.message})


# -- requests -----------------------------------------------------------------------------------------


def decode_invocations(
    body: bytes, content_type: str | None, signature: Signature | None, *, max_rows: int = rowslib.MAX_ROWS
) -> tuple[Rows, dict[str, Any] | None]:
    """The body of ``POST /invocations`` -> validated ``Rows`` and the request's ``params``."""
    mime = _media_type(content_type)
    try:
        if mime == "application/json":
            return _decode_json(body, signature, max_rows)
        if mime == "text/csv":
            return _decode_csv(body, signature, max_rows), None
        return _decode_parquet(body, signature, max_rows), None
    except InvalidParameterError as exc:
        raise ScoringError(400, "INVALID_PARAMETER_VALUE", exc.message, field=exc.field) from None


def _media_type(content_type: str | None) -> str:
    if content_type is None or not content_type.strip():
        return "application/json"  # MLflow answers 500 here; tritonclient-style clients send none
    mime, *pairs = (part.strip() for part in content_type.split(";"))
    parameters = {key.strip().lower(): value.strip() for key, _, value in (p.partition("=") for p in pairs)}
    if parameters.get("charset", "utf-8").strip('"').lower() != "utf-8":
        raise ScoringError(415, "UNSUPPORTED_MEDIA_TYPE", "The scoring server only supports UTF-8")
    unknown = set(parameters) - {"charset"}
    if unknown:
        raise ScoringError(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            f"Unrecognized content type parameters: {', '.join(sorted(unknown))}. {_PROTOCOL_CHANGE}",
        )
    mime = mime.lower()
    if mime not in CONTENT_TYPES:
        raise ScoringError(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            f"This predictor only supports the following content types: Types: {CONTENT_TYPES}. "
            f"Got '{content_type}'.",
        )
    return mime


def _decode_json(
    body: bytes, signature: Signature | None, max_rows: int
) -> tuple[Rows, dict[str, Any] | None]:
    try:
        document = loads(body)
    except InvalidParameterError as exc:
        excerpt = body[:200].decode("utf-8", "replace")
        raise _bad_request(
            f"Invalid input. Ensure that input is a valid JSON formatted string. Error: '{exc.message}'\n"
            f"Input: \n{excerpt}\n"
        ) from None
    if isinstance(document, list):
        raise _bad_request(f"Invalid input. {REQUIRED_INPUT_FORMAT}. Received a list.")
    if not isinstance(document, dict):
        raise _bad_request(
            f"Invalid input. {REQUIRED_INPUT_FORMAT}. Received unexpected input type '{type(document)}."
        )
    present = [key for key in document if key in _FORMATS]
    if len(present) != 1:
        raise _bad_request(
            f"{REQUIRED_INPUT_FORMAT}. Received dictionary with input fields: {present}. {_PROTOCOL_CHANGE}"
        )
    params = document.get("params")
    if params is not None and not isinstance(params, dict):
        raise ScoringError(400, "INVALID_PARAMETER_VALUE", "params must be a JSON object", field="params")
    key = present[0]
    data = document[key]
    kw: dict[str, Any] = {"max_rows": max_rows, "extra": "ignore"}
    if key == "dataframe_split":
        return _split(data, signature, kw), params
    if key == "dataframe_records":
        if not isinstance(data, list):
            kind = "dictionary" if isinstance(data, dict) else f"type {type(data)}"
            raise _bad_request(
                f"Invalid input. Dataframe records format must be a list of records. Got {kind}."
            )
        return _rows_or_records(data, signature, "null", kw), params
    # instances / inputs (TF-serving): columns as a dict, records, or rows
    if isinstance(data, dict):
        return rowslib.validate_columns(signature, data, **kw), params
    if not isinstance(data, list):
        raise ScoringError(
            400, "INVALID_PARAMETER_VALUE", f"{key} must be a list of rows or an object of columns", field=key
        )
    # MLflow refuses `instances` records of unequal keys but fills NaN for `inputs`
    return _rows_or_records(data, signature, "error" if key == "instances" else "null", kw), params


def _split(data: Any, signature: Signature | None, kw: dict[str, Any]) -> Rows:
    if not isinstance(data, dict):
        kind = "list" if isinstance(data, list) else f"type {type(data)}"
        raise _bad_request(f"Invalid input. Dataframe split format must be a dictionary. Got {kind}.")
    keys = set(data)
    if "data" not in keys or keys - {"columns", "data", "index"}:
        raise _bad_request(
            "Invalid input. Dataframe split format must have 'data' field and optionally 'columns' "
            f"and 'index' fields. Got {keys}.'"
        )
    columns, values = data.get("columns"), data["data"]
    if isinstance(values, dict):
        return rowslib.validate_columns(signature, values, **kw)
    if columns is None:
        return rowslib.validate_array(signature, values, **kw)
    return rowslib.validate_array(signature, values, names=columns, **kw)


def _rows_or_records(data: list[Any], signature: Signature | None, missing: str, kw: dict[str, Any]) -> Rows:
    if data and all(isinstance(item, dict) for item in data):
        return rowslib.validate_records(signature, data, missing=missing, **kw)
    if any(isinstance(item, dict) for item in data):
        raise _bad_request(
            "Invalid input. Records must all be objects {column: value} or all be rows of values."
        )
    return rowslib.validate_array(signature, data, **kw)


def _decode_csv(body: bytes, signature: Signature | None, max_rows: int) -> Rows:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad_request(
            f"Invalid input. Ensure that input is a valid UTF-8 encoded string. Error: '{exc!r}'"
        ) from None
    try:
        records = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except csv.Error as exc:
        raise _bad_request(_CSV_HINT.format(exc)) from None
    if not records:
        raise _bad_request(_CSV_HINT.format("No columns to parse from file"))
    header, body_rows = records[0], records[1:]
    width = len(header)
    for line, row in enumerate(body_rows, start=2):
        if len(row) > width:
            raise _bad_request(
                _CSV_HINT.format(
                    f"Error tokenizing data. C error: Expected {width} fields in line {line}, saw {len(row)}"
                )
            )
        if len(row) < width:  # pandas fills the missing trailing fields with NaN
            row.extend([""] * (width - len(row)))
    if not body_rows:
        raise InvalidParameterError("input has no rows", field="inputs")
    if len(body_rows) > max_rows:
        raise InvalidParameterError(
            f"input has {len(body_rows)} rows; the limit is {max_rows} rows per request", field="inputs"
        )
    if signature is not None and not isinstance(signature.inputs, tuple):
        return rowslib.validate_array(signature, body_rows, max_rows=max_rows)
    if (
        signature is not None
        and header == signature.columns
        and all(spec.type == "double" for spec in signature.inputs)
    ):  # numbers in signature order: NumPy parses the text of the whole block at once
        return rowslib.validate_array(signature, body_rows, max_rows=max_rows)
    columns_text = [np.array(column) for column in zip(*body_rows, strict=True)]  # NumPy text (kind U)
    if signature is None:
        columns = {
            name: _infer_text_column(values) for name, values in zip(header, columns_text, strict=True)
        }
        _check_unique(header)
        return rowslib.validate_columns(None, columns, max_rows=max_rows)
    _check_unique(header)
    types = {spec.name: spec.type for spec in signature.inputs}
    columns = {
        name: _na_to_nan(values) if types.get(name) in ("string", "binary") else values
        for name, values in zip(header, columns_text, strict=True)
    }
    return rowslib.validate_columns(signature, columns, max_rows=max_rows, extra="ignore")


def _check_unique(header: list[str]) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise InvalidParameterError(f"column {name} appears more than once in the CSV header", field=name)
        seen.add(name)


def _na_to_nan(values: np.ndarray) -> np.ndarray:
    return np.array(
        [math.nan if v in NA_STRINGS else v for v in values.tolist()], dtype=object
    )  # pandas' NaN


def _infer_text_column(values: np.ndarray) -> np.ndarray:
    """CSV text -> int64, float64, bool or text, the way pandas' ``read_csv`` infers a column."""
    texts = values.tolist()
    stripped = [v.strip() for v in texts]
    missing = [v in NA_STRINGS for v in stripped]
    present = [v for v, m in zip(stripped, missing, strict=True) if not m]
    if not any(missing) and present:
        try:
            return np.array(present, dtype=object).astype(np.int64)
        except (ValueError, OverflowError):
            pass
    try:
        return np.array(
            [math.nan if m else v for v, m in zip(stripped, missing, strict=True)], dtype=object
        ).astype(np.float64)
    except (ValueError, TypeError):
        pass
    if not any(missing) and all(v in ("True", "False", "true", "false", "TRUE", "FALSE") for v in present):
        return np.array([v.lower() == "true" for v in present], dtype=bool)
    return np.array([math.nan if m else v for v, m in zip(texts, missing, strict=True)], dtype=object)


def _decode_parquet(body: bytes, signature: Signature | None, max_rows: int) -> Rows:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(body))
        columns = {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}
    except Exception as exc:  # pyarrow raises several kinds (ArrowInvalid, OSError...) for a bad file
        raise _bad_request(_PARQUET_HINT.format(exc)) from None
    columns = {name: values for name, values in columns.items() if not name.startswith("__index_level_")}
    if signature is not None and not isinstance(signature.inputs, tuple):
        return rowslib.validate_columns(signature, columns, max_rows=max_rows)
    return rowslib.validate_columns(signature, columns, max_rows=max_rows, extra="ignore")


# -- responses ----------------------------------------------------------------------------------------


def encode_predictions(predictions: Any) -> bytes:
    """``{"predictions": ...}`` as MLflow writes it: arrays as lists, frames as records, NaN as ``NaN``.

    >>> encode_predictions(np.array([0.5, np.nan], dtype=np.float32))
    b'{"predictions": [0.5, NaN]}'
    >>> encode_predictions(np.array([1, 0]))
    b'{"predictions":[1,0]}'
    """
    value = _jsonable(predictions)
    if not _has_non_finite(value):
        try:
            return orjson.dumps({"predictions": value}, option=orjson.OPT_SERIALIZE_NUMPY, default=_default)
        except TypeError:
            pass  # a type orjson lacks (e.g. an odd NumPy dtype): the standard library's way below
    # NaN and infinities: MLflow's json.dump writes the literals NaN/Infinity; so do we
    return json.dumps({"predictions": _plain(value)}, default=_default).encode()


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f" and value.dtype != np.float64:
            return value.astype(np.float64)  # MLflow's tolist() turns float32 into Python floats
        if value.dtype.kind in "OUS" or not value.flags.c_contiguous or value.dtype.byteorder not in "=|":
            return value.tolist()
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    module = type(value).__module__
    if module.startswith("pandas"):
        import pandas as pd

        if isinstance(value, pd.Series):
            value = pd.DataFrame(value)
        if isinstance(value, pd.DataFrame):
            return value.to_dict(orient="records")
    return value


def _has_non_finite(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "f" and not np.isfinite(value).all()
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_non_finite(v) for v in value)
    return False


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.encodebytes(value).decode("ascii")  # as MLflow's NumpyEncoder
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
