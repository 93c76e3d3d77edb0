"""``PredictionLog``: group-committed, crash-safe storage of served predictions and their feedback.

Two threads do the work. The *writer* takes everything queued since its last turn (entries of many
endpoints and batches), converts each endpoint's share to Arrow, appends it to that endpoint's WAL file
with one write and one fsync, and only then resolves the callers' futures, so the serving path waits one
amortised fsync and never a Parquet write. Without fsync there is nothing to amortise, and the caller
appends its batch itself (one write into the kernel). The *sealer* turns closed WAL files into Parquet
segments (temp file, fsync, rename) and deletes them; it also runs compaction and retention now and then.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from shipyard.core.errors import InvalidParameterError, StoreUnavailableError
from shipyard.serving.predlog import _maintenance
from shipyard.serving.predlog._columns import MAX_EPOCH_SECONDS, RawBatch, stored_column
from shipyard.serving.predlog._entry import (
    BASE_SCHEMA,
    OUTPUT_PREFIX,
    LogEntry,
    check_endpoint,
    check_entry,
    check_outcome,
)
from shipyard.serving.predlog._feedback import (
    FEEDBACK_SCHEMA,
    decode_values,
    feedback_batch,
    join_latest,
    to_micros,
)
from shipyard.serving.predlog._root import take_root_lock
from shipyard.serving.predlog._scan import finish_scan, read_tables
from shipyard.serving.predlog._sealing import START_SEALER, STOP, Sealing
from shipyard.serving.predlog._sealproc import SealerProcess
from shipyard.serving.predlog._segments import Segment
from shipyard.serving.predlog._stream import Chunk, Rows, Stream, read_only_view
from shipyard.serving.predlog._wal import encode_record
from shipyard.serving.predlog._writer import (
    FEEDBACK,
    PREDICTIONS,
    Item,
    PreparedEntry,
    encode_group,
    fail,
    frame,
    resolve,
    unstorable,
)

__all__ = ["COMPRESSIONS", "SEAL_PROCESS_ROWS", "PredictionLog"]

logger = logging.getLogger(__name__)

_TIME_COLUMN = {PREDICTIONS: "received_at", FEEDBACK: "at"}
_EMPTY = {PREDICTIONS: BASE_SCHEMA, FEEDBACK: FEEDBACK_SCHEMA}
_FILLED_LATER = frozenset({"latency_ms"})  # by submit_prepared, with the outputs
_WRITTEN: concurrent.futures.Future[None] = concurrent.futures.Future()
_WRITTEN.set_result(None)


def _write_error(endpoint: str, kind: str, exc: Exception) -> StoreUnavailableError:
    logger.error("prediction log: could not write to %s/%s: %s", endpoint, kind, exc)
    return StoreUnavailableError(f"the prediction log could not write {endpoint}/{kind}: {exc}")


# Parquet codecs for segments: lz4 decodes fastest of those that compress; "none" suits incompressible
# floats (a third less scan CPU), zstd the smallest files.
COMPRESSIONS = ("lz4", "none", "snappy", "zstd")
#: What a server seals in the helper process: a segment's conversion took tens of milliseconds of the
#: interpreter lock away from the event loop; a small chunk (a quiet endpoint's minute) costs little.
SEAL_PROCESS_ROWS = 10_000


class PredictionLog(Sealing):
    """Durable, columnar log of every served batch, with feedback, for monitoring to scan.

    Files live under ``root/<endpoint>/{predictions,feedback}/``; one process owns a root at a time (a
    lock file says so). ``submit`` returns a future resolved when the entry is on disk: at once with
    ``fsync=True`` (the writer commits it), or already resolved with ``fsync=False`` (the caller wrote it);
    a sealed segment holds ``segment_rows`` rows or ``segment_seconds`` of traffic, whichever comes first.
    With ``fsync=False`` entries survive a killed process (they are in the kernel) but not a power cut.
    Every ``maintenance_seconds`` (None: never) the sealer deletes segments older than ``retention_days``
    (None: keep all) and merges small segments into ones of up to ``compact_rows`` rows. ``compression``
    is the segments' Parquet codec (see ``COMPRESSIONS``). Chunks of at least ``seal_process_rows`` rows
    are sealed by a helper process, off this interpreter's lock (None: always by the sealer thread); a
    server passes ``SEAL_PROCESS_ROWS``, and the helper starts with the first rows written.

    >>> import tempfile, numpy as np
    >>> from shipyard.serving.predlog import LogEntry
    >>> folder = tempfile.TemporaryDirectory()
    >>> log = PredictionLog(Path(folder.name), fsync=False)
    >>> log.start()
    >>> log.submit(LogEntry(endpoint="churn", model_name="churn", model_version="1", request_ids=["r1"],
    ...     rows=[0], protocol="native", received_at=np.array([1.7e9]), latency_ms=np.array([1.5]),
    ...     inputs={"age": np.array([31])}, outputs={"prediction": np.array([1])})).result(timeout=10)
    >>> log.add_feedback("churn", ["r1"], [0])
    >>> log.labelled("churn").select(["request_id", "input.age", "output.prediction", "label"]).to_pylist()
    [{'request_id': 'r1', 'input.age': 31, 'output.prediction': 1, 'label': 0}]
    >>> log.close()
    >>> folder.cleanup()
    """

    def __init__(
        self,
        root: Path,
        *,
        segment_rows: int = 100_000,
        segment_seconds: float = 60.0,
        retention_days: float | None = 30.0,
        fsync: bool = True,
        compact_rows: int = 1_000_000,
        maintenance_seconds: float | None = 600.0,
        compression: str = "lz4",
        seal_process_rows: int | None = None,
    ) -> None:
        for name, value in (("segment_rows", segment_rows), ("compact_rows", compact_rows)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidParameterError(f"{name} must be a positive integer; got {value!r}", field=name)
        for name, seconds in (("segment_seconds", segment_seconds), ("retention_days", retention_days)):
            if seconds is not None and not seconds > 0:
                raise InvalidParameterError(f"{name} must be positive; got {seconds!r}", field=name)
        if compression not in COMPRESSIONS:
            raise InvalidParameterError(
                f"compression must be one of {', '.join(COMPRESSIONS)}; got {compression!r}",
                field="compression",
            )
        if segment_seconds is None:
            raise InvalidParameterError("segment_seconds must be positive; got None", field="segment_seconds")
        if seal_process_rows is not None and (
            isinstance(seal_process_rows, bool)
            or not isinstance(seal_process_rows, int)
            or seal_process_rows < 1
        ):
            raise InvalidParameterError(
                f"seal_process_rows must be a positive integer or None; got {seal_process_rows!r}",
                field="seal_process_rows",
            )
        self.root = Path(root)
        self.segment_rows = segment_rows
        self.segment_seconds = float(segment_seconds)
        self.retention_days = retention_days
        self.fsync = fsync
        self.compact_rows = compact_rows
        self.maintenance_seconds = maintenance_seconds
        self.compression = compression
        self.seal_process_rows = seal_process_rows
        self._sealer = SealerProcess()
        self._sealer_asked = False  # the sealer thread was asked to start it
        self._lock = threading.Lock()  # guards the streams' in-memory state
        self._maintenance_lock = threading.RLock()  # one compaction or retention pass at a time
        self._submit_lock = threading.Lock()  # nothing is queued after the writer's stop mark
        self._commit_lock = threading.Lock()  # one commit or roll at a time (writer or inline)
        self._streams: dict[tuple[str, str], Stream] = {}
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._seal_queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._running = False
        self._closing = threading.Event()
        self._lock_file: int | None = None
        self._threads: list[threading.Thread] = []

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Take the root's lock, recover every endpoint's WAL (sealed in the background), start threads."""
        if self._running:
            return
        fd = take_root_lock(self.root)
        self._lock_file = fd
        recovered: list[Chunk] = []
        try:
            for endpoint in self._disk_endpoints():
                for kind in (PREDICTIONS, FEEDBACK):
                    chunk = self._stream(endpoint, kind).recover()
                    if chunk is not None:
                        logger.info("prediction log: replaying %d rows of %s/%s", chunk.rows, endpoint, kind)
                        recovered.append(chunk)
        except BaseException:
            with self._lock:
                self._streams.clear()
            os.close(fd)  # leave nothing half-open: the next start() recovers from the files again
            self._lock_file = None
            raise
        self._closing.clear()
        self._queue = queue.SimpleQueue()
        self._seal_queue = queue.SimpleQueue()
        for chunk in recovered:
            self._seal_queue.put(chunk)
        self._threads = [
            threading.Thread(target=self._writer_loop, name="predlog-writer", daemon=True),
            threading.Thread(target=self._sealer_loop, name="predlog-sealer", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self._running = True

    def close(self) -> None:
        """Write everything queued, seal every WAL into segments, stop the threads, release the root."""
        with self._submit_lock:
            if not self._running:
                return
            self._running = False
            self._queue.put(STOP)
        self._threads[0].join()
        self._closing.set()
        self._seal_queue.put(STOP)
        self._threads[1].join()
        self._threads = []
        self._sealer.close()
        with self._lock:
            self._streams.clear()
        if self._lock_file is not None:
            os.close(self._lock_file)  # closing the descriptor drops the flock
            self._lock_file = None

    def __enter__(self) -> PredictionLog:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------------------------

    def submit(self, entry: LogEntry) -> concurrent.futures.Future[None]:
        """Queue one served batch; the future resolves once it is durable (or fails with the reason)."""
        if check_entry(entry) == 0:
            return _WRITTEN
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        if self.fsync:  # the writer's group commit shares one fsync among many batches
            self._enqueue(Item(entry.endpoint, PREDICTIONS, entry, future))
            return future
        try:  # nothing to amortise: written here and now
            batch = RawBatch.from_entries([entry])
            record = encode_record(batch)
        except Exception as exc:  # as the writer would: this entry fails, and only this one
            future.set_exception(unstorable(exc))
            return future
        return self._write_now(entry.endpoint, batch, record)

    def prepare(self, entry: LogEntry) -> PreparedEntry:
        """The first half of ``submit``, for a batch whose outputs are not known yet.

        Checks and encodes all of ``entry`` but ``outputs`` and ``latency_ms`` (placeholders of the right
        length here), so that ``submit_prepared`` has little left to do once they are: a server runs this
        while its model predicts, and what is left between the prediction and the responses is small.
        A bad entry raises ``InvalidParameterError`` here (``submit`` would fail its future).
        """
        rows = check_entry(entry)
        if rows == 0:
            return PreparedEntry(entry, rows, None, {})
        batch = RawBatch.from_entries([entry])  # what only conversion finds (times, row numbers) fails here
        if self.fsync:  # the writer's group commit makes the record, of this entry and others
            return PreparedEntry(entry, rows, None, {})
        return PreparedEntry(entry, rows, batch, batch.encode_columns(_FILLED_LATER))

    def submit_prepared(
        self, prepared: PreparedEntry, outputs: dict[str, Any], latency_ms: Any
    ) -> concurrent.futures.Future[None]:
        """``submit`` of a prepared entry with its ``outputs`` and ``latency_ms``: the same future."""
        entry, batch = prepared.entry, prepared.batch
        entry.outputs, entry.latency_ms = outputs, latency_ms
        if batch is None:
            return self.submit(entry)
        check_outcome(entry, prepared.rows)
        batch.columns["latency_ms"] = np.asarray(latency_ms, dtype=np.float64)  # keeps its place
        for name, values in outputs.items():
            batch.columns[OUTPUT_PREFIX + name] = stored_column([values])
        return self._write_now(entry.endpoint, batch, encode_record(batch, prepared.encoded))

    def _write_now(self, endpoint: str, batch: RawBatch, record: bytes) -> concurrent.futures.Future[None]:
        """Without fsync: append the record on the caller's thread (one write into the kernel). A hand-off
        to the writer thread cost more than the write, in queueing and in the thread taking turns with
        the event loop. Returns a resolved future (one shared by every success: nothing waits on it)."""
        with self._submit_lock:
            self._require_running()
            with self._commit_lock:
                stream = self._stream(endpoint, PREDICTIONS)
                try:
                    self._guarded(stream, lambda s: s.open_wal().append(record, sync=False))
                except Exception as exc:
                    failed: concurrent.futures.Future[None] = concurrent.futures.Future()
                    failed.set_exception(_write_error(endpoint, PREDICTIONS, exc))
                    self._roll(force=False)
                    return failed
                # The rows join the WAL file they were written to before a roll can close that file.
                self._remember(stream, [batch], [])
                self._roll(force=False)
        return _WRITTEN

    async def write(self, entry: LogEntry) -> None:
        """``submit`` for asyncio callers: returns when the entry is durable."""
        await asyncio.wrap_future(self.submit(entry))

    def add_feedback(
        self,
        endpoint: str,
        request_ids: list[str],
        values: list[Any],
        *,
        rows: list[int] | None = None,
        at: datetime | None = None,
    ) -> None:
        """Store true labels or values for earlier requests (every row, or the given ``rows``).

        Durable on return. On a log that is not started (say, a CLI next to a running server, which
        owns the root) the labels go straight into a new feedback segment instead of the WAL.
        """
        check_endpoint(endpoint)
        at_us = to_micros(at if at is not None else datetime.now(UTC), field="at")
        if not 0 <= at_us < MAX_EPOCH_SECONDS * 1e6:
            raise InvalidParameterError(f"at must lie between 1970 and the year 5000; got {at}", field="at")
        if threading.current_thread() in self._threads:
            # A future's callback runs on the writer: waiting there for the writer would never end.
            raise RuntimeError("add_feedback cannot be called from the prediction log's own threads")
        batch = feedback_batch(request_ids, values, rows, at_us)
        if not self._running:
            # Another process (a server) may own this root: write a sealed segment of our own, which
            # needs no WAL and no lock; the owner adopts such segments when it next scans feedback.
            stream = Stream(
                self.root / endpoint / FEEDBACK, _TIME_COLUMN[FEEDBACK], self.fsync, self.compression
            )
            stream.ensure_folders()
            _maintenance.write(stream, pa.Table.from_batches([batch]), wal_seq=_maintenance.EXTERNAL)
            return
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._enqueue(Item(endpoint, FEEDBACK, batch, future))
        future.result()

    def _enqueue(self, item: Item) -> None:
        with self._submit_lock:
            self._require_running()
            self._queue.put(item)

    def _writer_loop(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self._roll_wait())
            except queue.Empty:
                with self._commit_lock:
                    self._roll(force=False)
                continue
            items = [first]
            with contextlib.suppress(queue.Empty):
                while True:
                    items.append(self._queue.get_nowait())
            stop = any(item is STOP for item in items)
            try:
                with self._commit_lock:
                    self._commit([item for item in items if item is not STOP])
                    self._roll(force=stop)
            except Exception:  # the writer must outlive any one bad turn
                logger.exception("prediction log: writer turn failed")
            if stop:
                return

    def _commit(self, items: list[Item]) -> None:
        groups: dict[tuple[str, str], list[Item]] = defaultdict(list)
        for item in items:
            # Once RUNNING a future can no longer be cancelled, so set_result below cannot race a cancel.
            item.future.set_running_or_notify_cancel()
            groups[(item.endpoint, item.kind)].append(item)
        # Write every endpoint's share first, then fsync each file: the disk sees all the writes before
        # the first flush, and one journal commit often covers the other files too.
        staged: list[tuple[Stream, list[Rows], list[Item]]] = []
        for (endpoint, kind), group in groups.items():
            try:
                stream = self._stream(endpoint, kind)
                batches, written = encode_group(kind, group)
                if written:
                    self._guarded(stream, lambda s, b=batches: s.open_wal().append(frame(b), sync=False))
                    staged.append((stream, batches, written))
            except Exception as exc:
                self._fail_write(endpoint, kind, group, exc)
        for stream, batches, written in staged:
            try:
                self._guarded(stream, lambda s: s.wal.sync())  # type: ignore[union-attr]
            except Exception as exc:
                self._fail_write(stream.folder.parent.name, stream.folder.name, written, exc)
                continue
            self._remember(stream, batches, written)

    def _remember(self, stream: Stream, batches: list[Rows], written: list[Item]) -> None:
        """Written rows join the stream's unsealed rows (scans see them); their callers are told."""
        if not self._sealer_asked and self.seal_process_rows is not None:
            self._sealer_asked = True  # before its first chunk, so its start-up is not that chunk's wait
            self._seal_queue.put(START_SEALER)
        with self._lock:
            if not stream.active_rows:
                stream.active_since = time.monotonic()
            stream.active.extend(batches)
            stream.active_rows += sum(batch.num_rows for batch in batches)
        for item in written:
            resolve(item.future)

    def _fail_write(self, endpoint: str, kind: str, items: list[Item], exc: Exception) -> None:
        fail(items, _write_error(endpoint, kind, exc))

    def _guarded(self, stream: Stream, action: Callable[[Stream], None]) -> None:
        """Run a WAL write or sync; on an OS error retire the file, whose tail is now unknown.

        Its acknowledged rows are still sealed from memory; the next turn starts a fresh file.
        """
        try:
            action(stream)
        except OSError:
            with self._lock:
                chunk = stream.freeze()
            if chunk is not None:
                self._seal_queue.put(chunk)
            raise

    def _roll_wait(self) -> float:
        now, wait = time.monotonic(), 1.0
        with self._lock:
            for stream in self._streams.values():
                if stream.active_rows:
                    wait = min(wait, stream.active_since + self.segment_seconds - now)
        return max(wait, 0.001)

    def _roll(self, *, force: bool) -> None:
        """Close WAL files that are full or old enough (all of them when ``force``) and queue sealing."""
        now = time.monotonic()
        chunks = []
        with self._lock:
            for stream in self._streams.values():
                due = stream.active_rows >= self.segment_rows or (
                    stream.active_rows and now - stream.active_since >= self.segment_seconds
                )
                if stream.wal is not None and (force or due):
                    chunk = stream.freeze()
                    if chunk is not None:
                        chunks.append(chunk)
        for chunk in chunks:
            self._seal_queue.put(chunk)

    # -- reading -----------------------------------------------------------------------------------

    def scan(
        self,
        endpoint: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        columns: list[str] | None = None,
    ) -> pa.Table:
        """Logged rows with ``since <= received_at < until`` in time order, sealed and not yet sealed.

        Columns are ``received_at`` (UTC timestamp), ``request_id``, ``row``, ``model_name``,
        ``model_version``, ``protocol``, ``latency_ms``, then ``input.<name>`` and ``output.<name>``.
        Versions with other columns or types are unified: a column a version lacks is null there.
        ``columns`` picks columns (one that no row has comes back all null).
        """
        return self._scan(endpoint, PREDICTIONS, since, until, columns)

    def scan_feedback(
        self, endpoint: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> pa.Table:
        """Feedback rows with ``since <= at < until`` in time order: ``at``, ``request_id``, ``row``
        (null: every row of the request) and ``value``, typed when the window's values share a type."""
        table = self._scan(endpoint, FEEDBACK, since, until, None)
        value = decode_values(table) if table.num_rows else pa.nulls(0, pa.string())
        return table.select(["at", "request_id", "row"]).append_column("value", value)

    def labelled(
        self,
        endpoint: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        columns: list[str] | None = None,
    ) -> pa.Table:
        """``scan`` plus ``label`` and ``label_at``: the latest feedback for each (request id, row).

        Every feedback ever stored for the endpoint is considered, since labels arrive after the window.
        ``columns`` limits the prediction columns read (``label`` and ``label_at`` always follow).
        """
        needed = None if columns is None else list(dict.fromkeys([*columns, "request_id", "row"]))
        predictions = self.scan(endpoint, since=since, until=until, columns=needed)
        joined = join_latest(predictions, self._scan(endpoint, FEEDBACK, None, None, None))
        return joined if columns is None else joined.select([*columns, "label", "label_at"])

    def _scan(
        self,
        endpoint: str,
        kind: str,
        since: datetime | None,
        until: datetime | None,
        columns: list[str] | None,
    ) -> pa.Table:
        check_endpoint(endpoint)
        if columns is not None and (isinstance(columns, str) or not all(isinstance(c, str) for c in columns)):
            raise InvalidParameterError("columns must be a list of column names", field="columns")
        since_us = None if since is None else to_micros(since, field="since")
        until_us = None if until is None else to_micros(until, field="until")
        time_column = _TIME_COLUMN[kind]
        wanted = None if columns is None else list(dict.fromkeys([*columns, time_column]))
        tables = read_tables(
            lambda: self._snapshot(endpoint, kind), self.root / endpoint / kind, since_us, until_us, wanted
        )
        return finish_scan(tables, _EMPTY[kind], time_column, since_us, until_us, columns)

    def _snapshot(self, endpoint: str, kind: str) -> tuple[list[Segment], list[Rows]] | None:
        """The stream's segments and in-memory rows, or None when this log does not hold it open."""
        with self._lock:
            stream = self._streams.get((endpoint, kind)) if self._running else None
        if stream is None:
            return None
        if kind == FEEDBACK:
            self._adopt_external(stream)
        with self._lock:
            memory = [b for chunk in stream.pending for b in chunk.batches] + list(stream.active)
            return list(stream.segments), memory

    # -- inventory ---------------------------------------------------------------------------------

    def endpoints(self) -> list[str]:
        """Endpoints with anything logged, on disk or still in memory."""
        with self._lock:
            names = {endpoint for endpoint, _ in self._streams}
        return sorted(names | set(self._disk_endpoints()))

    def stats(self, endpoint: str | None = None) -> dict[str, int]:
        """``rows``, ``segments``, ``bytes`` (segments), ``wal_bytes`` and ``feedback_rows``."""
        names = self.endpoints() if endpoint is None else [check_endpoint(endpoint)]
        totals = dict.fromkeys(("rows", "segments", "bytes", "wal_bytes", "feedback_rows"), 0)
        for name in names:
            for kind in (PREDICTIONS, FEEDBACK):
                held = self._snapshot(name, kind)
                if held is None:
                    folder = self.root / name / kind
                    if not folder.is_dir():
                        continue
                    held = read_only_view(folder)
                segments, memory = held
                memory_rows = sum(b.num_rows for b in memory)
                rows = sum(s.rows for s in segments) + memory_rows
                totals["rows" if kind == PREDICTIONS else "feedback_rows"] += rows
                totals["segments"] += len(segments)
                totals["bytes"] += sum(s.bytes for s in segments)
                totals["wal_bytes"] += Stream(self.root / name / kind, "", False).wal_bytes()
        return totals

    # -- helpers -----------------------------------------------------------------------------------

    def _disk_endpoints(self) -> list[str]:
        if not self.root.is_dir():
            return []
        found = []
        for path in self.root.iterdir():
            if path.is_dir():
                with contextlib.suppress(InvalidParameterError):
                    found.append(check_endpoint(path.name))
        return sorted(found)

    def _stream(self, endpoint: str, kind: str) -> Stream:
        with self._lock:
            stream = self._streams.get((endpoint, kind))
            if stream is None:
                stream = Stream(self.root / endpoint / kind, _TIME_COLUMN[kind], self.fsync, self.compression)
                self._streams[(endpoint, kind)] = stream
                created = True
            else:
                created = False
        if created:
            stream.ensure_folders()
        return stream

    def _pick(self, endpoint: str | None) -> list[Stream]:
        if endpoint is not None:
            check_endpoint(endpoint)
        with self._lock:
            return [s for (name, _), s in self._streams.items() if endpoint is None or name == endpoint]

    def _require_running(self) -> None:
        if not self._running:
            raise StoreUnavailableError("the prediction log is not running; call start() first")
