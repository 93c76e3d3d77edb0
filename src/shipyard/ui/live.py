"""Live serving numbers for the endpoint pages, read from the hosting server's own Prometheus registry.

The counters and histograms only grow, so a rate or a recent percentile needs an earlier reading:
each read keeps a snapshot per endpoint (a few per minute at most), and numbers are computed over the
change since the oldest snapshot of the last minute. Before there is one, they cover everything since
the data plane started, and say so.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from shipyard.serving.metrics import ServingMetrics

__all__ = ["LiveNumbers", "Snapshot", "live_numbers", "quantile", "snapshot"]

WINDOW_SECONDS = 60.0
MIN_SPAN_SECONDS = 1.0
MAX_SNAPSHOTS = 64


@dataclass(frozen=True)
class Snapshot:
    """Totals of one endpoint at one moment (monotonic seconds)."""

    at: float
    by_status: dict[str, float]
    latency_buckets: tuple[tuple[float, float], ...]  # (upper bound, cumulative count)
    latency_sum: float
    batch_buckets: tuple[tuple[float, float], ...]
    batch_sum: float
    rows: float


@dataclass(frozen=True)
class LiveNumbers:
    span_seconds: float
    since_start: bool  # True: no earlier snapshot yet, the numbers cover the whole uptime
    requests: float
    request_rate: float | None
    errors: float
    error_share: float | None
    by_status: dict[str, float]
    latency_ms: dict[str, float | None]
    latency_mean_ms: float | None
    batches: float
    batch_mean: float | None
    batch_p50: float | None
    batch_p95: float | None
    batch_histogram: list[tuple[str, float]] = field(default_factory=list)
    rows: float = 0.0


def _buckets(histogram: Any, endpoint: str) -> tuple[tuple[tuple[float, float], ...], float]:
    """Cumulative bucket counts of ``endpoint`` summed over the other labels, and the sum of values."""
    counts: dict[float, float] = {}
    total = 0.0
    for metric in histogram.collect():
        for sample in metric.samples:
            if sample.labels.get("endpoint") != endpoint:
                continue
            if sample.name.endswith("_bucket"):
                bound = float(sample.labels["le"])
                counts[bound] = counts.get(bound, 0.0) + sample.value
            elif sample.name.endswith("_sum"):
                total += sample.value
    return tuple(sorted(counts.items())), total


def snapshot(metrics: ServingMetrics, endpoint: str, at: float | None = None) -> Snapshot:
    metrics.flush()
    by_status: dict[str, float] = {}
    for metric in metrics.requests.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.labels.get("endpoint") == endpoint:
                status = sample.labels["status"]
                by_status[status] = by_status.get(status, 0.0) + sample.value
    latency, latency_sum = _buckets(metrics.latency, endpoint)
    batch, batch_sum = _buckets(metrics.batch_size, endpoint)
    rows = sum(
        sample.value
        for metric in metrics.predictions.collect()
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels.get("endpoint") == endpoint
    )
    return Snapshot(
        time.monotonic() if at is None else at, by_status, latency, latency_sum, batch, batch_sum, rows
    )


def quantile(q: float, buckets: tuple[tuple[float, float], ...]) -> float | None:
    """The q-quantile estimated from cumulative buckets, interpolating inside the bucket it falls in.

    >>> quantile(0.5, ((1.0, 2.0), (2.0, 4.0), (math.inf, 4.0)))
    1.0
    >>> quantile(0.75, ((1.0, 2.0), (2.0, 4.0), (math.inf, 4.0)))
    1.5
    >>> quantile(0.5, ((1.0, 0.0), (math.inf, 0.0))) is None
    True
    """
    if not buckets or buckets[-1][1] <= 0:
        return None
    total = buckets[-1][1]
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank and count > lower_count:
            if math.isinf(bound):
                return lower_bound  # beyond the last finite bucket: its bound is all that is known
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = bound, count
    return lower_bound


def _minus(
    now: tuple[tuple[float, float], ...], then: tuple[tuple[float, float], ...]
) -> tuple[tuple[float, float], ...]:
    earlier = dict(then)
    return tuple((bound, count - earlier.get(bound, 0.0)) for bound, count in now)


class _History:
    """Recent snapshots per (registry, endpoint); reads happen on the event loop, so no lock."""

    def __init__(self) -> None:
        self._snapshots: dict[tuple[int, str], deque[Snapshot]] = {}

    def add(self, key: tuple[int, str], current: Snapshot) -> Snapshot | None:
        """Store ``current`` and return the oldest snapshot of the last minute worth comparing with."""
        kept = self._snapshots.setdefault(key, deque(maxlen=MAX_SNAPSHOTS))
        while kept and current.at - kept[0].at > WINDOW_SECONDS:
            kept.popleft()
        baseline = kept[0] if kept and current.at - kept[0].at >= MIN_SPAN_SECONDS else None
        if not kept or current.at - kept[-1].at >= MIN_SPAN_SECONDS:
            kept.append(current)
        return baseline


_HISTORY = _History()


def live_numbers(metrics: ServingMetrics, endpoint: str, *, at: float | None = None) -> LiveNumbers:
    """Requests, errors, latency and batch numbers of ``endpoint`` over the last minute (or uptime)."""
    current = snapshot(metrics, endpoint, at)
    baseline = _HISTORY.add((id(metrics), endpoint), current)
    if baseline is None:
        span = max(time.time() - metrics.started, 1e-9)
        by_status, latency, batches = current.by_status, current.latency_buckets, current.batch_buckets
        latency_sum, batch_sum, rows = current.latency_sum, current.batch_sum, current.rows
    else:
        span = current.at - baseline.at
        by_status = {
            status: count - baseline.by_status.get(status, 0.0) for status, count in current.by_status.items()
        }
        latency = _minus(current.latency_buckets, baseline.latency_buckets)
        batches = _minus(current.batch_buckets, baseline.batch_buckets)
        latency_sum = current.latency_sum - baseline.latency_sum
        batch_sum = current.batch_sum - baseline.batch_sum
        rows = current.rows - baseline.rows
    requests = sum(by_status.values())
    errors = sum(count for status, count in by_status.items() if status[:1] in ("4", "5"))
    latency_count = latency[-1][1] if latency else 0.0
    batch_count = batches[-1][1] if batches else 0.0
    histogram, previous = [], 0.0
    for bound, count in batches:
        label = "more" if math.isinf(bound) else f"≤ {bound:g}"
        histogram.append((label, count - previous))
        previous = count
    return LiveNumbers(
        span_seconds=span,
        since_start=baseline is None,
        requests=requests,
        request_rate=requests / span if span > 0 else None,
        errors=errors,
        error_share=errors / requests if requests else None,
        by_status=dict(sorted(by_status.items())),
        latency_ms={
            name: None if (value := quantile(q, latency)) is None else value * 1000.0
            for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
        },
        latency_mean_ms=latency_sum / latency_count * 1000.0 if latency_count else None,
        batches=batch_count,
        batch_mean=batch_sum / batch_count if batch_count else None,
        batch_p50=quantile(0.5, batches),
        batch_p95=quantile(0.95, batches),
        batch_histogram=[(label, count) for label, count in histogram if count > 0],
        rows=rows,
    )
