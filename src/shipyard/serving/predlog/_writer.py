"""The writer's units of work: queued items, their conversion to WAL records, and their futures."""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from shipyard.core.errors import InvalidParameterError
from shipyard.serving.predlog._columns import EncodedColumn, RawBatch
from shipyard.serving.predlog._entry import LogEntry, layout_key
from shipyard.serving.predlog._stream import Rows
from shipyard.serving.predlog._wal import encode_record

__all__ = [
    "FEEDBACK",
    "PREDICTIONS",
    "Item",
    "PreparedEntry",
    "encode_group",
    "fail",
    "frame",
    "resolve",
    "unstorable",
]

logger = logging.getLogger(__name__)

PREDICTIONS, FEEDBACK = "predictions", "feedback"


@dataclass
class Item:
    """One queued write: a served batch or a feedback batch, and the future its caller waits on."""

    endpoint: str
    kind: str
    payload: LogEntry | pa.RecordBatch
    future: concurrent.futures.Future[None]


@dataclass
class PreparedEntry:
    """A served batch checked and encoded but for its outputs and latencies (``PredictionLog.prepare``).

    ``batch`` and ``encoded`` are None and empty where the writer thread will build the record itself.
    """

    entry: LogEntry
    rows: int
    batch: RawBatch | None
    encoded: dict[str, EncodedColumn]


def encode_group(kind: str, group: list[Item]) -> tuple[list[Rows], list[Item]]:
    """Records for ``group``: one per column layout; an entry that cannot be stored fails alone."""
    if kind == FEEDBACK:
        table = pa.Table.from_batches([item.payload for item in group])  # type: ignore[misc]
        return table.combine_chunks().to_batches(), group
    by_layout: dict[Any, list[Item]] = defaultdict(list)
    if len(group) == 1:
        by_layout[None] = group  # the usual case under light traffic: nothing to group
    else:
        for item in group:
            by_layout[layout_key(item.payload)].append(item)  # type: ignore[arg-type]
    batches: list[Rows] = []
    written: list[Item] = []
    for same in by_layout.values():
        try:
            batches.append(RawBatch.from_entries([item.payload for item in same]))  # type: ignore[misc]
            written.extend(same)
            continue
        except Exception as exc:  # retried one by one below, so one bad entry fails alone
            logger.warning("prediction log: %d entries could not be grouped: %s", len(same), exc)
        for item in same:
            try:
                batches.append(RawBatch.from_entries([item.payload]))  # type: ignore[list-item]
                written.append(item)
            except Exception as exc:
                fail([item], unstorable(exc))
    return batches, written


def unstorable(exc: Exception) -> InvalidParameterError:
    """Why an entry could not become a record, as the caller's error."""
    if isinstance(exc, InvalidParameterError):
        return exc
    return InvalidParameterError(f"the entry could not be stored: {exc}", field="entry")


def frame(batches: list[Rows]) -> bytes:
    return b"".join(encode_record(batch) for batch in batches)


def resolve(future: concurrent.futures.Future[None]) -> None:
    with contextlib.suppress(concurrent.futures.InvalidStateError):
        future.set_result(None)


def fail(items: list[Item], error: BaseException) -> None:
    for item in items:
        with contextlib.suppress(concurrent.futures.InvalidStateError):
            item.future.set_exception(error)
