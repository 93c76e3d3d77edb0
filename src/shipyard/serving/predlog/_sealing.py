"""The sealer thread's side of ``PredictionLog``: closed WAL files become Parquet segments, and now and then
old segments expire and small ones are merged. A mixin, so the log's state stays in one object."""

from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from shipyard.serving.predlog import _maintenance
from shipyard.serving.predlog._feedback import to_micros
from shipyard.serving.predlog._sealproc import SealerProcess, SealJob, drop_unpublished
from shipyard.serving.predlog._segments import Segment, list_segments, publish_segment, sort_by_time
from shipyard.serving.predlog._stream import Chunk, Stream, batches_to_table
from shipyard.serving.predlog._writer import FEEDBACK

__all__ = ["START_SEALER", "STOP", "Sealing"]

logger = logging.getLogger(__name__)

STOP = object()  # the mark that ends the writer's and the sealer's loops
START_SEALER = object()  # the mark that starts the sealing process (see ``_sealproc``)


class Sealing:
    """Sealing, compaction, retention and adoption of other processes' feedback segments."""

    maintenance_seconds: float | None
    seal_process_rows: int | None
    _sealer: SealerProcess
    retention_days: float | None
    compact_rows: int
    _lock: threading.Lock
    _maintenance_lock: threading.RLock
    _closing: threading.Event
    _seal_queue: queue.SimpleQueue[Chunk | object]

    if TYPE_CHECKING:  # the log's own, which this mixin calls

        def _pick(self, endpoint: str | None) -> list[Stream]: ...

        def _require_running(self) -> None: ...

    def _sealer_loop(self) -> None:
        next_maintenance = (
            time.monotonic() + self.maintenance_seconds if self.maintenance_seconds else float("inf")
        )
        while True:
            try:
                chunk = self._seal_queue.get(
                    timeout=max(0.01, min(60.0, next_maintenance - time.monotonic()))
                )
            except queue.Empty:
                chunk = None
            if chunk is STOP:
                return
            if chunk is START_SEALER:
                try:
                    self._sealer.start()
                except Exception:  # its first chunk tries again, and falls back to sealing here
                    logger.exception("prediction log: the sealing process did not start")
                continue
            if chunk is not None:
                self._seal_with_retry(chunk)
            if time.monotonic() >= next_maintenance and not self._closing.is_set():
                try:
                    self._expire(datetime.now(UTC))
                    self._compact(None)
                except Exception:
                    logger.exception("prediction log: maintenance failed")
                next_maintenance = time.monotonic() + (self.maintenance_seconds or float("inf"))

    def _seal_with_retry(self, chunk: Chunk) -> None:
        # Chunks of one stream must be sealed in order: a later segment's WAL number marks every earlier
        # WAL file as sealed. So a failing chunk is retried (its rows stay readable from memory), never
        # skipped; at close the WAL files simply stay for the next start to replay.
        delay = 0.5
        while True:
            try:
                self._seal(chunk)
                return
            except Exception:
                logger.exception("prediction log: sealing %s failed; retrying", chunk.stream.folder)
            if self._closing.wait(delay):
                return
            delay = min(delay * 2, 30.0)

    def _seal(self, chunk: Chunk) -> None:
        stream = chunk.stream
        segment: Segment | None = None
        rows = chunk.rows  # a sum over the chunk's batches: once
        if rows:
            segment = self._seal_elsewhere(chunk, rows)
            if segment is None:
                table = sort_by_time(batches_to_table(chunk.batches), stream.time_column)
                segment = _maintenance.write(stream, table, wal_seq=max(chunk.seqs))
        with self._lock:
            if segment is not None:
                stream.segments.append(segment)
                stream.segments.sort(key=lambda s: (s.first_us, s.path.name))
            stream.pending.remove(chunk)
        for path in chunk.paths:
            path.unlink(missing_ok=True)

    def _seal_elsewhere(self, chunk: Chunk, rows: int) -> Segment | None:
        """The segment of ``chunk`` (of ``rows`` rows) written by the sealing process (see ``_sealproc``),
        if the chunk is large enough to be worth it; None: seal it here."""
        if self.seal_process_rows is None or rows < self.seal_process_rows:
            return None
        job = SealJob.of(chunk, rows)
        try:
            segment = self._sealer.seal(job)
            publish_segment(segment, fsync=job.fsync)
            return segment
        except Exception as exc:
            logger.warning("prediction log: the sealing process failed (%s); sealing in the server", exc)
        drop_unpublished(job)
        return None

    def compact(self, endpoint: str | None = None) -> int:
        """Merge runs of small segments (within one UTC day) into larger ones; returns segments merged."""
        self._require_running()
        return self._compact(endpoint)

    def enforce_retention(self, now: datetime | None = None) -> int:
        """Delete segments whose newest row is older than ``retention_days``; returns segments deleted."""
        self._require_running()
        return self._expire(now if now is not None else datetime.now(UTC))

    def _compact(self, endpoint: str | None) -> int:
        with self._maintenance_lock:
            streams = self._pick(endpoint)
            self._adopt_all(streams)
            return sum(_maintenance.compact(stream, self._lock, self.compact_rows) for stream in streams)

    def _expire(self, now: datetime) -> int:
        if self.retention_days is None:
            return 0
        keep = timedelta(days=self.retention_days) // timedelta(microseconds=1)
        cutoff = to_micros(now, field="now") - keep
        with self._maintenance_lock:
            streams = self._pick(None)
            self._adopt_all(streams)
            return sum(_maintenance.expire(stream, self._lock, cutoff) for stream in streams)

    def _adopt_all(self, streams: list[Stream]) -> None:
        for stream in streams:
            if stream.folder.name == FEEDBACK:
                self._adopt_external(stream)

    def _adopt_external(self, stream: Stream) -> None:
        """Add feedback segments that another process wrote (see ``add_feedback``) to the stream.

        Skipped while compaction or retention runs (they swap files, and a listing taken then could
        double rows); the segments are picked up by the next scan.
        """
        if not self._maintenance_lock.acquire(blocking=False):
            return
        try:
            found = [s for s in list_segments(stream.segment_dir) if s.wal_seq == _maintenance.EXTERNAL]
            with self._lock:
                known = {s.path for s in stream.segments}
                new = [s for s in found if s.path not in known]
                if new:
                    stream.segments = sorted(stream.segments + new, key=lambda s: (s.first_us, s.path.name))
        finally:
            self._maintenance_lock.release()
