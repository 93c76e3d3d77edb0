"""Rows as the writer keeps them: NumPy arrays and lists, framed without Arrow, converted to Arrow later.

Building Arrow arrays costs a few microseconds of Python per column, paid on every group commit if the
writer did it; with 30-odd columns that was most of the writer's time, and the writer shares the GIL with
the server. So a WAL record holds the columns' raw bytes (numbers, booleans, times) or JSON text (strings,
objects), and Arrow conversion happens when rows are sealed or scanned, once for many groups.

Record payload: ``b"R"``, a uint32 header length, an orjson header (row count, model name and version,
and per column its name, encoding, dtype and width; optionally an input block's names, dtype and
size), then each column's bytes in header order, then the block's.
"""

from __future__ import annotations

import itertools
import struct
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from shipyard.core.errors import InvalidParameterError
from shipyard.serving.predlog._entry import (
    BASE_SCHEMA,
    INPUT_PREFIX,
    OUTPUT_PREFIX,
    RAW_KINDS,
    InputBlock,
    LogEntry,
    to_arrow,
)

__all__ = ["MAX_EPOCH_SECONDS", "TAG", "EncodedColumn", "RawBatch", "raw_to_table", "stored_column"]

TAG = b"R"
MAX_EPOCH_SECONDS = 95_617_584_000.0  # 5000-01-01
_LENGTH = struct.Struct("<I")
_TIME = BASE_SCHEMA.field("received_at").type
_BLOCK = "\0block"  # the block's key among encoded columns: no column name holds a NUL
Column = np.ndarray | list[Any]
#: A column's entry in a record header and its bytes.
EncodedColumn = tuple[list[Any], bytes]


@dataclass(eq=False)  # identity: compared fields would hold arrays
class RawBatch:
    """Rows of one model version and one column layout; ``columns`` maps stored names to values."""

    model_name: str
    model_version: str
    num_rows: int
    protocol: str | list[str]
    columns: dict[str, Column]  # received_at (µs), request_id, row, latency_ms, input.*, output.*
    block: InputBlock | None = None  # input columns stored as one array, before the other input.*

    @classmethod
    def from_entries(cls, entries: list[LogEntry]) -> RawBatch:
        """Concatenate entries that share ``layout_key`` (the writer groups them), in order."""
        first = entries[0]

        def cat(arrays: list[np.ndarray]) -> np.ndarray:
            return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)

        received = cat([np.asarray(e.received_at, dtype=np.float64) for e in entries])
        # min/max rather than np.all of a mask: two C reductions (NaN fails both), on the serving path.
        if received.size and not (received.min() >= 0 and received.max() < MAX_EPOCH_SECONDS):
            # Segment names hold times as 17 unsigned digits; NaN or a time before 1970 has no place there.
            raise InvalidParameterError(
                "received_at must be epoch seconds between 1970 and the year 5000", field="received_at"
            )
        columns: dict[str, Column] = {
            "received_at": np.rint(received * 1e6).astype(np.int64),
            "request_id": list(itertools.chain.from_iterable(e.request_ids for e in entries)),
            "row": _row_numbers(cat([np.asarray(e.rows) for e in entries])),
            "latency_ms": cat([np.asarray(e.latency_ms, dtype=np.float64) for e in entries]),
        }
        for prefix, attribute in ((INPUT_PREFIX, "inputs"), (OUTPUT_PREFIX, "outputs")):
            for name in getattr(first, attribute):
                columns[prefix + name] = stored_column([getattr(e, attribute)[name] for e in entries])
        protocols = [e.protocol for e in entries]
        if all(isinstance(p, str) and p == protocols[0] for p in protocols):
            protocol: str | list[str] = protocols[0]  # type: ignore[assignment]
        else:
            protocol = list(
                itertools.chain.from_iterable(
                    [p] * len(e.request_ids) if isinstance(p, str) else p
                    for p, e in zip(protocols, entries, strict=True)
                )
            )
        n = len(columns["request_id"])
        block = first.input_block
        if block is not None and len(entries) > 1:
            joined = np.concatenate([e.input_block.values for e in entries], axis=1)  # type: ignore[union-attr]
            block = InputBlock(block.names, joined)
        return cls(first.model_name, first.model_version, n, protocol, columns, block)

    def encode(self, encoded: dict[str, EncodedColumn] | None = None) -> bytes:
        """The record payload; ``encoded`` holds columns encoded already (see ``encode_columns``)."""
        specs, blobs = [], []
        for name, values in self.columns.items():
            done = encoded.get(name) if encoded else None
            spec, blob = done if done is not None else _encode_column(name, values)
            specs.append(spec)
            blobs.append(blob)
        fields: dict[str, Any] = {
            "n": self.num_rows,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "protocol": self.protocol,
            "columns": specs,
        }
        if self.block is not None:
            done = encoded.get(_BLOCK) if encoded else None
            spec, blob = done if done is not None else self._encode_block()
            fields["block"] = spec
            blobs.append(blob)
        header = orjson.dumps(fields)
        return b"".join([TAG, _LENGTH.pack(len(header)), header, *blobs])

    def encode_columns(self, skip: frozenset[str] = frozenset()) -> dict[str, EncodedColumn]:
        """Each column's (and the block's) encoded form but those in ``skip``, for ``encode`` later."""
        encoded = {name: _encode_column(name, v) for name, v in self.columns.items() if name not in skip}
        if self.block is not None:
            encoded[_BLOCK] = self._encode_block()
        return encoded

    def _encode_block(self) -> EncodedColumn:
        assert self.block is not None
        blob = self.block.values.tobytes()
        return [list(self.block.names), self.block.values.dtype.str, len(blob)], blob

    @classmethod
    def decode(cls, payload: bytes) -> RawBatch:
        (length,) = _LENGTH.unpack_from(payload, len(TAG))
        start = len(TAG) + _LENGTH.size
        header = orjson.loads(payload[start : start + length])
        offset, n = start + length, int(header["n"])
        columns: dict[str, Column] = {}
        for name, encoding, dtype, shape, size in header["columns"]:
            if encoding == "np":
                count = size // np.dtype(dtype).itemsize
                array = np.frombuffer(payload, dtype=dtype, count=count, offset=offset)
                columns[name] = array.reshape((n, *shape))
            else:
                columns[name] = orjson.loads(payload[offset : offset + size])
            offset += size
        block = None
        if "block" in header:
            names, dtype, size = header["block"]
            values = np.frombuffer(
                payload, dtype=dtype, count=size // np.dtype(dtype).itemsize, offset=offset
            )
            block = InputBlock(tuple(names), values.reshape((len(names), n)))
        return cls(header["model_name"], header["model_version"], n, header["protocol"], columns, block)

    def layout(self) -> tuple[Any, ...]:
        """Batches with equal layouts convert to Arrow together, whatever their model version."""
        block = None if self.block is None else (self.block.names, self.block.values.dtype)
        return (
            block,
            *(
                (name, (v.dtype, v.shape[1:]) if isinstance(v, np.ndarray) else "json")
                for name, v in self.columns.items()
            ),
        )


def stored_column(parts: list[np.ndarray]) -> Column:
    """How a column of one or more entries (``parts``, in order) is kept: numbers as one array (a
    single part as it is), strings as a list, objects as what JSON makes of them."""
    kind = parts[0].dtype.kind
    if kind in RAW_KINDS:
        return parts[0] if len(parts) == 1 else np.concatenate(parts)
    if kind == "O":
        # Through JSON now, so rows read from memory and rows replayed after a crash agree.
        return orjson.loads(_json([v for p in parts for v in p.tolist()]))  # type: ignore[no-any-return]
    return [v for p in parts for v in p.tolist()]


def _encode_column(name: str, values: Column) -> EncodedColumn:
    if isinstance(values, np.ndarray):
        blob = values.tobytes()  # C order, whatever the array's own layout
        return [name, "np", values.dtype.str, list(values.shape[1:]), len(blob)], blob
    blob = _json(values)
    return [name, "json", None, [], len(blob)], blob


def _json(values: list[Any]) -> bytes:
    # default=str: an object JSON cannot hold (a Decimal, a date) is kept as its text.
    return orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY, default=str)


def _row_numbers(rows: np.ndarray) -> np.ndarray:
    if rows.dtype == np.int32:
        return rows
    if rows.dtype.kind not in "iu" or (len(rows) and not (rows.min() >= 0 and rows.max() < 2**31)):
        raise InvalidParameterError("rows must be row indices between 0 and 2**31 - 1", field="rows")
    return rows.astype(np.int32)


def _repeated(values: list[str], counts: list[int]) -> pa.Array:
    """Each value repeated by its count, as strings, without a Python list of every row."""
    distinct = list(dict.fromkeys(values))
    codes = np.repeat(np.array([distinct.index(v) for v in values], dtype=np.int32), counts)
    return pa.DictionaryArray.from_arrays(codes, pa.array(distinct, type=pa.string())).cast(pa.string())


def _text_or_values(values: list[Any]) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        # Mixed types in one column (an int here, a string there): keep every value, as text.
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def _group_to_table(batches: list[RawBatch]) -> pa.Table:
    counts = [b.num_rows for b in batches]
    columns: dict[str, pa.Array] = {}
    for name, values in batches[0].columns.items():
        parts = [b.columns[name] for b in batches]
        if isinstance(values, np.ndarray):
            joined = parts[0] if len(parts) == 1 else np.concatenate(parts)
            if name == "received_at":
                columns[name] = pa.array(joined, type=_TIME)
            else:
                columns[name] = to_arrow(joined)  # type: ignore[arg-type]
        elif name == "request_id":
            columns[name] = pa.array(list(itertools.chain.from_iterable(parts)), type=pa.string())
        else:
            columns[name] = _text_or_values(list(itertools.chain.from_iterable(parts)))
        if name == "latency_ms" and batches[0].block is not None:  # the input columns start here
            blocks = [b.block.values for b in batches]  # type: ignore[union-attr]
            joined = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=1)
            for index, input_name in enumerate(batches[0].block.names):
                columns[INPUT_PREFIX + input_name] = to_arrow(joined[index])
        if name == "row":
            columns["model_name"] = _repeated([b.model_name for b in batches], counts)
            columns["model_version"] = _repeated([b.model_version for b in batches], counts)
            if all(isinstance(b.protocol, str) for b in batches):
                columns["protocol"] = _repeated([b.protocol for b in batches], counts)  # type: ignore[misc]
            else:
                columns["protocol"] = pa.array(
                    list(
                        itertools.chain.from_iterable(
                            [b.protocol] * b.num_rows if isinstance(b.protocol, str) else b.protocol
                            for b in batches
                        )
                    ),
                    type=pa.string(),
                )
    return pa.table(columns)


def raw_to_table(batches: list[RawBatch]) -> list[pa.Table]:
    """One Arrow table per column layout, in the base column order; the caller unifies them."""
    groups: dict[tuple[Any, ...], list[RawBatch]] = defaultdict(list)
    for batch in batches:
        groups[batch.layout()].append(batch)
    return [_group_to_table(group) for group in groups.values()]
