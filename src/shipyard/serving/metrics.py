"""Prometheus metrics of the data plane, on a registry of their own (one per app).

Names follow Prometheus conventions (``_total``, ``_seconds``); labels are endpoint, model,
version, protocol and status for requests, endpoint for the histograms (so cardinality stays
bounded by the number of endpoints, not versions, protocols and statuses).
"""

from __future__ import annotations

import time
from functools import lru_cache

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.process_collector import ProcessCollector

from shipyard.serving.batching import BatchStats

__all__ = ["CONTENT_TYPE_LATEST", "ServingMetrics"]

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 10.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 1024)


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
        self.latency = Histogram(
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
        self._latency_child = lru_cache(maxsize=1024)(self.latency.labels)
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
        self._request_child(endpoint, model, version, protocol, str(status)).inc()
        self._latency_child(endpoint, protocol).observe(seconds)

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
        return generate_latest(self.registry)
