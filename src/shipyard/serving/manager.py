"""Endpoints and their model versions: loading, following aliases, swapping without failed requests.

An endpoint serves the version its model URI names. When that changes (an alias moved, or the
endpoint was pointed elsewhere), the new version is fetched, verified, loaded and warmed with its
input example in the background while the old one keeps serving; then the endpoint's reference
switches in one assignment. Requests hold the runtime they started with, so in-flight ones finish
on the old version, which is unloaded once idle. A version that fails to load or warm never takes
traffic; the failure is kept on the endpoint, counted and reported to ``on_event``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from shipyard.core.errors import NotFoundError
from shipyard.models.package import LoadedModel, load_model
from shipyard.serving.batching import BatchStats
from shipyard.serving.metrics import ServingMetrics
from shipyard.serving.predlog import InputBlock, LogEntry, PredictionLog
from shipyard.serving.rows import Rows
from shipyard.serving.runtime import BatchLogger, LogCommit, ModelRef, ModelRuntime, Prediction, Request
from shipyard.serving.source import ModelSource, follows_alias
from shipyard.serving.worker import ModelWorker

__all__ = ["Endpoint", "EndpointSpec", "ServingManager"]

logger = logging.getLogger(__name__)

EventSink = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class EndpointSpec:
    name: str
    model_uri: str
    log_predictions: bool = True
    sample_rate: float = 1.0
    redact: tuple[str, ...] = ()
    max_batch_rows: int = 64
    max_delay_ms: float = 10.0


@dataclass
class Endpoint:
    spec: EndpointSpec
    active: ModelRuntime | None = None
    state: Literal["loading", "ready", "failed"] = "loading"
    error: str | None = None
    loading: ModelRef | None = None
    failed_version: str | None = None
    draining: set[ModelRuntime] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.spec.name

    def runtime(self, version: str | None = None) -> ModelRuntime:
        """The runtime serving ``version`` (default: the current one), or NotFoundError."""
        active = self.active
        if active is None:
            detail = f": {self.error}" if self.error else ""
            raise NotFoundError(f"endpoint {self.name} has no model loaded yet ({self.state}{detail})")
        if version is None or version == active.ref.version:
            return active
        for runtime in self.draining:
            if runtime.ref.version == version:
                return runtime
        raise NotFoundError(
            f"version {version} of {active.ref.name} is not served by endpoint {self.name} "
            f"(serving version {active.ref.version})",
            field="version",
        )

    def should_log(self) -> bool:
        spec = self.spec
        return spec.log_predictions and (
            spec.sample_rate >= 1.0 or random.random() < spec.sample_rate  # noqa: S311 - sampling, not secrets
        )


# On CPython 3.11 (seen on 3.11.7) two threads loading packages at once can fail with "AST
# constructor recursion depth mismatch": the AST converter's recursion counter is shared between
# threads. Loads in this process take turns.
_LOAD_LOCK = threading.Lock()


def _load_serially(folder: Path, trusted: bool) -> LoadedModel:
    with _LOAD_LOCK:
        return load_model(folder, trusted=trusted)


class ServingManager:
    def __init__(
        self,
        source: ModelSource,
        *,
        metrics: ServingMetrics | None = None,
        predlog: PredictionLog | None = None,
        poll_interval: float = 1.0,
        on_event: EventSink | None = None,
        load_specs: Callable[[], Sequence[EndpointSpec]] | None = None,
        model_processes: bool = False,
    ) -> None:
        self.source = source
        #: Run each loaded version's model in a worker process of its own (see serving.worker).
        self.model_processes = model_processes
        self._load_specs = load_specs
        self.metrics = metrics or ServingMetrics()
        self.predlog = predlog
        self.poll_interval = poll_interval
        self._on_event = on_event
        self.endpoints: dict[str, Endpoint] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._loads: dict[str, asyncio.Task[None]] = {}
        self._retiring: set[asyncio.Task[None]] = set()

    # -- public ---------------------------------------------------------------------------------------
    def get(self, name: str) -> Endpoint:
        endpoint = self.endpoints.get(name)
        if endpoint is None:
            raise NotFoundError(f"no endpoint or model named {name!r} is served here", field="name")
        return endpoint

    async def start(self, specs: Sequence[EndpointSpec] = ()) -> None:
        for spec in specs:
            await self.put(spec)
        try:
            await self.sync_specs()
        except Exception:  # e.g. migrations pending: serve nothing yet, retry on every poll
            logger.exception("could not read the endpoints from the store; retrying on the next poll")
        if self._watcher is None and self.poll_interval > 0:
            self._watcher = asyncio.get_running_loop().create_task(self._watch(), name="serving-watch")

    async def put(self, spec: EndpointSpec) -> Endpoint:
        """Add an endpoint or change one; the (new) version loads in the background."""
        endpoint = self.endpoints.get(spec.name)
        if endpoint is None:
            endpoint = self.endpoints[spec.name] = Endpoint(spec)
        else:
            endpoint.spec = spec
        self._schedule_check(endpoint, force=True)
        return endpoint

    async def remove(self, name: str) -> None:
        endpoint = self.endpoints.pop(name, None)
        if endpoint is None:
            return
        task = self._loads.pop(name, None)
        if task is not None:
            task.cancel()
        if endpoint.active is not None:
            self._retire(endpoint.active)
            endpoint.active = None

    async def wait_ready(self, name: str, timeout: float = 60.0) -> Endpoint:
        """Wait for the endpoint's pending load to finish (tests, ``shipyard serve`` start-up)."""
        deadline = time.monotonic() + timeout
        endpoint = self.get(name)
        while time.monotonic() < deadline:
            task = self._loads.get(name)
            idle = task is None or task.done()
            if idle and (endpoint.active is not None or endpoint.state == "failed"):
                return endpoint
            await asyncio.sleep(0.01)
        raise TimeoutError(f"endpoint {name} did not finish loading within {timeout:.0f} s")

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        for task in self._loads.values():
            task.cancel()
        for endpoint in list(self.endpoints.values()):
            if endpoint.active is not None:
                self._retire(endpoint.active)
                endpoint.active = None
        if self._retiring:
            await asyncio.gather(*self._retiring, return_exceptions=True)

    # -- loading --------------------------------------------------------------------------------------
    def _schedule_check(self, endpoint: Endpoint, *, force: bool = False) -> None:
        running = self._loads.get(endpoint.name)
        if running is not None and not running.done():
            if not force:
                return
            running.cancel()
        task = asyncio.get_running_loop().create_task(self._check(endpoint), name=f"load-{endpoint.name}")
        self._loads[endpoint.name] = task

    async def _check(self, endpoint: Endpoint) -> None:
        spec = endpoint.spec
        try:
            ref = await asyncio.to_thread(self.source.resolve, spec.model_uri)
        except Exception as exc:
            self._fail(endpoint, None, f"cannot resolve {spec.model_uri}: {exc}")
            return
        active = endpoint.active
        if active is not None and active.ref.version == ref.version and active.ref.name == ref.name:
            if active.batcher.max_batch_rows != spec.max_batch_rows:
                active.batcher.max_batch_rows = spec.max_batch_rows
            active.batcher.max_delay = spec.max_delay_ms / 1000.0
            return
        if endpoint.failed_version == f"{ref.name}/{ref.version}":
            return  # it failed already; wait for the alias to move again (or a forced reload)
        await self._load(endpoint, ref)

    async def _load(self, endpoint: Endpoint, ref: ModelRef) -> None:
        spec = endpoint.spec
        endpoint.loading = ref
        started = time.perf_counter()
        runtime: ModelRuntime | None = None
        worker: ModelWorker | None = None
        try:
            folder, trusted = await asyncio.to_thread(self.source.fetch, ref)
            if self.model_processes:  # loaded (and hash-checked) in the worker only
                worker = ModelWorker(folder, trusted=trusted, name=f"{ref.name}-v{ref.version}")
                await asyncio.to_thread(worker.start)
                assert worker.info is not None
                loaded = worker.info.loaded_model()
            else:
                loaded = await asyncio.to_thread(_load_serially, folder, trusted)
            runtime = ModelRuntime(
                ref,
                loaded,
                folder=folder,
                max_batch_rows=spec.max_batch_rows,
                max_delay=spec.max_delay_ms / 1000.0,
                on_batch=lambda rt, stats: self._observe_batch(endpoint.name, stats),
                log_batch=self._logger_for(endpoint),
                worker=worker,
            )
            await asyncio.wait_for(runtime.warm(), timeout=120.0)
        except asyncio.CancelledError:
            await _discard(runtime, worker)
            raise
        except Exception as exc:
            await _discard(runtime, worker)
            self._fail(endpoint, ref, f"version {ref.version} of {ref.name} failed to load: {exc}")
            return
        finally:
            endpoint.loading = None
        runtime.load_seconds = time.perf_counter() - started
        previous = endpoint.active
        endpoint.active = runtime  # the switch: new requests take the new version from here on
        endpoint.state, endpoint.error, endpoint.failed_version = "ready", None, None
        self.metrics.loaded.inc()
        self.metrics.load_seconds.labels(endpoint.name, ref.name, ref.version).set(runtime.load_seconds)
        self.metrics.swaps.labels(endpoint.name, "loaded").inc()
        if previous is not None:
            endpoint.draining.add(previous)
            self._retire(previous, endpoint)
        self._event(
            "serving.version_loaded",
            {
                "endpoint": endpoint.name,
                "model": ref.name,
                "version": ref.version,
                "previous_version": previous.ref.version if previous else None,
                "load_seconds": round(runtime.load_seconds, 4),
            },
        )

    def _fail(self, endpoint: Endpoint, ref: ModelRef | None, message: str) -> None:
        logger.error("endpoint %s: %s", endpoint.name, message)
        endpoint.error = message
        if ref is not None:
            endpoint.failed_version = f"{ref.name}/{ref.version}"
        if endpoint.active is None:
            endpoint.state = "failed"
        self.metrics.swaps.labels(endpoint.name, "failed").inc()
        self._event(
            "serving.version_failed",
            {
                "endpoint": endpoint.name,
                "model": ref.name if ref else None,
                "version": ref.version if ref else None,
                "error": message,
            },
        )

    def _retire(self, runtime: ModelRuntime, endpoint: Endpoint | None = None) -> None:
        async def retire() -> None:
            deadline = time.monotonic() + 60.0
            while runtime.in_flight and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
            await runtime.close()
            if endpoint is not None:
                endpoint.draining.discard(runtime)
            self.metrics.loaded.dec()

        task = asyncio.get_running_loop().create_task(retire(), name=f"retire-{runtime.ref.version}")
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def sync_specs(self) -> None:
        """Match the endpoints to the store's (another server process may have changed them)."""
        if self._load_specs is None:
            return
        specs = {spec.name: spec for spec in await asyncio.to_thread(self._load_specs)}
        for name in set(self.endpoints) - set(specs):
            await self.remove(name)
        for name, spec in specs.items():
            current = self.endpoints.get(name)
            if current is None or current.spec != spec:
                await self.put(spec)

    async def _watch(self) -> None:
        """Poll the URIs that can move (aliases, latest); a moved one loads in the background."""
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                await self.sync_specs()
            except Exception:  # the store may be briefly unavailable; serving goes on
                logger.exception("could not read the endpoints from the store")
            for endpoint in list(self.endpoints.values()):
                if follows_alias(endpoint.spec.model_uri) or endpoint.active is None:
                    self._schedule_check(endpoint)

    def _event(self, name: str, payload: dict[str, Any]) -> None:
        """Hand the event to the sink on a worker thread (it may write to the store)."""
        sink = self._on_event
        if sink is None:
            return

        def deliver() -> None:
            try:
                sink(name, payload)
            except Exception:  # an event sink must never break serving
                logger.exception("serving event %s could not be recorded", name)

        task = asyncio.get_running_loop().create_task(asyncio.to_thread(deliver), name=f"event-{name}")
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    # -- per batch ------------------------------------------------------------------------------------
    def _observe_batch(self, endpoint: str, stats: BatchStats) -> None:
        self.metrics.observe_batch(endpoint, stats)

    def _logger_for(self, endpoint: Endpoint) -> BatchLogger | None:
        if self.predlog is None:
            return None
        predlog, metrics = self.predlog, self.metrics

        def prepare_log(runtime: ModelRuntime, requests: Sequence[Request], merged: Rows) -> LogCommit | None:
            entry = batch_entry(endpoint, runtime, requests, merged)
            if entry is None:
                return None
            prepared = predlog.prepare(entry)

            def commit(
                results: Sequence[Prediction], predictions: Any, probabilities: Any
            ) -> Future[None] | None:
                outputs = batch_outputs(runtime, requests, results, (predictions, probabilities))
                latency_ms = (time.time() - entry.received_at) * 1000.0
                metrics.observe_logged(endpoint.name, prepared.rows)
                logged = predlog.submit_prepared(prepared, outputs, latency_ms)
                # Written already (no fsync: see PredictionLog.submit): nothing for the requests to wait on.
                return None if logged.done() and logged.exception() is None else logged

            return commit

        return prepare_log


async def _discard(runtime: ModelRuntime | None, worker: ModelWorker | None) -> None:
    """Free a version that never took traffic (its worker process too)."""
    if runtime is not None:
        await runtime.close(timeout=1.0)
    elif worker is not None:
        await asyncio.to_thread(worker.close)


def batch_entry(
    endpoint: Endpoint, runtime: ModelRuntime, requests: Sequence[Request], merged: Rows
) -> LogEntry | None:
    """The prediction-log entry of one model call (``merged``: every request's rows, in order) for the
    requests chosen for logging, but for what the prediction gives: ``outputs`` is empty and
    ``latency_ms`` a placeholder until ``batch_outputs`` and the time of the answer fill them in."""
    chosen = [r for r in requests if r.log]
    if not chosen:
        return None
    everyone = len(chosen) == len(requests)
    counts = [r.rows.n for r in chosen]
    if len(counts) == sum(counts):  # one row per request, the usual case: no repeats to build
        request_ids = [r.request_id for r in chosen]
        rows = np.zeros(len(chosen), dtype=np.int32)  # the stored type: no conversion in the log
        received = np.array([r.received_at for r in chosen], dtype=np.float64)
        protocol: list[str] | str = [r.protocol for r in chosen]
        if all(p == protocol[0] for p in protocol):
            protocol = protocol[0]  # one protocol for the whole batch: stored without a list of repeats
    else:
        request_ids = [r.request_id for r, n in zip(chosen, counts, strict=True) for _ in range(n)]
        rows = np.concatenate([np.arange(n, dtype=np.int32) for n in counts])
        received = np.repeat([r.received_at for r in chosen], counts)
        protocol = [r.protocol for r, n in zip(chosen, counts, strict=True) for _ in range(n)]
    inputs: dict[str, np.ndarray] = {}
    input_block = None
    first = chosen[0].rows
    if first.names is not None and all(r.rows.block is not None for r in chosen):
        # Float rows: one block for the batch (the model's own when everyone is logged), logged as one
        # (columns, rows) array, so the log's work per batch does not grow with the feature count.
        block = (
            merged.block
            if everyone and merged.block is not None
            else np.concatenate([r.rows.block for r in chosen])
        )  # type: ignore[misc]
        by_column = np.ascontiguousarray(block.T)
        redact = endpoint.spec.redact
        if redact and any(name in redact for name in first.names):
            keep = [i for i, name in enumerate(first.names) if name not in redact]
            by_column = by_column[keep]
            names = tuple(first.names[i] for i in keep)
        else:
            names = tuple(first.names)
        if names:
            input_block = InputBlock(names, by_column)
    elif first.columns is not None:
        for name in first.columns:
            if name not in endpoint.spec.redact:
                inputs[name] = np.concatenate([r.rows.columns[name] for r in chosen])  # type: ignore[index]
    else:
        inputs["input"] = np.concatenate([r.rows.tensor for r in chosen])  # type: ignore[misc]
    return LogEntry(
        endpoint=endpoint.name,
        model_name=runtime.ref.name,
        model_version=runtime.ref.version,
        request_ids=request_ids,
        rows=rows,
        protocol=protocol,
        received_at=received,
        latency_ms=received,  # a placeholder of the right length
        inputs=inputs,
        outputs={},
        input_block=input_block,
    )


def batch_outputs(
    runtime: ModelRuntime,
    requests: Sequence[Request],
    results: Sequence[Prediction],
    whole: tuple[Any, Any] | None = None,
) -> dict[str, np.ndarray]:
    """The logged output columns of a batch's requests chosen for logging (see ``batch_entry``).

    ``whole``: the batch's own predictions and probabilities (or None), which are those columns already
    when every request is logged (rather than its slices joined again)."""
    if whole is not None and all(r.log for r in requests):
        predictions, stacked = whole
        if stacked is not None and not all(r.want_probabilities for r in requests):
            stacked = None  # some answers hold none: neither does the log
        outputs = {"prediction": np.asarray(predictions)}
    else:
        chosen = [result for request, result in zip(requests, results, strict=True) if request.log]
        outputs = {"prediction": np.concatenate([r.predictions for r in chosen])}
        probabilities = [r.probabilities for r in chosen]
        stacked = (
            np.concatenate(probabilities)  # type: ignore[arg-type]
            if all(p is not None for p in probabilities)
            else None
        )
    if runtime.classes is not None and stacked is not None:
        for index, label in enumerate(runtime.classes):
            outputs[f"proba_{label}"] = stacked[:, index]
    return outputs
