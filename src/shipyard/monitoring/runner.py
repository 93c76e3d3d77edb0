"""Running a monitor: cut the prediction log into windows, score each, store it, advance the alerts.

Windows follow the monitor's cursor (the end of the last scored window), so every logged row is scored
once and a run after downtime catches up on the windows it missed (``max_windows`` per run):

* **time** windows are ``window_size`` seconds long and aligned to multiples of it since the epoch
  (hourly windows start on the hour); a window is scored once its end has passed. The first starts at
  the window holding the endpoint's first logged row.
* **count** windows hold ``window_size`` rows in arrival order; rows logged with the same timestamp (one
  model call) stay in one window, so a window may hold a few more.

Labels arrive after the predictions. A window's performance counts the labels present when it is scored,
so a monitor watching performance sets ``label_delay_seconds`` to how long labels take: its windows are
then scored that long after they end (drift too; a second monitor without the delay reports drift at once).

The log is read once per run (``PredictionLog.labelled``: predictions joined to the latest feedback) and
sliced by time with a binary search. Reading and scoring happen outside any database transaction; each
window's result, its drift type, its alert transitions and the new cursor then commit together.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import select

from shipyard.core.auth import Principal, Role
from shipyard.core.database import utcnow
from shipyard.core.errors import InvalidParameterError
from shipyard.monitoring import alerts
from shipyard.monitoring.drift import ColumnDrift, DriftReport
from shipyard.monitoring.drift_types import classify_windows
from shipyard.monitoring.monitors import get_monitor, load_profile
from shipyard.monitoring.tables import Monitor, MonitorResult
from shipyard.monitoring.windows import WindowScore, score_window

if TYPE_CHECKING:
    import pyarrow as pa

    from shipyard.core.platform import Platform
    from shipyard.serving.predlog import PredictionLog

__all__ = [
    "DRIFT_TYPE_WINDOWS",
    "SCHEDULER_ACTOR",
    "RunOutcome",
    "list_results",
    "run_monitor",
    "run_monitor_now",
]

logger = logging.getLogger(__name__)

SCHEDULER_ACTOR = Principal(name="monitor-scheduler", role=Role.ADMIN)
DRIFT_TYPE_WINDOWS = 30  # the drift type looks at this many latest windows
ONE_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class RunOutcome:
    """What one run stored: the ids of the new results and of the alert events they caused."""

    monitor_id: str
    result_ids: list[int]
    event_ids: list[int]
    cursor_at: datetime | None


@dataclass(frozen=True)
class _Settings:
    id: str
    endpoint: str
    model_version: str | None
    window_kind: str
    window_size: int
    label_delay: timedelta
    cursor_at: datetime | None
    profile_digest: str
    score_options: dict[str, Any]


def _settings(monitor: Monitor) -> _Settings:
    return _Settings(
        id=monitor.id,
        endpoint=monitor.endpoint,
        model_version=monitor.model_version,
        window_kind=monitor.window_kind,
        window_size=monitor.window_size,
        label_delay=timedelta(seconds=monitor.label_delay_seconds),
        cursor_at=monitor.cursor_at,
        profile_digest=monitor.reference_profile_digest,
        score_options={
            "features": monitor.features,
            "stattest": monitor.stattest,
            "stattests": monitor.stattests,
            "threshold": monitor.threshold,
            "thresholds": monitor.thresholds,
            "drift_share": monitor.drift_share,
            "target_column": monitor.target_column,
            "prediction_column": monitor.prediction_column,
            "task": monitor.task,
            "positive_class": monitor.positive_class,
        },
    )


def _micros(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _moment(micros: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(micros))


def _times(table: pa.Table) -> np.ndarray:
    return table.column("received_at").to_numpy().astype("datetime64[us]").astype(np.int64)


def _only_version(table: pa.Table, version: str | None) -> pa.Table:
    if version is None or table.num_rows == 0:
        return table
    import pyarrow.compute as pc

    return table.filter(pc.equal(table.column("model_version"), version))


def _time_windows(
    settings: _Settings, predlog: PredictionLog, now: datetime, max_windows: int
) -> list[tuple[datetime, datetime, pa.Table]]:
    size_us = settings.window_size * 1_000_000
    if settings.cursor_at is not None:
        start_us = _micros(settings.cursor_at)
    else:
        first = _only_version(
            predlog.scan(settings.endpoint, columns=["received_at", "model_version"]), settings.model_version
        )
        if first.num_rows == 0:
            return []
        start_us = (int(_times(first)[0]) // size_us) * size_us
    count = min(max_windows, max(0, (_micros(now - settings.label_delay) - start_us) // size_us))
    if count == 0:
        return []
    end_us = start_us + count * size_us
    table = _only_version(
        predlog.labelled(settings.endpoint, since=_moment(start_us), until=_moment(end_us)),
        settings.model_version,
    )
    times = _times(table)
    edges = start_us + size_us * np.arange(count + 1, dtype=np.int64)
    cuts = np.searchsorted(times, edges, side="left")
    return [
        (_moment(edges[i]), _moment(edges[i + 1]), table.slice(int(cuts[i]), int(cuts[i + 1] - cuts[i])))
        for i in range(count)
    ]


def _count_windows(
    settings: _Settings, predlog: PredictionLog, now: datetime, max_windows: int
) -> list[tuple[datetime, datetime, pa.Table]]:
    since = settings.cursor_at
    until = now - settings.label_delay
    table = _only_version(
        predlog.labelled(settings.endpoint, since=since, until=until), settings.model_version
    )
    times = _times(table)
    windows = []
    start = 0
    while len(windows) < max_windows and times.size - start >= settings.window_size:
        last = start + settings.window_size - 1
        # Rows of one model call share a timestamp: keep them together.
        stop = int(np.searchsorted(times, times[last], side="right"))
        window_start = _moment(times[start]) if since is None else since
        windows.append(
            (window_start, _moment(times[stop - 1]) + ONE_MICROSECOND, table.slice(start, stop - start))
        )
        since = _moment(times[stop - 1]) + ONE_MICROSECOND
        start = stop
    return windows


def _finite(value: Any) -> Any:
    """JSON-safe numbers: NaN and ±inf (which PostgreSQL's JSONB refuses) become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _result_row(monitor_id: str, start: datetime, end: datetime, score: WindowScore) -> MonitorResult:
    drift = score.drift
    return MonitorResult(
        monitor_id=monitor_id,
        window_start=start,
        window_end=end,
        rows=score.rows,
        model_versions=list(score.model_versions),
        dataset_drift=None if drift is None else drift.dataset_drift,
        drift_share=None if drift is None else drift.drift_share,
        drifted_columns=None if drift is None else drift.drifted_columns,
        columns=[] if drift is None else _finite([c.to_dict() for c in drift.columns]),
        skipped=[] if drift is None else [{"column": s.column, "reason": s.reason} for s in drift.skipped],
        prediction_drift=None
        if score.prediction_drift is None
        else _finite(score.prediction_drift.to_dict()),
        drift_types={},
        task=score.task,
        performance={k: v for k, v in _finite(score.performance).items() if v is not None},
        performance_by_version={
            version: {k: v for k, v in _finite(values).items() if v is not None}
            for version, values in score.by_version.items()
        },
        labelled_rows=score.labelled_rows,
        label_coverage=score.label_coverage,
        latency_p50_ms=score.latency_p50_ms,
        latency_p99_ms=score.latency_p99_ms,
        throughput_rps=score.throughput_rps,
        error=score.error,
        created_at=utcnow(),
    )


def _as_report(columns: Sequence[dict[str, Any]]) -> DriftReport:
    return DriftReport(
        tuple(
            ColumnDrift(c["column"], c["type"], c["stattest"], c["threshold"], c["score"], c["drifted"], 0, 0)
            for c in columns
        )
    )


def _drift_types(session: Any, monitor_id: str, current: MonitorResult) -> tuple[str | None, dict[str, str]]:
    """Classify the latest windows (this one included) with :mod:`shipyard.monitoring.drift_types`."""
    if not current.columns:
        return None, {}
    earlier = session.scalars(
        select(MonitorResult.columns)
        .where(
            MonitorResult.monitor_id == monitor_id,
            MonitorResult.dataset_drift.is_not(None),
            MonitorResult.id != current.id,
        )
        .order_by(MonitorResult.window_end.desc())
        .limit(DRIFT_TYPE_WINDOWS - 1)
    ).all()
    series = [*reversed(earlier), current.columns]
    if len(series) < 3:
        return None, {}
    try:
        types = classify_windows([_as_report(columns) for columns in series])
    except (InvalidParameterError, KeyError) as exc:
        logger.info("drift type of monitor %s skipped: %s", monitor_id, exc)
        return None, {}
    return types.overall, {c.column: c.drift_type for c in types.columns}


def run_monitor(
    platform: Platform,
    predlog: PredictionLog,
    monitor_id: str,
    *,
    actor: Principal = SCHEDULER_ACTOR,
    now: datetime | None = None,
    max_windows: int = 100,
) -> RunOutcome:
    """Score every complete window of ``monitor_id`` not scored yet (at most ``max_windows``).

    ``now`` (default: the clock) decides which time windows are complete; tests pass a fixed one.
    """
    now = now or utcnow()
    if now.tzinfo is None:
        raise InvalidParameterError("now must include a time zone", field="now")
    result_ids: list[int] = []
    event_ids: list[int] = []
    cursor: datetime | None = None
    # Another runner (the scheduler, a "run now") may move the cursor while this one scores; start
    # again from where it got to, so a manual run still scores everything due. Each retry follows a
    # window the other runner scored, so the loop is bounded by the windows due.
    for _attempt in range(max_windows + 1):
        with platform.database.session() as session:
            settings = _settings(get_monitor(session, monitor_id))
        cursor, finished = _score_windows(
            platform, predlog, settings, actor, now, max_windows - len(result_ids), result_ids, event_ids
        )
        if finished:
            break
    with platform.database.session(write=True) as session:
        monitor = session.get(Monitor, monitor_id)
        if monitor is not None:
            monitor.last_run_at = utcnow()
            monitor.last_error = None
            monitor.next_run_at = utcnow() + timedelta(seconds=monitor.schedule_seconds)
    logger.info("monitor %s: %d windows scored", monitor_id, len(result_ids))
    return RunOutcome(monitor_id, result_ids, event_ids, cursor)


def _score_windows(
    platform: Platform,
    predlog: PredictionLog,
    settings: _Settings,
    actor: Principal,
    now: datetime,
    max_windows: int,
    result_ids: list[int],
    event_ids: list[int],
) -> tuple[datetime | None, bool]:
    """Score the complete windows after ``settings.cursor_at``; False when another runner moved the cursor."""
    profile = load_profile(platform.artifacts, settings.profile_digest)
    cut = _time_windows if settings.window_kind == "time" else _count_windows
    cursor = settings.cursor_at
    for start, end, table in cut(settings, predlog, now, max_windows):
        score = score_window(
            table,
            profile,
            window_seconds=settings.window_size if settings.window_kind == "time" else None,
            **settings.score_options,
        )
        with platform.database.session(write=True) as session:
            monitor = session.get(Monitor, settings.id, with_for_update=True)
            if monitor is None:
                return cursor, True
            if monitor.cursor_at != cursor:
                logger.info("monitor %s: another run moved the cursor; continuing from it", settings.id)
                return cursor, False
            row = _result_row(settings.id, start, end, score)
            session.add(row)
            session.flush()
            row.drift_type, row.drift_types = _drift_types(session, settings.id, row)
            events = alerts.evaluate_rules(session, actor=actor, monitor=monitor, result=row)
            monitor.cursor_at = cursor = end
            session.flush()
            result_ids.append(row.id)
            event_ids.extend(event.id for event in events)
    return cursor, True


def list_results(
    session: Any,
    monitor_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[MonitorResult]:
    """Results whose window ends in ``[since, until)``, newest first; ``before_id`` pages back."""
    get_monitor(session, monitor_id)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise InvalidParameterError(f"limit must be in [1, 1000]; got {limit!r}", field="limit")
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidParameterError(
                f"{name} must include a time zone, e.g. 2026-01-31T00:00:00Z", field=name
            )
    query = select(MonitorResult).where(MonitorResult.monitor_id == monitor_id)
    if since is not None:
        query = query.where(MonitorResult.window_end >= since)
    if until is not None:
        query = query.where(MonitorResult.window_end < until)
    if before_id is not None:
        query = query.where(MonitorResult.id < before_id)
    return list(session.scalars(query.order_by(MonitorResult.id.desc()).limit(limit)))


def run_monitor_now(
    platform: Platform,
    monitor_id: str,
    *,
    predlog: PredictionLog | None = None,
    actor: Principal = SCHEDULER_ACTOR,
    now: datetime | None = None,
    max_windows: int = 100,
) -> RunOutcome:
    """``run_monitor`` on ``predlog``, by default a reader of the settings' prediction log folder.

    For tests, the CLI and scripts: the reader scans the folder's files, safe while a server writes them.
    """
    if predlog is None:
        from shipyard.monitoring.views import prediction_log_reader

        predlog = prediction_log_reader(platform)
    return run_monitor(platform, predlog, monitor_id, actor=actor, now=now, max_windows=max_windows)
