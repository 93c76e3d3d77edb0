"""Sealed Parquet segments: naming, atomic writes, reading a time window, and schema unification.

A segment's file name carries what scans, retention and recovery need, so none of them opens a footer:
``seg-<first µs>-<last µs>-<rows>-<last WAL seq>-<token>.parquet``. The times bound the rows' ``received_at``
(feedback: ``at``); the WAL sequence number says which write-ahead files the segment already holds, so a
WAL left behind by a crash between "segment renamed" and "WAL deleted" is dropped instead of replayed.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from shipyard.serving.predlog._wal import fsync_dir

__all__ = [
    "Segment",
    "filter_time",
    "list_segments",
    "publish_segment",
    "read_segment",
    "read_segments",
    "sort_by_time",
    "temporary_path",
    "unify",
    "write_segment",
]

_NAME = re.compile(r"seg-(\d{17})-(\d{17})-(\d{12})-(\d{12})-([0-9a-f]{8})\.parquet")
# Dictionary encoding pays off for the repeated strings (model, version, protocol), not for floats.
_DICTIONARY_COLUMNS = ("model_name", "model_version", "protocol", "kind")


@dataclass(frozen=True)
class Segment:
    path: Path
    first_us: int
    last_us: int
    rows: int
    wal_seq: int

    @property
    def bytes(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    @classmethod
    def parse(cls, path: Path) -> Segment | None:
        match = _NAME.fullmatch(path.name)
        if match is None:
            return None
        first, last, rows, seq, _ = match.groups()
        return cls(path, int(first), int(last), int(rows), int(seq))


def list_segments(folder: Path) -> list[Segment]:
    """Segments in ``folder`` by first time, then name; stray temp files are left to the caller."""
    found = [s for s in (Segment.parse(p) for p in folder.glob("seg-*.parquet")) if s is not None]
    return sorted(found, key=lambda s: (s.first_us, s.path.name))


def _time_bounds(table: pa.Table, time_column: str) -> tuple[int, int]:
    micros = table.column(time_column).cast(pa.int64())
    low, high = pc.min_max(micros).values()
    return int(low.as_py() or 0), int(high.as_py() or 0)


def write_segment(
    folder: Path,
    table: pa.Table,
    *,
    time_column: str,
    wal_seq: int,
    fsync: bool,
    compression: str = "lz4",
    before_rename: Callable[[str], None] | None = None,
    publish: bool = True,
) -> Segment:
    """Write ``table`` as a new segment: temp file, fsync, atomic rename, fsync of the folder.

    ``before_rename`` gets the final name once the data is durable and before it becomes visible.
    Without ``publish`` the file stays under its temporary name (``temporary_path``) for the caller
    to rename (``publish_segment``): a helper process must not make rows visible that its parent,
    killed meanwhile, would also replay from its WAL at the next start.
    """
    first, last = _time_bounds(table, time_column)
    name = f"seg-{first:017d}-{last:017d}-{table.num_rows:012d}-{wal_seq:012d}-{secrets.token_hex(4)}.parquet"
    final = folder / name
    temporary = folder / f".tmp-{name}"
    dictionary = [c for c in _DICTIONARY_COLUMNS if c in table.column_names]
    with open(temporary, "wb") as handle:
        pq.write_table(
            table,
            handle,
            compression=compression,
            use_dictionary=dictionary,
            write_statistics=[time_column],
            row_group_size=1 << 17,  # several row groups per large segment: decoded in parallel
        )
        handle.flush()
        if fsync:
            os.fsync(handle.fileno())
    segment = Segment(final, first, last, table.num_rows, wal_seq)
    if publish:
        if before_rename is not None:
            before_rename(name)
        publish_segment(segment, fsync=fsync)
    return segment


def temporary_path(segment: Segment) -> Path:
    """Where ``write_segment`` writes the file before it renames it into place."""
    return segment.path.with_name(f".tmp-{segment.path.name}")


def publish_segment(segment: Segment, *, fsync: bool) -> None:
    """Rename a segment written with ``publish=False`` into place (atomically, durably if ``fsync``)."""
    os.replace(temporary_path(segment), segment.path)
    if fsync:
        fsync_dir(segment.path.parent)


@functools.lru_cache(maxsize=8192)
def _schema(path: Path) -> pa.Schema:
    return pq.read_schema(path)  # segments never change after the rename, and names are never reused


def read_segments(segments: Sequence[Segment], columns: Sequence[str] | None) -> list[pa.Table]:
    """The segments' rows, one table per run of segments sharing a schema (all of them, usually).

    A run is read as one dataset, so files and columns decode in parallel across the cores.
    """
    runs: list[tuple[pa.Schema, list[Segment]]] = []
    for segment in segments:
        schema = _schema(segment.path)
        if runs and runs[-1][0].equals(schema):
            runs[-1][1].append(segment)
        else:
            runs.append((schema, [segment]))
    tables = []
    for schema, run in runs:
        wanted = None if columns is None else [c for c in columns if c in schema.names]
        dataset = ds.dataset([str(s.path) for s in run], schema=schema, format="parquet")
        tables.append(dataset.to_table(columns=wanted))
    return tables


def read_segment(segment: Segment, columns: Sequence[str] | None) -> pa.Table:
    return read_segments([segment], columns)[0]


def filter_time(table: pa.Table, column: str, since_us: int | None, until_us: int | None) -> pa.Table:
    """Rows with ``since <= time < until``; the table untouched when both bounds hold for every row."""
    if table.num_rows == 0 or (since_us is None and until_us is None):
        return table
    micros = table.column(column).cast(pa.int64()).to_numpy()
    keep = np.ones(len(micros), dtype=bool)
    if since_us is not None:
        keep &= micros >= since_us
    if until_us is not None:
        keep &= micros < until_us
    if keep.all():
        return table
    return table.filter(pa.array(keep))


def sort_by_time(table: pa.Table, column: str) -> pa.Table:
    """Stable sort by ``column``, skipped when the rows are already in order (the usual case)."""
    if table.num_rows < 2:
        return table
    micros = table.column(column).cast(pa.int64()).to_numpy()
    if bool(np.all(micros[1:] >= micros[:-1])):
        return table
    return table.take(pc.sort_indices(table, sort_keys=[(column, "ascending")]))


def _common_type(types: list[pa.DataType]) -> pa.DataType:
    """One type every column version casts to: Arrow's promotion, else lists of the values, else text."""
    distinct = list(dict.fromkeys(t for t in types if not pa.types.is_null(t)))
    if len(distinct) <= 1:
        return distinct[0] if distinct else pa.null()
    try:
        return (
            pa.unify_schemas([pa.schema([("c", t)]) for t in distinct], promote_options="permissive")
            .field("c")
            .type
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, NotImplementedError):
        pass
    if all(
        pa.types.is_list(t) or pa.types.is_fixed_size_list(t) or pa.types.is_large_list(t) for t in distinct
    ):
        # Tensors of another width in a later version: variable-length lists hold both.
        return pa.list_(_common_type([t.value_type for t in distinct]))
    return pa.string()


def unify(tables: Sequence[pa.Table]) -> pa.Table:
    """Concatenate tables whose schemas differ by added, missing or re-typed columns.

    A column missing from a table is null there; types are promoted (int32 + int64 → int64, int + float →
    float64); a column whose versions share no type (number then string) becomes text rather than
    failing the scan.
    """
    tables = [t for t in tables if t.num_columns]
    if not tables:
        return pa.table({})
    if len(tables) == 1:
        return tables[0]
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, NotImplementedError):
        pass
    types: dict[str, list[pa.DataType]] = {}
    for table in tables:
        for field in table.schema:
            types.setdefault(field.name, []).append(field.type)
    target = {name: _common_type(found) for name, found in types.items()}
    cast = []
    for table in tables:
        columns = {}
        for field in table.schema:
            wanted = target[field.name]
            column = table.column(field.name)
            if field.type != wanted:
                column = _cast_column(column, wanted)
            columns[field.name] = column
        cast.append(pa.table(columns))
    return pa.concat_tables(cast, promote_options="permissive")


def _cast_column(column: pa.ChunkedArray, wanted: pa.DataType) -> pa.ChunkedArray:
    try:
        return column.cast(wanted)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        # Lists or timestamps to text have no Arrow cast: render each value as Python would.
        values = [None if v is None else str(v) for v in column.to_pylist()]
        return pa.chunked_array([pa.array(values, type=pa.string())])
