"""Feedback (true labels or values, sent any time after a prediction) and its join to predictions.

A value is a number, a string or a boolean. It is stored as its kind plus a float column and a text
column, so a scan can hand back one typed ``value`` column: booleans stay booleans, integers integers,
a mix of numbers becomes float64, and only a window that truly mixes numbers with text falls back to
the values' JSON text. A label given without ``rows`` applies to every row of its request; when several
labels apply to one row, the latest (by ``at``, then by arrival) wins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.core.errors import InvalidParameterError
from shipyard.core.validation import check_text

__all__ = ["FEEDBACK_SCHEMA", "decode_values", "feedback_batch", "join_latest", "to_micros"]

FEEDBACK_SCHEMA = pa.schema(
    [
        ("at", pa.timestamp("us", tz="UTC")),
        ("request_id", pa.string()),
        ("row", pa.int32()),
        ("kind", pa.string()),
        ("value_num", pa.float64()),
        ("value_str", pa.string()),
    ]
)
_MAX_ID = 256


def to_micros(moment: datetime, *, field: str) -> int:
    """Epoch microseconds of ``moment``; a naive datetime is taken as UTC."""
    if not isinstance(moment, datetime):
        raise InvalidParameterError(f"{field} must be a datetime; got {type(moment).__name__}", field=field)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _encode(value: Any, field: str) -> tuple[str, float | None, str | None]:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return "bool", float(value), None
    if isinstance(value, int):
        if abs(value) > 2**53:
            raise InvalidParameterError(
                f"{field} is an integer beyond ±2**53; send it as a string", field=field
            )
        return "int", float(value), None
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidParameterError(f"{field} must be a finite number; got {value}", field=field)
        return "float", value, None
    if isinstance(value, str):
        check_text(value, field=field, max_length=4096)
        return "str", None, value
    raise InvalidParameterError(
        f"{field} must be a number, a string or a boolean; got {type(value).__name__}", field=field
    )


def feedback_batch(
    request_ids: Sequence[str], values: Sequence[Any], rows: Sequence[int] | None, at_us: int
) -> pa.RecordBatch:
    """Check one feedback call and turn it into rows of ``FEEDBACK_SCHEMA``."""
    if isinstance(request_ids, str) or not isinstance(request_ids, Sequence):
        raise InvalidParameterError("request_ids must be a list of request ids", field="request_ids")
    if not request_ids:
        raise InvalidParameterError("request_ids must not be empty", field="request_ids")
    if isinstance(values, str) or not isinstance(values, Sequence) or len(values) != len(request_ids):
        got = len(values) if isinstance(values, Sequence) and not isinstance(values, str) else "not a list"
        raise InvalidParameterError(
            f"values must be a list with one value per request id ({len(request_ids)}); got {got}",
            field="values",
        )
    for index, request_id in enumerate(request_ids):
        check_text(request_id, field=f"request_ids[{index}]", max_length=_MAX_ID, allow_empty=False)
    encoded = [_encode(value, f"values[{index}]") for index, value in enumerate(values)]
    if rows is None:
        row_array = pa.nulls(len(request_ids), pa.int32())
    else:
        if len(rows) != len(request_ids):
            raise InvalidParameterError(
                f"rows has {len(rows)} values; request_ids has {len(request_ids)}", field="rows"
            )
        for index, row in enumerate(rows):
            if isinstance(row, bool) or not isinstance(row, int | np.integer) or not 0 <= row < 2**31:
                raise InvalidParameterError(
                    f"rows[{index}] must be a row index (an integer >= 0); got {row!r}",
                    field=f"rows[{index}]",
                )
        row_array = pa.array([int(r) for r in rows], type=pa.int32())
    kinds, numbers, texts = zip(*encoded, strict=True)
    return pa.RecordBatch.from_arrays(
        [
            pa.array(np.full(len(request_ids), at_us, dtype=np.int64), type=FEEDBACK_SCHEMA.field("at").type),
            pa.array(list(request_ids), type=pa.string()),
            row_array,
            pa.array(kinds, type=pa.string()),
            pa.array(numbers, type=pa.float64()),
            pa.array(texts, type=pa.string()),
        ],
        schema=FEEDBACK_SCHEMA,
    )


def decode_values(table: pa.Table) -> pa.Array | pa.ChunkedArray:
    """The typed ``value`` column for the kinds present in ``table`` (see the module docstring)."""
    kinds = set(pc.unique(table.column("kind")).to_pylist()) - {None}
    numbers = table.column("value_num")
    if not kinds:
        return pa.nulls(table.num_rows, pa.string())
    if kinds == {"bool"}:
        return numbers.cast(pa.bool_())
    if kinds == {"int"}:
        return numbers.cast(pa.int64())
    if kinds <= {"bool", "int", "float"}:
        return numbers
    if kinds == {"str"}:
        return table.column("value_str")
    # Numbers and text in one window: every value as its JSON text ("1", "true", "\"cat\"" → cat).
    rendered = []
    for kind, number, text in zip(
        table.column("kind").to_pylist(),
        numbers.to_pylist(),
        table.column("value_str").to_pylist(),
        strict=True,
    ):
        if kind == "str":
            rendered.append(text)
        elif kind == "bool":
            rendered.append("true" if number else "false")
        elif kind == "int":
            rendered.append(str(int(number)))
        else:
            rendered.append(orjson.dumps(number).decode())
    return pa.array(rendered, type=pa.string())


def _latest(keys: list[np.ndarray], order: np.ndarray) -> np.ndarray:
    """Indices of the last row per key, rows taken in ``order`` (ascending time, then arrival)."""
    if len(order) == 0:
        return order
    ordered = [k[order] for k in keys]
    # lexsort is stable: within one key the original (time) order survives, so the last row is the latest.
    by_key = np.lexsort(ordered[::-1])
    sorted_keys = [k[by_key] for k in ordered]
    last = np.ones(len(by_key), dtype=bool)
    changes = np.zeros(len(by_key) - 1, dtype=bool)
    for column in sorted_keys:
        changes |= column[1:] != column[:-1]
    last[:-1] = changes
    return order[by_key[last]]


def _lookup(keys: list[np.ndarray], values: np.ndarray, probes: list[np.ndarray]) -> np.ndarray:
    """For each probe key, the value of the equal unique key in ``keys``, else -1 (a sorted search)."""
    result = np.full(len(probes[0]), -1, dtype=np.int64)
    if len(values) == 0 or len(result) == 0:
        return result
    # Pack each composite key into one sortable int64: codes and row numbers stay far below 2**31.
    packed = keys[0] << 32 if len(keys) == 2 else keys[0]
    wanted = probes[0] << 32 if len(probes) == 2 else probes[0]
    if len(keys) == 2:
        packed = packed | (keys[1] & 0xFFFFFFFF)
        wanted = wanted | (probes[1] & 0xFFFFFFFF)
    order = np.argsort(packed, kind="stable")
    sorted_keys = packed[order]
    position = np.minimum(np.searchsorted(sorted_keys, wanted), len(sorted_keys) - 1)
    found = sorted_keys[position] == wanted
    result[found] = values[order[position[found]]]
    return result


def join_latest(predictions: pa.Table, feedback: pa.Table) -> pa.Table:
    """``predictions`` with ``label`` and ``label_at`` from the latest feedback for each row, else null."""
    n = predictions.num_rows
    labels = decode_values(feedback) if feedback.num_rows else pa.nulls(0, pa.string())
    label_type = labels.type
    at_type = FEEDBACK_SCHEMA.field("at").type
    if n == 0 or feedback.num_rows == 0:
        return predictions.append_column("label", pa.nulls(n, label_type)).append_column(
            "label_at", pa.nulls(n, at_type)
        )
    fb_ids = feedback.column("request_id")
    fb_rows_col = feedback.column("row")
    fb_has_row = pc.is_valid(fb_rows_col).to_numpy(zero_copy_only=False)
    fb_rows = fb_rows_col.fill_null(-1)
    fb_at = feedback.column("at").cast(pa.int64()).to_numpy()
    order = np.argsort(fb_at, kind="stable")
    per_row, per_request = order[fb_has_row[order]], order[~fb_has_row[order]]
    # Request ids become integer codes in one hashing pass, so the matching below is integer NumPy work.
    all_ids = pa.chunked_array(fb_ids.chunks + predictions.column("request_id").chunks, type=pa.string())
    codes = pc.dictionary_encode(all_ids.combine_chunks()).indices.to_numpy().astype(np.int64)
    fb_codes, pred_codes = codes[: feedback.num_rows], codes[feedback.num_rows :]
    row_numbers = fb_rows.to_numpy()
    best_row = _latest([fb_codes, row_numbers], per_row)
    best_request = _latest([fb_codes], per_request)

    pred_rows = predictions.column("row").fill_null(-1).to_numpy().astype(np.int64)
    from_row = _lookup(
        [fb_codes[best_row], row_numbers[best_row].astype(np.int64)], best_row, [pred_codes, pred_rows]
    )
    from_request = _lookup([fb_codes[best_request]], best_request, [pred_codes])
    at_row = np.where(from_row >= 0, fb_at[np.maximum(from_row, 0)], np.iinfo(np.int64).min)
    at_request = np.where(from_request >= 0, fb_at[np.maximum(from_request, 0)], np.iinfo(np.int64).min)
    # Ties go to the per-row label: it is the more specific statement about that row.
    chosen = np.where(at_row >= at_request, from_row, from_request)
    mask = chosen < 0
    indices = pa.array(np.maximum(chosen, 0), mask=mask)
    if isinstance(labels, pa.ChunkedArray):
        labels = labels.combine_chunks()
    label = labels.take(indices)
    label_at = feedback.column("at").combine_chunks().take(indices)
    return predictions.append_column("label", label).append_column("label_at", label_at)
