"""Prometheus metrics of the data plane, on a registry of their own (one per app).

Names follow Prometheus conventions (``_total``, ``_seconds``); labels are endpoint, model,
version, protocol and status for requests, endpoint for the histograms (so cardinality stays
bounded by the number of endpoints, not versions, protocols and statuses).

Requests are counted in bulk: a request appends one tuple, and the counts and the latency
histogram take them a thousand at a time or when read (``flush``; ``render`` does it first).
Counted one by one, the counter's lock and the histogram's bucket search cost ~3 us per request on
the event loop, a twentieth of what a one-row request costs in all.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Iterator, Sequence
from functools import lru_cache

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from shipyard.serving.batching import BatchStats

__all__ = ["CONTENT_TYPE_LATEST", "ServingMetrics"]

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 10.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 1024)
_FLUSH_AT = 1024  # requests counted at once


class BulkHistogram(Collector):
    """A Prometheus histogram that takes many observations of one label set at once (one bucket search
    in NumPy for all of them) and is read like any other (``collect``)."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        *,
        buckets: Sequence[float],
        registry: CollectorRegistry,
    ) -> None:
        self.name, self.documentation, self.labelnames = name, documentation, list(labelnames)
        self._bounds = np.asarray(buckets, dtype=np.float64)
        self._series: dict[tuple[str, ...], tuple[np.ndarray, list[float]]] = {}  # counts, [sum]
        self._lock = threading.Lock()
        registry.register(self)

    def observe_many(self, labels: tuple[str, ...], values: Sequence[float]) -> None:
        array = np.asarray(values, dtype=np.float64)
        # Bucket i holds values in (bound[i-1], bound[i]]: Prometheus' "le"; the last one is +Inf.
        counts = np.bincount(
            np.searchsorted(self._bounds, array, side="left"), minlength=len(self._bounds) + 1
        )
        with self._lock:
            series = self._series.get(labels)
            if series is None:
                series = self._series[labels] = (np.zeros(len(self._bounds) + 1, dtype=np.int64), [0.0])
            series[0][:] += counts
            series[1][0] += float(array.sum())

    def describe(self) -> list[HistogramMetricFamily]:
        return [HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)]

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        with self._lock:
            series = [(labels, counts.cumsum(), total[0]) for labels, (counts, total) in self._series.items()]
        for labels, cumulative, total in series:
            bounds = [floatToGoString(b) for b in self._bounds] + ["+Inf"]
            family.add_metric(
                list(labels), [(b, float(c)) for b, c in zip(bounds, cumulative, strict=True)], total
            )
        yield family


class ServingMetrics:
    def __init__(self, *, hourly_price: float = 0.0) -> None:
        self.registry = CollectorRegistry()
        self.started = time.time()
        self.hourly_price = hourly_price
        r = self.registry
        self.requests = Counter(
            "shipyard_serving_requests",
            "Inference requests answered.",
            ["endpoint", "model", "version", "protocol", "status"],
            registry=r,
        )
        self.predictions = Counter(
            "shipyard_serving_predictions", "Rows predicted.", ["endpoint"], registry=r
        )
        self.latency = BulkHistogram(
            "shipyard_serving_request_duration_seconds",
            "Time from request received to response ready.",
            ["endpoint", "protocol"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.queue = Histogram(
            "shipyard_serving_queue_seconds",
            "Time a request waited for its batch to start.",
            ["endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.model_time = Histogram(
            "shipyard_serving_model_seconds",
            "Duration of one model call (a whole batch).",
            ["endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "shipyard_serving_batch_size",
            "Rows per model call.",
            ["endpoint"],
            buckets=_BATCH_BUCKETS,
            registry=r,
        )
        self.load_seconds = Gauge(
            "shipyard_serving_model_load_seconds",
            "Time to fetch, verify, load and warm the served version.",
            ["endpoint", "model", "version"],
            registry=r,
        )
        self.loaded = Gauge("shipyard_serving_models_loaded", "Model versions held in memory.", registry=r)
        self.swaps = Counter(
            "shipyard_serving_swaps", "Version changes of an endpoint.", ["endpoint", "outcome"], registry=r
        )
        self.logged = Counter(
            "shipyard_serving_logged_rows", "Rows written to the prediction log.", ["endpoint"], registry=r
        )
        uptime = Gauge("shipyard_serving_uptime_seconds", "Seconds since the data plane started.", registry=r)
        uptime.set_function(lambda: time.time() - self.started)
        cost = Gauge(
            "shipyard_serving_cost_per_1000_predictions",
            "Hourly price (configured) times uptime, per 1,000 rows predicted so far.",
            registry=r,
        )
        cost.set_function(self._cost_per_thousand)
        ProcessCollector(registry=r)  # process CPU seconds, resident memory, open files
        # Label lookups hash and validate the label values: cached, they cost a dict hit per request.
        self._request_child = lru_cache(maxsize=4096)(self.requests.labels)
        self._pending: collections.deque[tuple[str, str, str, str, int, float]] = collections.deque()
        self._flushing = threading.Lock()
        self._batch_children = lru_cache(maxsize=1024)(self._batch_children_uncached)
        self._logged_child = lru_cache(maxsize=1024)(self.logged.labels)

    def _batch_children_uncached(self, endpoint: str) -> tuple[Histogram, Histogram, Counter, Histogram]:
        return (
            self.batch_size.labels(endpoint),
            self.model_time.labels(endpoint),
            self.predictions.labels(endpoint),
            self.queue.labels(endpoint),
        )

    def _cost_per_thousand(self) -> float:
        rows = sum(
            sample.value
            for metric in self.predictions.collect()
            for sample in metric.samples
            if sample.name.endswith("_total")
        )
        if rows == 0 or self.hourly_price <= 0:
            return 0.0
        return self.hourly_price * (time.time() - self.started) / 3600.0 / rows * 1000.0

    def observe_request(
        self, *, endpoint: str, model: str, version: str, protocol: str, status: int, seconds: float
    ) -> None:
        pending = self._pending
        pending.append((endpoint, model, version, protocol, status, seconds))
        if len(pending) >= _FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        """Count the requests observed since the last flush (any thread; appends go on meanwhile)."""
        with self._flushing:
            pending = self._pending
            taken = [pending.popleft() for _ in range(len(pending))]
        if not taken:
            return
        counts: collections.Counter[tuple[str, str, str, str, int]] = collections.Counter()
        latencies: dict[tuple[str, str], list[float]] = {}
        for endpoint, model, version, protocol, status, seconds in taken:
            counts[endpoint, model, version, protocol, status] += 1
            latencies.setdefault((endpoint, protocol), []).append(seconds)
        for (endpoint, model, version, protocol, status), count in counts.items():
            self._request_child(endpoint, model, version, protocol, str(status)).inc(count)
        for labels, values in latencies.items():
            self.latency.observe_many(labels, values)

    def observe_batch(self, endpoint: str, stats: BatchStats) -> None:
        batch_size, model_time, predictions, queue = self._batch_children(endpoint)
        batch_size.observe(stats.rows)
        model_time.observe(stats.model_seconds)
        predictions.inc(stats.rows)
        for seconds in stats.queue_seconds:
            queue.observe(seconds)

    def observe_logged(self, endpoint: str, rows: int) -> None:
        self._logged_child(endpoint).inc(rows)

    def render(self) -> bytes:
        self.flush()
        return generate_latest(self.registry)
