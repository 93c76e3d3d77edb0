"""Reading one stream: a consistent snapshot of segments and in-memory rows, then one sorted table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from shipyard.core.errors import StoreUnavailableError
from shipyard.serving.predlog._segments import Segment, filter_time, read_segments, sort_by_time, unify
from shipyard.serving.predlog._stream import Rows, batches_to_table, listing, read_only_view

__all__ = ["finish_scan", "read_tables"]

_ATTEMPTS = 5


def read_tables(
    snapshot: Callable[[], tuple[list[Segment], list[Rows]] | None],
    folder: Path,
    since_us: int | None,
    until_us: int | None,
    wanted: list[str] | None,
) -> list[pa.Table]:
    """Tables of the stream's rows that may fall in ``[since, until)`` (the caller filters exactly).

    ``snapshot`` gives the open log's view; when it has none, the folder is read as files, and the read
    is retried if the listing changed meanwhile (a writer in another process sealed or compacted).
    """

    def overlaps(segment: Segment) -> bool:
        return (since_us is None or segment.last_us >= since_us) and (
            until_us is None or segment.first_us < until_us
        )

    for _ in range(_ATTEMPTS):
        before = None
        held = snapshot()
        if held is None:
            if not folder.is_dir():
                return []
            before = listing(folder)
            try:
                held = read_only_view(folder)
            except FileNotFoundError:
                continue
        segments, memory = held
        try:
            tables = read_segments([s for s in segments if overlaps(s)], wanted)
        except FileNotFoundError:
            continue  # compaction or retention replaced a segment after the snapshot: take a new one
        if before is not None and listing(folder) != before:
            continue
        if memory:
            resident = batches_to_table(memory)
            if wanted is not None:
                resident = resident.select([c for c in wanted if c in resident.column_names])
            tables.append(resident)
        return tables
    raise StoreUnavailableError(f"the prediction log at {folder} kept changing while being read; try again")


def finish_scan(
    tables: list[pa.Table],
    empty: pa.Schema,
    time_column: str,
    since_us: int | None,
    until_us: int | None,
    columns: list[str] | None,
) -> pa.Table:
    """Unify, keep ``[since, until)``, sort by time, pick ``columns`` (absent ones all null)."""
    table = unify(tables) if tables else empty.empty_table()
    if table.num_columns == 0:
        table = empty.empty_table()
    table = sort_by_time(filter_time(table, time_column, since_us, until_us), time_column)
    if columns is None:
        return table
    return pa.table(
        {
            name: table.column(name) if name in table.column_names else pa.nulls(table.num_rows)
            for name in columns
        }
    )
