"""The prediction log: every served batch and every feedback label, durable before the response leaves.

Layout under the log's root, one folder per endpoint::

    <root>/.lock                                   one PredictionLog per root at a time (flock)
    <root>/<endpoint>/predictions/wal/wal-<seq>.log       framed Arrow IPC records, fsync'd per group
    <root>/<endpoint>/predictions/segments/seg-….parquet  sealed, immutable, time-sorted segments
    <root>/<endpoint>/feedback/{wal,segments}/            the same for labels

Guarantees: a future returned by ``PredictionLog.submit`` resolves only after its rows are written (and,
with ``fsync=True``, fsync'd), so an acknowledged prediction survives ``kill -9`` (and, with fsync, a
power cut). A crash can leave a torn record at a WAL's end; the next ``start`` truncates it and seals
what precedes.
"""

from __future__ import annotations

from shipyard.serving.predlog._entry import InputBlock, LogEntry
from shipyard.serving.predlog._root import check_root_free
from shipyard.serving.predlog._writer import PreparedEntry
from shipyard.serving.predlog.log import SEAL_PROCESS_ROWS, PredictionLog

__all__ = ["SEAL_PROCESS_ROWS", "InputBlock", "LogEntry", "PredictionLog", "PreparedEntry", "check_root_free"]
