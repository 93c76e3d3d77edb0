"""Metric storage: points in, history out, at the volume training loops produce.

Rows are written as tuples through one driver-level ``executemany`` and read back the same way: for
10,000s of points the ORM's per-row bookkeeping costs several times the SQL. ``latest_metric`` keeps
each run's last value per key (highest step, then timestamp) for search and ordering.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.dialects import postgresql, sqlite
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
# A batch's rows stop after ``step``: its points carry no model or dataset, and binding three NULLs
# per row cost SQLite a quarter of its insert time.
MetricRow = (
    tuple[str, str, float, bool, int, int]
    | tuple[str, str, float, bool, int, int, str | None, str | None, str | None]
)
_BATCH_COLUMNS = 6


def _metric_rows(run_id: str, metrics: Sequence[MetricPoint] | MetricBatch) -> list[MetricRow]:
    if isinstance(metrics, MetricBatch):
        count = len(metrics.keys)
        if not any(map(math.isnan, metrics.values)):
            # No NaN to flag (the usual case): the rows are built by zip in C, without a call per point.
            return list(
                zip(
                    repeat(run_id, count),
                    metrics.keys,
                    metrics.values,
                    repeat(False, count),
                    metrics.timestamps,
                    metrics.steps,
                    strict=True,
                )
            )
        rows: list[MetricRow] = []
        for key, raw, step, timestamp in zip(
            metrics.keys, metrics.values, metrics.steps, metrics.timestamps, strict=True
        ):
            value, is_nan = stored_float(raw)
            rows.append((run_id, key, value, is_nan, timestamp, step))
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


# Above this many distinct keys in one batch, one pass in Python beats a C pass per key.
_KEYS_FOR_C_PASSES = 16


def _newest_rows(rows: list[MetricRow], metrics: Sequence[MetricPoint] | MetricBatch) -> list[MetricRow]:
    """The last point per key (highest step, then timestamp; the later one on a tie)."""
    if isinstance(metrics, MetricBatch):
        keys = set(metrics.keys)
        if len(keys) <= _KEYS_FOR_C_PASSES:
            ordered = zip(metrics.steps, metrics.timestamps, range(len(rows)), strict=True)
            if len(keys) == 1:
                return [rows[max(ordered)[2]]]
            points = list(ordered)
            return [rows[max(compress(points, map(key.__eq__, metrics.keys)))[2]] for key in keys]
    newest: dict[str, MetricRow] = {}
    for row in rows:
        current = newest.get(row[1])
        if current is None or (row[5], row[4]) >= (current[5], current[4]):
            newest[row[1]] = row
    return list(newest.values())


def _insert_statement(marker: str, width: int) -> str:
    # Built once from the constant column list above; no client value is ever interpolated.
    columns, markers = ", ".join(_METRIC_COLUMNS[:width]), ", ".join([marker] * width)
    return f"INSERT INTO metric ({columns}) VALUES ({markers})"  # noqa: S608


_INSERT_METRICS = {
    (style, width): _insert_statement(marker, width)
    for style, marker in (("qmark", "?"), ("other", "%s"))
    for width in (_BATCH_COLUMNS, len(_METRIC_COLUMNS))
}
_HISTORY_SQL = {
    style: f"SELECT value, is_nan, timestamp, step FROM metric WHERE run_id = {marker} AND key = {marker} "  # noqa: S608
    f"ORDER BY step, timestamp, id LIMIT {marker} OFFSET {marker}"
    for style, marker in (("qmark", "?"), ("other", "%s"))
}


def _insert_metric_rows(session: Session, rows: list[MetricRow]) -> None:
    """One driver-level executemany: the ORM's per-row bookkeeping would cost more than the insert."""
    connection = session.connection()
    style = "qmark" if connection.dialect.paramstyle == "qmark" else "other"
    statement = _INSERT_METRICS[style, len(rows[0]) if rows else _BATCH_COLUMNS]
    connection.exec_driver_sql(statement, rows)  # type: ignore[arg-type]


def _latest_upsert(dialect: Any) -> Any:
    """INSERT … ON CONFLICT DO UPDATE that only moves a key's latest value forward (both databases)."""
    table = LatestMetric.__table__
    statement = dialect.insert(table)
    newer = or_(
        statement.excluded.step > table.c.step,
        and_(statement.excluded.step == table.c.step, statement.excluded.timestamp >= table.c.timestamp),
    )
    return statement.on_conflict_do_update(
        index_elements=[table.c.run_id, table.c.key],
        set_={name: statement.excluded[name] for name in ("value", "is_nan", "timestamp", "step")},
        where=newer,
    )


_LATEST_UPSERT = {"sqlite": _latest_upsert(sqlite), "postgresql": _latest_upsert(postgresql)}


def log_metrics(session: Session, run_id: str, metrics: Sequence[MetricPoint] | MetricBatch) -> None:
    """Insert the points and move each key's latest value forward (one upsert, no read back)."""
    rows = _metric_rows(run_id, metrics)
    if not rows:
        return
    newest = _newest_rows(rows, metrics)
    _insert_metric_rows(session, rows)
    connection = session.connection()
    connection.execute(
        _LATEST_UPSERT[connection.dialect.name],
        [
            {"run_id": run_id, "key": key, "value": value, "is_nan": is_nan, "timestamp": ts, "step": step}
            for _, key, value, is_nan, ts, step, *_rest in newest
        ],
    )


def read_history(
    session: Session, run_id: str, key: str, *, limit: int, offset: int
) -> list[tuple[float, bool, int, int]]:
    """(value, is_nan, timestamp, step) points of one metric, by step then timestamp."""
    connection = session.connection()
    statement = _HISTORY_SQL["qmark" if connection.dialect.paramstyle == "qmark" else "other"]
    rows = connection.exec_driver_sql(statement, (run_id, key, limit, offset)).fetchall()
    return [(value, bool(is_nan), timestamp, step) for value, is_nan, timestamp, step in rows]
