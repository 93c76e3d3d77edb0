"""A run being logged from the SDK: calls return at once, a background thread sends batches.

``log_metric`` appends to an in-memory buffer under a lock; a daemon thread sends what has gathered
every ``flush_interval`` seconds, or as soon as ``max_buffered`` points wait. ``flush()`` sends now
and re-raises any error a background send met, so nothing is lost silently. Leaving the ``with``
block flushes and ends the run (FAILED if an exception is on its way out); runs still open when the
interpreter exits are flushed and ended as FINISHED.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from shipyard.tracking.runs import MetricBatch

__all__ = ["RunHandle", "RunSink"]

logger = logging.getLogger(__name__)

# send(run_id, metrics, params, tags), end(run_id, status), upload(run_id, local_path, artifact_path)
RunSink = tuple[
    Callable[[str, MetricBatch, dict[str, str], dict[str, str]], None],
    Callable[[str, str], None],
    Callable[[str, Path, str], None],
]
_OPEN: weakref.WeakSet[RunHandle] = weakref.WeakSet()


class RunHandle:
    """Returned by ``Client.start_run``; use it as a context manager."""

    def __init__(
        self,
        run_id: str,
        experiment_id: str,
        sink: RunSink,
        *,
        flush_interval: float = 0.5,
        max_buffered: int = 20_000,
    ) -> None:
        self.run_id = run_id
        self.experiment_id = experiment_id
        self._send, self._end, self._upload = sink
        self._flush_interval = flush_interval
        self._max_buffered = max_buffered
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._metrics = MetricBatch()
        self._params: dict[str, str] = {}
        self._tags: dict[str, str] = {}
        self._error: BaseException | None = None
        self._wake = threading.Event()
        self._closed = False
        self._steps: dict[str, int] = {}
        self._thread = threading.Thread(target=self._loop, name=f"shipyard-run-{run_id[:8]}", daemon=True)
        self._thread.start()
        _OPEN.add(self)

    # -- logging ----------------------------------------------------------------------------------
    def log_metric(
        self, key: str, value: float, step: int | None = None, timestamp: int | None = None
    ) -> None:
        """Buffer one point; ``step`` defaults to one more than this key's last step."""
        if step is None:
            step = self._steps.get(key, -1) + 1
        self._steps[key] = step
        if timestamp is None:
            timestamp = int(time.time() * 1000)
        with self._lock:
            batch = self._metrics
            batch.keys.append(key)
            batch.values.append(float(value))
            batch.steps.append(step)
            batch.timestamps.append(timestamp)
            crossed = len(batch.keys) == self._max_buffered
        if crossed:  # wake the sender once, when the buffer fills, not on every later point
            self._wake.set()

    def log_metrics(self, values: dict[str, float], step: int | None = None) -> None:
        now = int(time.time() * 1000)
        for key, value in values.items():
            self.log_metric(key, value, step=step, timestamp=now)

    def log_param(self, key: str, value: Any) -> None:
        with self._lock:
            self._params[key] = str(value)

    def log_params(self, values: dict[str, Any]) -> None:
        with self._lock:
            self._params.update({k: str(v) for k, v in values.items()})

    def set_tag(self, key: str, value: Any) -> None:
        with self._lock:
            self._tags[key] = str(value)

    def log_artifact(self, local_path: str | Path, artifact_path: str | None = None) -> None:
        """Upload a file now, under ``artifact_path`` (default: its file name)."""
        path = Path(local_path)
        self._upload(self.run_id, path, artifact_path or path.name)

    # -- sending ----------------------------------------------------------------------------------
    def _take(self) -> tuple[MetricBatch, dict[str, str], dict[str, str]]:
        with self._lock:
            taken = (self._metrics, self._params, self._tags)
            self._metrics, self._params, self._tags = MetricBatch(), {}, {}
        return taken

    def _send_pending(self) -> None:
        with self._send_lock:  # one sender at a time keeps batches in order
            metrics, params, tags = self._take()
            if not (len(metrics) or params or tags):
                return
            try:
                self._send(self.run_id, metrics, params, tags)
            except BaseException:
                with self._lock:  # put them back in front, so a later flush retries and nothing is lost
                    pending = self._metrics
                    self._metrics = MetricBatch(
                        metrics.keys + pending.keys,
                        metrics.values + pending.values,
                        metrics.steps + pending.steps,
                        metrics.timestamps + pending.timestamps,
                    )
                    self._params = {**params, **self._params}
                    self._tags = {**tags, **self._tags}
                raise

    def _loop(self) -> None:
        while not self._closed:
            self._wake.wait(self._flush_interval)
            self._wake.clear()
            try:
                self._send_pending()
            except BaseException as exc:  # kept for the caller's next flush()/end()
                self._error = exc
                logger.warning("background logging for run %s failed: %s", self.run_id, exc)
                time.sleep(self._flush_interval)

    def flush(self) -> None:
        """Send everything buffered now; raise if this or an earlier background send failed."""
        self._send_pending()
        error, self._error = self._error, None
        if error is not None:
            raise error

    def end(self, status: str = "FINISHED") -> None:
        """Flush, stop the sender thread and close the run with ``status``."""
        if self._closed:
            return
        try:
            self.flush()
        finally:
            self._closed = True
            self._wake.set()
            self._thread.join(timeout=10)
            _OPEN.discard(self)
            self._end(self.run_id, status)

    def __enter__(self) -> RunHandle:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.end("FAILED" if exc_type is not None else "FINISHED")

    def __repr__(self) -> str:
        return f"RunHandle(run_id={self.run_id!r}, experiment_id={self.experiment_id!r})"


@atexit.register
def _end_open_runs() -> None:
    for handle in list(_OPEN):
        try:
            handle.end("FINISHED")
        except Exception as exc:  # the interpreter is exiting: report, never raise
            logger.error("could not finish run %s at exit: %s", handle.run_id, exc)
