"""Validation and small helpers shared by the tracking services (MLflow-compatible limits)."""

from __future__ import annotations

import math
import re
import time
import uuid

from shipyard.core.errors import InvalidParameterError
from shipyard.core.validation import check_text

__all__ = [
    "MAX_BATCH_METRICS",
    "MAX_BATCH_PARAMS",
    "MAX_BATCH_TAGS",
    "MAX_BATCH_TOTAL",
    "check_key",
    "check_run_id",
    "json_float",
    "new_run_id",
    "now_ms",
    "param_value",
    "tag_value",
    "to_float",
    "to_int",
]

MAX_KEY = 250
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS = 100
MAX_BATCH_TAGS = 100
MAX_BATCH_TOTAL = 1000
_RUN_ID = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")
INT64_MAX = 2**63 - 1


def now_ms() -> int:
    return int(time.time() * 1000)


def new_run_id() -> str:
    return uuid.uuid4().hex


def check_run_id(run_id: object, field: str = "run_id") -> str:
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise InvalidParameterError(f"Invalid value {run_id!r} for parameter '{field}' supplied", field=field)
    return run_id


def check_key(key: object, *, field: str = "key") -> str:
    """A metric, param or tag name: 1-250 characters, no control characters, no '..' path tricks."""
    if not isinstance(key, str) or not key:
        raise InvalidParameterError(f"Missing value for required parameter '{field}'", field=field)
    check_text(key, field=field, max_length=MAX_KEY)
    if key.startswith("/") or ".." in key.split("/") or "\\" in key:
        raise InvalidParameterError(
            f"Invalid value {key!r} for parameter '{field}': names may not be absolute or contain '..'",
            field=field,
        )
    return key


def _truncated(value: object, limit: int, field: str) -> str:
    # MLflow truncates over-long values instead of rejecting them (MLFLOW_TRUNCATE_LONG_VALUES).
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    check_text(text, field=field)
    return text[:limit]


def param_value(value: object) -> str:
    return _truncated(value, MAX_PARAM_VALUE, "value")


def tag_value(value: object) -> str:
    return _truncated(value, MAX_TAG_VALUE, "value")


def to_float(value: object, *, field: str = "value") -> float:
    """A metric value: numbers, numeric strings and the strings NaN/Infinity/-Infinity."""
    if isinstance(value, bool):
        raise InvalidParameterError(
            f"Invalid value {value!r} for parameter '{field}': expected a number", field=field
        )
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise InvalidParameterError(
        f"Invalid value {value!r} for parameter '{field}': expected a number", field=field
    )


def to_int(value: object, *, field: str, default: int | None = None) -> int:
    """An int64: JSON numbers or numeric strings (proto3 JSON allows both)."""
    if value is None or value == "":
        if default is None:
            raise InvalidParameterError(f"Missing value for required parameter '{field}'", field=field)
        return default
    if isinstance(value, bool):
        raise InvalidParameterError(f"Invalid value {value!r} for parameter '{field}'", field=field)
    try:
        number = int(value) if not isinstance(value, float) else (int(value) if value.is_integer() else None)
    except (TypeError, ValueError):
        number = None
    if number is None or not -INT64_MAX - 1 <= number <= INT64_MAX:
        raise InvalidParameterError(
            f"Invalid value {value!r} for parameter '{field}': expected an int64", field=field
        )
    return number


def json_float(value: float, is_nan: bool = False) -> float | str:
    """A metric value for JSON, which has no NaN or infinities: MLflow's "NaN" / "Infinity" strings."""
    if is_nan or math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def stored_float(value: float) -> tuple[float, bool]:
    """(value to store, is_nan): SQLite turns NaN into NULL, so NaN is kept as a flag."""
    return (0.0, True) if math.isnan(value) else (value, False)
