"""Requests are counted in bulk, yet every reading of the metrics sees every request answered before
it, with the buckets and sums a one-by-one Prometheus histogram would have."""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.parser import text_string_to_metric_families

from shipyard.serving.metrics import _FLUSH_AT, _LATENCY_BUCKETS, BulkHistogram, ServingMetrics

# On the bounds, between them, below the first and past the last: "le" is inclusive.
VALUES = [0.0, 0.0005, 0.0007, 0.001, 0.0011, 0.05, 0.3, 10.0, 12.0, 99.0]


def _samples(registry: CollectorRegistry, name: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in registry.collect()
        for sample in family.samples
        if sample.name.startswith(name) and not sample.name.endswith("_created")
    }


def test_the_bulk_histogram_reads_like_prometheus_own() -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    bulk = BulkHistogram("latency", "help", ["endpoint"], buckets=_LATENCY_BUCKETS, registry=ours)
    plain = Histogram("latency", "help", ["endpoint"], buckets=_LATENCY_BUCKETS, registry=theirs)
    bulk.observe_many(("e",), VALUES[:4])
    bulk.observe_many(("e",), VALUES[4:])
    for value in VALUES:
        plain.labels("e").observe(value)
    assert _samples(ours, "latency") == _samples(theirs, "latency")


def _requests(text: str) -> dict[str, float]:
    return {
        sample.labels["status"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "shipyard_serving_requests_total"
    }


def test_every_request_is_counted_by_the_next_reading() -> None:
    metrics = ServingMetrics()
    for status in (200, 200, 400):
        metrics.observe_request(
            endpoint="e", model="m", version="1", protocol="v2", status=status, seconds=0.002
        )
    assert _requests(metrics.render().decode()) == {"200": 2.0, "400": 1.0}
    count = [
        sample.value
        for family in metrics.latency.collect()
        for sample in family.samples
        if sample.name.endswith("_count")
    ]
    assert count == [3.0]


def test_requests_counted_from_threads_while_read_are_counted_once() -> None:
    metrics = ServingMetrics()
    per_thread = _FLUSH_AT * 3 + 17  # several flushes on the way, and a rest for the last reading

    def answer() -> None:
        for _ in range(per_thread):
            metrics.observe_request(
                endpoint="e", model="m", version="1", protocol="v2", status=200, seconds=0.001
            )

    threads = [threading.Thread(target=answer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for _ in range(20):
        metrics.render()  # readings while requests are counted
    for thread in threads:
        thread.join()
    assert _requests(metrics.render().decode()) == {"200": 4.0 * per_thread}
