"""Metric series for charts, downsampled on the server so a browser never receives a million points.

Where a run's series lies is known cheaply: its last step is in ``latest_metric`` and its first is
one index seek. A series whose step span fits the budget is read whole (exactly); a longer one is
sampled by index seeks: ``2 * target`` probe steps spread evenly over the span, each answered by the
first point at or after it, so the cost grows with the points drawn, not the points stored. Then
Largest-Triangle-Three-Buckets (Steinarsson, 2013) keeps ``target`` points that preserve the
visual shape: peaks, dips and trends among the sampled points.

A span that hides many points per step (every point logged at step 0) is caught by a row cap on the
whole read; such a series is then reduced in SQL to each step bucket's lowest and highest value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Integer, cast, func, select, text
from sqlalchemy.orm import Session

from shipyard.tracking.tables import LatestMetric, Metric

__all__ = ["TARGET_POINTS", "Series", "lttb", "metric_series"]

TARGET_POINTS = 1000  # about one point per pixel of a wide chart
PROBES_PER_POINT = 2  # sampled points per point drawn: LTTB then picks among them
RAW_BUDGET = 200_000  # points read whole per chart, across its runs; longer series are sampled


@dataclass(frozen=True)
class Series:
    run_id: str
    steps: list[float]
    values: list[float]
    stored: int | None  # points stored when the series was read whole; None when it was sampled
    span: tuple[int, int]  # first and last step

    @property
    def downsampled(self) -> bool:
        return self.stored is None or len(self.steps) < self.stored


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
    # target - 2 buckets over x[1:n-1]; the triangle's third corner is the next bucket's mean
    # (the last point for the last bucket). Means are vectorised; the choice is sequential.
    edges = np.linspace(1, n - 1, target - 1).astype(int)
    edges = np.maximum(edges, np.arange(1, target))  # every bucket holds at least one point
    edges[-1] = n - 1
    sums_x, sums_y = np.add.reduceat(x[: n - 1], edges[:-1]), np.add.reduceat(y[: n - 1], edges[:-1])
    sizes = np.diff(edges)
    mean_x = np.append(sums_x / sizes, x[-1])[1:].tolist()
    mean_y = np.append(sums_y / sizes, y[-1])[1:].tolist()
    xs, ys, bounds = x.tolist(), y.tolist(), edges.tolist()
    keep = [0]
    px, py = xs[0], ys[0]
    for i in range(target - 2):
        mx, my = mean_x[i], mean_y[i]
        best, best_area = bounds[i], -1.0
        for j in range(bounds[i], bounds[i + 1]):
            area = abs((px - mx) * (ys[j] - py) - (px - xs[j]) * (my - py))
            if area > best_area:
                best, best_area = j, area
        keep.append(best)
        px, py = xs[best], ys[best]
    keep.append(n - 1)
    index = np.asarray(keep)
    return x[index], y[index]


def _finite(values: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    if not values:
        return np.empty(0), np.empty(0)
    array = np.asarray(values, dtype=float)
    mask = np.isfinite(array[:, 1])
    return array[mask, 0], array[mask, 1]


def _bounds(session: Session, run_ids: Sequence[str], key: str) -> dict[str, tuple[int, int]]:
    """First and last step of each run's series: the latest row, and one index seek per run."""
    first = (
        select(Metric.step)
        .where(Metric.run_id == LatestMetric.run_id, Metric.key == key)
        .order_by(Metric.step, Metric.timestamp)
        .limit(1)
        .scalar_subquery()
    )
    rows = session.execute(
        select(LatestMetric.run_id, first, LatestMetric.step).where(
            LatestMetric.run_id.in_(list(run_ids)), LatestMetric.key == key
        )
    )
    return {run_id: (low, high) for run_id, low, high in rows if low is not None}


def _probe(
    session: Session, run_id: str, key: str, low: int, high: int, count: int
) -> list[tuple[float, float]]:
    """The first point at or after each of ``count`` steps spread over [low, high]: index seeks only."""
    steps = sorted({int(s) for s in np.linspace(low, high, count)})
    seek = (
        "FROM metric n WHERE n.run_id = :run AND n.key = :key AND n.step >= probe.s "
        "ORDER BY n.step, n.timestamp"
    )
    parameters: dict[str, object] = {"run": run_id, "key": key}
    if session.get_bind().dialect.name == "postgresql":
        # One array parameter (parsed and planned in a fraction of the time of thousands of VALUES rows);
        # LATERAL reads each point straight from the index scan.
        sql = (
            "SELECT m.step, m.value, m.is_nan FROM unnest(CAST(:steps AS BIGINT[])) AS probe(s) "  # noqa: S608
            f"CROSS JOIN LATERAL (SELECT n.step, n.value, n.is_nan {seek} LIMIT 1) AS m ORDER BY m.step"
        )
        parameters["steps"] = steps
    else:
        # SQLite has neither arrays nor LATERAL; the row id sits in the index, so the join costs no read.
        values = ", ".join(f"(CAST(:p{i} AS BIGINT))" for i in range(len(steps)))
        # Only placeholders are formatted into the SQL; every value is bound.
        sql = (
            f"WITH probe(s) AS (VALUES {values}) SELECT m.step, m.value, m.is_nan FROM probe "  # noqa: S608
            f"JOIN metric m ON m.id = (SELECT n.id {seek} LIMIT 1) ORDER BY m.step"
        )
        parameters.update({f"p{i}": step for i, step in enumerate(steps)})
    statement = text(sql)
    seen: dict[int, float] = {}
    for step, value, is_nan in session.execute(statement, parameters):
        seen.setdefault(step, math.nan if is_nan or value is None else value)
    return sorted(seen.items())


def _buckets(
    session: Session, run_ids: list[str], key: str, low: int, high: int, target: int
) -> dict[str, list]:
    """Each step bucket's lowest and highest value (a full scan; only for many points per step)."""
    width = max(1, math.ceil((high - low + 1) / (2 * target)))
    bucket = cast((Metric.step - low) / width, Integer).label("bucket")
    found: dict[str, list[tuple[float, float]]] = {r: [] for r in run_ids}
    rows = session.execute(
        select(
            Metric.run_id,
            bucket,
            func.min(Metric.step),
            func.max(Metric.step),
            func.min(Metric.value),
            func.max(Metric.value),
        )
        .where(Metric.run_id.in_(run_ids), Metric.key == key, Metric.is_nan.is_(False))
        .group_by(Metric.run_id, bucket)
        .order_by(Metric.run_id, bucket)
    )
    for run_id, _, first_step, last_step, lowest, highest in rows:
        found[run_id].append((first_step, lowest))
        if last_step != first_step:
            found[run_id].append((last_step, highest))
    return found


def metric_series(
    session: Session, run_ids: Sequence[str], key: str, *, target: int = TARGET_POINTS
) -> list[Series]:
    """The series of metric ``key`` for each run that logged it, in ``run_ids`` order.

    Two queries when every series is short; one more per long series (its probe query).
    """
    if not run_ids:
        return []
    bounds = _bounds(session, run_ids, key)
    raw_limit = max(2 * target, RAW_BUDGET // max(1, len(bounds)))
    short = [r for r, (low, high) in bounds.items() if high - low + 1 <= raw_limit]
    points: dict[str, list[tuple[float, float]]] = {r: [] for r in bounds}
    exact: set[str] = set()
    if short:
        rows = session.execute(
            select(Metric.run_id, Metric.step, Metric.value, Metric.is_nan)
            .where(Metric.run_id.in_(short), Metric.key == key)
            .order_by(Metric.run_id, Metric.step, Metric.timestamp)
            .limit(RAW_BUDGET + 1)
        ).all()
        if len(rows) <= RAW_BUDGET:
            for run_id, step, value, is_nan in rows:
                points[run_id].append((step, math.nan if is_nan or value is None else value))
            exact.update(short)
        else:  # many points per step: reduce in SQL instead
            low = min(bounds[r][0] for r in short)
            high = max(bounds[r][1] for r in short)
            points.update(_buckets(session, short, key, low, high, target))
    for run_id, (low, high) in bounds.items():
        if run_id not in short:
            points[run_id] = _probe(session, run_id, key, low, high, PROBES_PER_POINT * target)
    result = []
    for run_id in run_ids:
        if run_id not in bounds:
            continue
        x, y = _finite(points[run_id])
        stored = len(points[run_id]) if run_id in exact else None
        x, y = lttb(x, y, target)
        span = bounds[run_id]
        result.append(Series(run_id, x.tolist(), y.tolist(), stored, span))
    return result
