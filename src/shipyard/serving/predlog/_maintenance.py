"""Segment upkeep for one stream: writing a sealed segment, compaction and retention.

Compaction merges runs of consecutive small segments of one UTC day, so retention, which deletes whole
segments, still frees space day by day. The swap is journalled (see ``_stream.write_journal``): a crash
leaves either the old segments or the new one, never both.
"""

from __future__ import annotations

import logging
import threading

import pyarrow as pa

from shipyard.serving.predlog._segments import Segment, read_segment, sort_by_time, unify, write_segment
from shipyard.serving.predlog._stream import JOURNAL, Stream, write_journal
from shipyard.serving.predlog._wal import fsync_dir

__all__ = ["EXTERNAL", "compact", "expire", "plan_compaction", "write"]

logger = logging.getLogger(__name__)
_DAY_US = 86_400 * 1_000_000
# The WAL number of a feedback segment written by a process that does not own the log: it holds no WAL
# file, and 0 is below every real WAL number, so it never marks one as sealed.
EXTERNAL = 0


def write(
    stream: Stream, table: pa.Table, *, wal_seq: int, journal_old: list[Segment] | None = None
) -> Segment:
    """Write ``table`` as a segment of ``stream``; with ``journal_old`` journal the swap first."""

    def journal(name: str) -> None:
        if journal_old is not None:
            write_journal(stream.segment_dir, name, [s.path.name for s in journal_old], fsync=stream.fsync)

    return write_segment(
        stream.segment_dir,
        table,
        time_column=stream.time_column,
        wal_seq=wal_seq,
        fsync=stream.fsync,
        compression=stream.compression,
        before_rename=journal,
    )


def plan_compaction(segments: list[Segment], target_rows: int) -> list[list[Segment]]:
    """Groups of two or more consecutive small segments, each group of one UTC day and at most
    ``target_rows`` rows; a segment already holding ``target_rows`` / 2 rows is left alone.

    >>> from pathlib import Path
    >>> small = [Segment(Path(f"s{i}"), i, i, 10, i) for i in range(5)]
    >>> [len(group) for group in plan_compaction(small, target_rows=30)]
    [3, 2]
    """
    groups: list[list[Segment]] = []
    run: list[Segment] = []
    run_rows = 0

    def close_run() -> None:
        if len(run) >= 2:
            groups.append(list(run))
        run.clear()

    for segment in segments:
        small = segment.rows < target_rows // 2
        same_day = bool(run) and run[0].first_us // _DAY_US == segment.last_us // _DAY_US
        if not small:
            close_run()
            run_rows = 0
            continue
        if run and (not same_day or run_rows + segment.rows > target_rows):
            close_run()
            run_rows = 0
        run.append(segment)
        run_rows += segment.rows
    close_run()
    return groups


def compact(stream: Stream, lock: threading.Lock, target_rows: int) -> int:
    """Merge ``stream``'s small segments; returns how many segments were merged away into new ones."""
    with lock:
        segments = list(stream.segments)
    merged = 0
    for group in plan_compaction(segments, target_rows):
        table = sort_by_time(unify([read_segment(s, None) for s in group]), stream.time_column)
        new = write(stream, table, wal_seq=max(s.wal_seq for s in group), journal_old=group)
        gone = {s.path for s in group}
        with lock:
            stream.segments = sorted(
                [s for s in stream.segments if s.path not in gone] + [new],
                key=lambda s: (s.first_us, s.path.name),
            )
        for segment in group:
            segment.path.unlink(missing_ok=True)
        if stream.fsync:
            fsync_dir(stream.segment_dir)
        (stream.segment_dir / JOURNAL).unlink(missing_ok=True)
        merged += len(group)
        logger.info(
            "prediction log: compacted %d segments of %s into %s", len(group), stream.folder, new.path.name
        )
    return merged


def expire(stream: Stream, lock: threading.Lock, cutoff_us: int) -> int:
    """Delete ``stream``'s segments whose newest row is older than ``cutoff_us``; returns the count."""
    with lock:
        old = [s for s in stream.segments if s.last_us < cutoff_us]
        stream.segments = [s for s in stream.segments if s.last_us >= cutoff_us]
    for segment in old:
        segment.path.unlink(missing_ok=True)
    if old:
        if stream.fsync:
            fsync_dir(stream.segment_dir)
        logger.info("prediction log: retention deleted %d segments of %s", len(old), stream.folder)
    return len(old)
