"""Metric storage: points in, history out, at the volume training loops produce.

Rows are written as tuples through one driver-level ``executemany`` and read back the same way: for
10,000s of points the ORM's per-row bookkeeping costs several times the SQL. ``latest_metric`` keeps
each run's last value per key (highest step, then timestamp) for search and ordering.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipyard.tracking._common import stored_float
from shipyard.tracking.tables import LatestMetric

__all__ = ["MetricBatch", "MetricPoint", "MetricRow", "log_metrics", "read_history"]


@dataclass(frozen=True)
class MetricPoint:
    key: str
    value: float
    timestamp: int
    step: int = 0
    model_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None


@dataclass(slots=True)
class MetricBatch:
    """Many points as parallel columns: the SDK's buffer, logged without an object per point."""

    keys: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    timestamps: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.keys)

    def slice(self, start: int, stop: int) -> MetricBatch:
        return MetricBatch(
            self.keys[start:stop],
            self.values[start:stop],
            self.steps[start:stop],
            self.timestamps[start:stop],
        )


# Column order of the rows below; rows are tuples so that 100,000s of them create no GC work.
_METRIC_COLUMNS = (
    "run_id",
    "key",
    "value",
    "is_nan",
    "timestamp",
    "step",
    "model_id",
    "dataset_name",
    "dataset_digest",
)
MetricRow = tuple[str, str, float, bool, int, int, str | None, str | None, str | None]


def _metric_rows(run_id: str, metrics: Sequence[MetricPoint] | MetricBatch) -> list[MetricRow]:
    if isinstance(metrics, MetricBatch):
        rows: list[MetricRow] = []
        for key, raw, step, timestamp in zip(
            metrics.keys, metrics.values, metrics.steps, metrics.timestamps, strict=True
        ):
            value, is_nan = stored_float(raw)
            rows.append((run_id, key, value, is_nan, timestamp, step, None, None, None))
        return rows
    return [
        (
            run_id,
            p.key,
            *stored_float(p.value),
            p.timestamp,
            p.step,
            p.model_id,
            p.dataset_name,
            p.dataset_digest,
        )
        for p in metrics
    ]


def _insert_statement(marker: str) -> str:
    # Built once from the constant column list above; no client value is ever interpolated.
    columns, markers = ", ".join(_METRIC_COLUMNS), ", ".join([marker] * len(_METRIC_COLUMNS))
    return f"INSERT INTO metric ({columns}) VALUES ({markers})"  # noqa: S608


_INSERT_METRICS = {"qmark": _insert_statement("?"), "other": _insert_statement("%s")}
_HISTORY_SQL = {
    style: f"SELECT value, is_nan, timestamp, step FROM metric WHERE run_id = {marker} AND key = {marker} "  # noqa: S608
    f"ORDER BY step, timestamp, id LIMIT {marker} OFFSET {marker}"
    for style, marker in (("qmark", "?"), ("other", "%s"))
}


def _insert_metric_rows(session: Session, rows: list[MetricRow]) -> None:
    """One driver-level executemany: the ORM's per-row bookkeeping would cost more than the insert."""
    connection = session.connection()
    statement = _INSERT_METRICS["qmark" if connection.dialect.paramstyle == "qmark" else "other"]
    connection.exec_driver_sql(statement, rows)  # type: ignore[arg-type]


def log_metrics(session: Session, run_id: str, metrics: Sequence[MetricPoint] | MetricBatch) -> None:
    """Insert the points and move each key's latest value forward."""
    rows = _metric_rows(run_id, metrics)
    newest: dict[str, MetricRow] = {}
    for row in rows:  # the last point per key: highest step, then timestamp
        current = newest.get(row[1])
        if current is None or (row[5], row[4]) >= (current[5], current[4]):
            newest[row[1]] = row
    _insert_metric_rows(session, rows)
    existing = {
        latest.key: latest
        for latest in session.scalars(
            select(LatestMetric).where(LatestMetric.run_id == run_id, LatestMetric.key.in_(list(newest)))
        )
    }
    for key, (_, _, value, is_nan, timestamp, step, *_rest) in newest.items():
        latest = existing.get(key)
        if latest is None:
            session.add(
                LatestMetric(
                    run_id=run_id, key=key, value=value, is_nan=is_nan, timestamp=timestamp, step=step
                )
            )
        elif (step, timestamp) >= (latest.step, latest.timestamp):
            latest.value, latest.is_nan, latest.timestamp, latest.step = value, is_nan, timestamp, step


def read_history(
    session: Session, run_id: str, key: str, *, limit: int, offset: int
) -> list[tuple[float, bool, int, int]]:
    """(value, is_nan, timestamp, step) points of one metric, by step then timestamp."""
    connection = session.connection()
    statement = _HISTORY_SQL["qmark" if connection.dialect.paramstyle == "qmark" else "other"]
    rows = connection.exec_driver_sql(statement, (run_id, key, limit, offset)).fetchall()
    return [(value, bool(is_nan), timestamp, step) for value, is_nan, timestamp, step in rows]
