"""Monitors on endpoints: create, read, update, delete, and their reference profiles.

A monitor's reference is a CSV or Parquet file among a run's artifacts on this server, named
``runs:/<run_id>/<path>`` (never a filesystem path). Its profile (sorted values and category counts,
see :mod:`shipyard.monitoring.profile`) is built once, stored in the content-addressed artifact store,
and shared by every monitor whose reference has the same bytes; windows are scored against it without
reading the training data again.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipyard.core import audit
from shipyard.core.auth import Principal, Role, require_role
from shipyard.core.database import utcnow
from shipyard.core.errors import ConflictError, InvalidParameterError, NotFoundError
from shipyard.core.paths import validate_artifact_path
from shipyard.core.validation import check_text
from shipyard.monitoring.profile import ReferenceProfile
from shipyard.monitoring.stattests import get_stattest
from shipyard.monitoring.tables import Monitor

if TYPE_CHECKING:
    from shipyard.core.artifacts import ArtifactStore

__all__ = [
    "MAX_COUNT_WINDOW",
    "MAX_SECONDS",
    "Reference",
    "build_reference",
    "create_monitor",
    "delete_monitor",
    "get_monitor",
    "list_monitors",
    "load_profile",
    "monitor_summary",
    "update_monitor",
]

logger = logging.getLogger(__name__)

MAX_SECONDS = 366 * 24 * 3600
MAX_COUNT_WINDOW = 10_000_000
WINDOW_KINDS = ("time", "count")
TASKS = ("classification", "regression")
_ENDPOINT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_RUN_URI = re.compile(r"^runs:/([0-9a-f]{32})/(.+)$")
PARQUET_MAGIC = b"PAR1"
# Settable by update; the reference is rebuilt when ``reference_uri`` changes.
UPDATABLE = (
    "description",
    "model_version",
    "features",
    "stattest",
    "stattests",
    "threshold",
    "thresholds",
    "drift_share",
    "window_kind",
    "window_size",
    "schedule_seconds",
    "label_delay_seconds",
    "reference_uri",
    "target_column",
    "prediction_column",
    "task",
    "positive_class",
    "enabled",
)


@dataclass(frozen=True)
class Reference:
    """A reference data set as stored: its data blob, its profile blob and its columns."""

    uri: str
    data_digest: str
    profile_digest: str
    columns: list[str]


def _read_frame(data: bytes, uri: str) -> Any:
    import pandas as pd

    from shipyard.monitoring.cli import check_mixed_text

    try:
        if data.startswith(PARQUET_MAGIC) or uri.lower().endswith((".parquet", ".pq")):
            frame = pd.read_parquet(io.BytesIO(data))
        else:
            frame = pd.read_csv(io.BytesIO(data), sep="\t" if uri.lower().endswith(".tsv") else ",")
            check_mixed_text(frame, uri)  # type: ignore[arg-type]
    except InvalidParameterError as exc:
        raise InvalidParameterError(exc.message, field="reference_uri") from None
    except (OSError, ValueError, TypeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidParameterError(
            f"reference_uri {uri} is not a readable CSV or Parquet file: {first}", field="reference_uri"
        ) from None
    if len(frame) == 0 or len(frame.columns) == 0:
        raise InvalidParameterError(f"reference_uri {uri} holds no rows or no columns", field="reference_uri")
    return frame


def build_reference(session: Session, store: ArtifactStore, uri: str) -> Reference:
    """Resolve ``runs:/<run_id>/<path>`` to a run's artifact and store its profile (once per content)."""
    from shipyard.core.files import get_file
    from shipyard.tracking.runs import get_run

    check_text(uri, field="reference_uri", max_length=1200)
    match = _RUN_URI.match(uri)
    if not match:
        raise InvalidParameterError(
            f"reference_uri must name a run's artifact on this server, runs:/<run_id>/<path> (a CSV or "
            f"Parquet training set); got {uri!r}. Local paths and other URIs are refused",
            field="reference_uri",
        )
    run_id, path = match.group(1), match.group(2).rstrip("/")
    validate_artifact_path(path, field="reference_uri")
    try:
        get_run(session, run_id)
        digest = get_file(session, owner_type="run", owner_id=run_id, path=path).digest
    except NotFoundError as exc:
        raise InvalidParameterError(f"reference_uri {uri}: {exc.message}", field="reference_uri") from None
    existing = session.execute(
        select(Monitor.reference_profile_digest, Monitor.reference_columns)
        .where(Monitor.reference_data_digest == digest)
        .limit(1)
    ).first()
    if existing is not None and store.exists(existing[0]):
        return Reference(uri, digest, existing[0], list(existing[1]))
    frame = _read_frame(store.read_bytes(digest), uri)
    profile = ReferenceProfile.from_frame(frame)
    info = store.put_bytes(profile.to_bytes())
    _PROFILES.put(info.digest, profile)
    logger.info("reference profile %s built from %s (%d rows)", info.digest[:12], uri, len(frame))
    return Reference(uri, digest, info.digest, [str(c) for c in frame.columns])


class _ProfileCache:
    """The last few reference profiles read, by digest (the bytes are immutable, so never stale)."""

    def __init__(self, size: int = 16) -> None:
        self._items: OrderedDict[str, ReferenceProfile] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, digest: str) -> ReferenceProfile | None:
        with self._lock:
            found = self._items.get(digest)
            if found is not None:
                self._items.move_to_end(digest)
            return found

    def put(self, digest: str, profile: ReferenceProfile) -> None:
        with self._lock:
            self._items[digest] = profile
            self._items.move_to_end(digest)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_PROFILES = _ProfileCache()


def load_profile(store: ArtifactStore, digest: str) -> ReferenceProfile:
    """The stored reference profile (verified against its digest on read), cached in memory."""
    found = _PROFILES.get(digest)
    if found is None:
        found = ReferenceProfile.from_bytes(store.read_bytes(digest))
        _PROFILES.put(digest, found)
    return found


def _check_number(value: Any, field: str, low: float, high: float, *, integer: bool = False) -> Any:
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        kind = "an integer" if integer else "a number"
        raise InvalidParameterError(
            f"{field} must be {kind} in [{low:g}, {high:g}]; got {value!r}", field=field
        )
    return value


def _check_names(value: Any, field: str, allowed: list[str]) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise InvalidParameterError(f"{field} must be a non-empty list of column names", field=field)
    unknown = [v for v in value if v not in allowed]
    if unknown:
        raise InvalidParameterError(
            f"{field} names columns the reference data lacks: {', '.join(map(repr, unknown))} "
            f"(it has {', '.join(allowed)})",
            field=field,
        )
    return list(dict.fromkeys(value))


def _check_settings(values: dict[str, Any]) -> None:
    """Check every setting of a monitor (on create or update) that needs no reference: done before a
    reference is read and profiled, so bad input costs nothing. ``_check_column_names`` does the rest."""
    kind = values["window_kind"]
    if kind not in WINDOW_KINDS:
        raise InvalidParameterError(f"window_kind must be time or count; got {kind!r}", field="window_kind")
    high = MAX_SECONDS if kind == "time" else MAX_COUNT_WINDOW
    _check_number(values["window_size"], "window_size", 1, high, integer=True)
    _check_number(values["schedule_seconds"], "schedule_seconds", 1, MAX_SECONDS, integer=True)
    _check_number(values["label_delay_seconds"], "label_delay_seconds", 0, MAX_SECONDS, integer=True)
    _check_number(values["drift_share"], "drift_share", 1e-9, 1.0)
    if values.get("stattest") is not None:
        get_stattest(values["stattest"])
    for test in (values.get("stattests") or {}).values():
        get_stattest(test)
    if values.get("threshold") is not None:
        _check_number(values["threshold"], "threshold", 0, 1e12)
    for column, limit in (values.get("thresholds") or {}).items():
        _check_number(limit, f"thresholds.{column}", 0, 1e12)
    if values.get("task") is not None and values["task"] not in TASKS:
        raise InvalidParameterError(
            f"task must be classification or regression; got {values['task']!r}", field="task"
        )
    for name in ("description", "model_version", "positive_class"):
        if values.get(name) is not None:
            check_text(values[name], field=name, max_length=4000 if name == "description" else 256)


def _check_column_names(values: dict[str, Any], columns: list[str]) -> None:
    """Check the settings that name columns against the reference's columns."""
    if values.get("features") is not None:
        values["features"] = _check_names(values["features"], "features", columns)
    for name in ("target_column", "prediction_column"):
        if values.get(name) is not None:
            _check_names([values[name]], name, columns)
    for name in ("stattests", "thresholds"):
        for column in values.get(name) or {}:
            _check_names([column], name, columns)


def create_monitor(
    session: Session,
    *,
    actor: Principal,
    store: ArtifactStore,
    endpoint: str,
    name: str,
    reference_uri: str,
    window_kind: str = "time",
    window_size: int = 3600,
    schedule_seconds: int | None = None,
    **settings: Any,
) -> Monitor:
    """Create a monitor of ``endpoint`` (the reference profile is built here if not stored yet)."""
    require_role(actor, Role.EDITOR)
    if not isinstance(endpoint, str) or not _ENDPOINT.fullmatch(endpoint) or ".." in endpoint:
        raise InvalidParameterError(
            f"endpoint must be an endpoint name (letters, digits, '.', '_', '-'); got {endpoint!r}",
            field="endpoint",
        )
    check_text(name, field="name", max_length=200, allow_empty=False)
    unknown = sorted(set(settings) - set(UPDATABLE))
    if unknown:
        raise InvalidParameterError(f"unknown monitor settings: {', '.join(unknown)}", field=unknown[0])
    if session.scalar(select(Monitor.id).where(Monitor.endpoint == endpoint, Monitor.name == name)):
        raise ConflictError(f"endpoint {endpoint!r} already has a monitor named {name!r}", field="name")
    values: dict[str, Any] = {
        "description": "",
        "stattests": {},
        "thresholds": {},
        "drift_share": 0.5,
        "label_delay_seconds": 0,
        "enabled": True,
        **{k: v for k, v in settings.items() if v is not None},
        "window_kind": window_kind,
        "window_size": window_size,
        "schedule_seconds": schedule_seconds or (window_size if window_kind == "time" else 300),
    }
    _check_settings(values)
    reference = build_reference(session, store, reference_uri)
    _check_column_names(values, reference.columns)
    now = utcnow()
    monitor = Monitor(
        id=uuid.uuid4().hex,
        endpoint=endpoint,
        name=name,
        reference_uri=reference.uri,
        reference_data_digest=reference.data_digest,
        reference_profile_digest=reference.profile_digest,
        reference_columns=reference.columns,
        next_run_at=now,
        created_by=actor.name,
        created_at=now,
        updated_at=now,
        **values,
    )
    session.add(monitor)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="monitor.create",
        object_type="monitor",
        object_id=monitor.id,
        after=monitor_summary(monitor),
    )
    logger.info("monitor %s created on endpoint %s", monitor.id, endpoint)
    return monitor


def monitor_summary(monitor: Monitor) -> dict[str, Any]:
    return {
        "endpoint": monitor.endpoint,
        "name": monitor.name,
        "reference_uri": monitor.reference_uri,
        "window": f"{monitor.window_kind}:{monitor.window_size}",
        "schedule_seconds": monitor.schedule_seconds,
        "label_delay_seconds": monitor.label_delay_seconds,
        "features": monitor.features,
        "model_version": monitor.model_version,
        "enabled": monitor.enabled,
    }


def get_monitor(session: Session, monitor_id: str) -> Monitor:
    monitor = (
        session.get(Monitor, monitor_id) if isinstance(monitor_id, str) and len(monitor_id) <= 32 else None
    )
    if monitor is None:
        raise NotFoundError(f"monitor {monitor_id!r} does not exist", field="monitor_id")
    return monitor


def list_monitors(session: Session, *, endpoint: str | None = None) -> list[Monitor]:
    query = select(Monitor).order_by(Monitor.endpoint, Monitor.name)
    if endpoint is not None:
        query = query.where(Monitor.endpoint == endpoint)
    return list(session.scalars(query))


def update_monitor(
    session: Session, *, actor: Principal, store: ArtifactStore, monitor_id: str, changes: dict[str, Any]
) -> Monitor:
    """Change settings; ``None`` clears an optional one. A new window or reference restarts the series."""
    require_role(actor, Role.EDITOR)
    monitor = get_monitor(session, monitor_id)
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise InvalidParameterError(f"unknown monitor settings: {', '.join(unknown)}", field=unknown[0])
    before = monitor_summary(monitor)
    values = {name: getattr(monitor, name) for name in UPDATABLE}
    values.update(changes)
    for required in (
        "window_kind",
        "window_size",
        "schedule_seconds",
        "label_delay_seconds",
        "drift_share",
        "enabled",
        "reference_uri",
    ):
        if values[required] is None:
            raise InvalidParameterError(f"{required} cannot be cleared", field=required)
    for default_empty in ("stattests", "thresholds"):
        values[default_empty] = values[default_empty] or {}
    values["description"] = values["description"] or ""
    _check_settings(values)
    reference = (
        build_reference(session, store, values["reference_uri"])
        if values["reference_uri"] != monitor.reference_uri
        else Reference(
            monitor.reference_uri,
            monitor.reference_data_digest,
            monitor.reference_profile_digest,
            list(monitor.reference_columns),
        )
    )
    _check_column_names(values, reference.columns)
    if (values["window_kind"], values["window_size"], reference.data_digest) != (
        monitor.window_kind,
        monitor.window_size,
        monitor.reference_data_digest,
    ):
        monitor.cursor_at = None  # windows of another shape do not continue the old series
    for name, value in values.items():
        if name != "reference_uri":
            setattr(monitor, name, value)
    monitor.reference_uri = reference.uri
    monitor.reference_data_digest = reference.data_digest
    monitor.reference_profile_digest = reference.profile_digest
    monitor.reference_columns = reference.columns
    if "schedule_seconds" in changes or "enabled" in changes:
        monitor.next_run_at = utcnow()
    monitor.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="monitor.update",
        object_type="monitor",
        object_id=monitor.id,
        before=before,
        after=monitor_summary(monitor),
    )
    return monitor


def delete_monitor(session: Session, *, actor: Principal, monitor_id: str) -> None:
    """Delete a monitor with its results, alert rules and alert events."""
    require_role(actor, Role.EDITOR)
    from sqlalchemy import delete

    from shipyard.monitoring.tables import AlertEvent, AlertRule, MonitorResult

    monitor = get_monitor(session, monitor_id)
    before = monitor_summary(monitor)
    # Explicit deletes: SQLite enforces ON DELETE CASCADE only with foreign keys on, and events have no FK.
    session.execute(delete(AlertEvent).where(AlertEvent.monitor_id == monitor_id))
    session.execute(delete(AlertRule).where(AlertRule.monitor_id == monitor_id))
    session.execute(delete(MonitorResult).where(MonitorResult.monitor_id == monitor_id))
    session.delete(monitor)
    audit.record(
        session,
        actor=actor,
        action="monitor.delete",
        object_type="monitor",
        object_id=monitor_id,
        before=before,
    )
