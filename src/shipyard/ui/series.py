"""Metric series for charts, downsampled on the server so a browser never receives a million points.

A series at most ``raw_limit`` points long is read whole; a longer one is first reduced in SQL to the
lowest and highest point of each of ``2 * target`` step buckets (the database scans its index once and
ships a few thousand rows), then Largest-Triangle-Three-Buckets (Steinarsson, 2013) keeps ``target``
points that preserve the visual shape: peaks, dips and trends.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Integer, and_, cast, func, select
from sqlalchemy.orm import Session

from shipyard.tracking.tables import Metric

__all__ = ["Series", "lttb", "metric_series"]

TARGET_POINTS = 1500
RAW_BUDGET = 200_000  # raw points read per chart across all its runs before bucketing in SQL


@dataclass(frozen=True)
class Series:
    run_id: str
    steps: list[float]
    values: list[float]
    total: int  # points stored; ``len(steps)`` is what the chart draws

    @property
    def downsampled(self) -> bool:
        return len(self.steps) < self.total


def lttb(x: np.ndarray, y: np.ndarray, target: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep ``target`` points of (x, y), x ascending, by Largest-Triangle-Three-Buckets.

    The first and last points are always kept; each bucket in between contributes the point that
    spans the largest triangle with the point kept before it and the mean of the next bucket.

    >>> x = np.arange(10.0); y = np.array([0, 1, 0, 9, 0, 1, 0, -7, 0, 1.0])
    >>> kx, ky = lttb(x, y, 5)
    >>> kx.tolist(), ky.tolist()
    ([0.0, 2.0, 3.0, 7.0, 9.0], [0.0, 0.0, 9.0, -7.0, 1.0])
    """
    n = len(x)
    if target >= n or target < 3:
        return x, y
    edges = np.linspace(1, n - 1, target - 1).astype(int)  # target - 2 buckets over x[1:n-1]
    keep = np.empty(target, dtype=int)
    keep[0], keep[-1] = 0, n - 1
    previous = 0
    for i in range(target - 2):
        start, stop = edges[i], max(edges[i + 1], edges[i] + 1)
        nxt_start, nxt_stop = stop, edges[i + 2] if i + 2 < len(edges) else n
        if nxt_start >= nxt_stop:
            nxt_start, nxt_stop = n - 1, n
        mean_x, mean_y = x[nxt_start:nxt_stop].mean(), y[nxt_start:nxt_stop].mean()
        px, py = x[previous], y[previous]
        bx, by = x[start:stop], y[start:stop]
        area = np.abs((px - mean_x) * (by - py) - (px - bx) * (mean_y - py))
        previous = start + int(np.argmax(area))
        keep[i + 1] = previous
    return x[keep], y[keep]


def _finite(values: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    if not values:
        return np.empty(0), np.empty(0)
    array = np.asarray(values, dtype=float)
    mask = np.isfinite(array[:, 1])
    return array[mask, 0], array[mask, 1]


def metric_series(
    session: Session, run_ids: Sequence[str], key: str, *, target: int = TARGET_POINTS
) -> list[Series]:
    """The series of metric ``key`` for each run that logged it, in ``run_ids`` order; three queries."""
    if not run_ids:
        return []
    where = and_(Metric.run_id.in_(list(run_ids)), Metric.key == key)
    counts = {
        run_id: (count, low, high)
        for run_id, count, low, high in session.execute(
            select(Metric.run_id, func.count(), func.min(Metric.step), func.max(Metric.step))
            .where(where)
            .group_by(Metric.run_id)
        )
    }
    raw_limit = max(2 * target, RAW_BUDGET // max(1, len(counts)))
    small = [r for r, (count, _, _) in counts.items() if count <= raw_limit]
    large = [r for r, (count, _, _) in counts.items() if count > raw_limit]
    points: dict[str, list[tuple[float, float]]] = {r: [] for r in counts}
    if small:
        rows = session.execute(
            select(Metric.run_id, Metric.step, Metric.value, Metric.is_nan)
            .where(Metric.run_id.in_(small), Metric.key == key)
            .order_by(Metric.run_id, Metric.step, Metric.timestamp)
        )
        for run_id, step, value, is_nan in rows:
            points[run_id].append((step, math.nan if is_nan or value is None else value))
    if large:
        low = min(counts[r][1] for r in large)
        high = max(counts[r][2] for r in large)
        width = max(1, math.ceil((high - low + 1) / (2 * target)))
        bucket = cast((Metric.step - low) / width, Integer).label("bucket")
        rows = session.execute(
            select(
                Metric.run_id,
                bucket,
                func.min(Metric.step),
                func.max(Metric.step),
                func.min(Metric.value),
                func.max(Metric.value),
            )
            .where(Metric.run_id.in_(large), Metric.key == key, Metric.is_nan.is_(False))
            .group_by(Metric.run_id, bucket)
            .order_by(Metric.run_id, bucket)
        )
        for run_id, _, first_step, last_step, lowest, highest in rows:
            # The bucket's envelope: its lowest and highest value, placed at its first and last step.
            points[run_id].append((first_step, lowest))
            if last_step != first_step:
                points[run_id].append((last_step, highest))
    result = []
    for run_id in run_ids:
        if run_id not in counts:
            continue
        x, y = _finite(points[run_id])
        x, y = lttb(x, y, target)
        result.append(Series(run_id, x.tolist(), y.tolist(), counts[run_id][0]))
    return result
