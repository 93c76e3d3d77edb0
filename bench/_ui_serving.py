"""Seeding for bench/ui.py's endpoint and monitoring pages: 50 endpoints, one monitor each with its
windows and alerts (500 windows on the first), and a prediction log of 200,000 rows on the first."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import insert

from shipyard.core.database import utcnow
from shipyard.core.platform import Platform
from shipyard.monitoring.profile import ReferenceProfile
from shipyard.monitoring.tables import AlertEvent, AlertRule, Monitor, MonitorResult
from shipyard.serving.predlog import LogEntry, PredictionLog
from shipyard.serving.tables import ServingEndpoint

__all__ = ["seed_serving"]

ENDPOINTS = 50
COLUMNS = [f"f{i}" for i in range(10)]
WINDOWS_FIRST, WINDOWS_OTHERS = 500, 100
LOGGED_ROWS, BATCH_ROWS = 200_000, 2_000
WINDOW_SECONDS = 60


def _columns(rng: np.random.Generator, drifting: bool) -> list[dict[str, object]]:
    scores = rng.uniform(0.0, 0.02 if drifting else 1.0, len(COLUMNS))
    return [
        {
            "column": name,
            "type": "numerical",
            "stattest": "ks",
            "threshold": 0.05,
            "score": float(score),
            "drifted": bool(score < 0.05),
        }
        for name, score in zip(COLUMNS, scores, strict=True)
    ]


def seed_serving(platform: Platform) -> dict[str, str]:
    rng = np.random.default_rng(11)
    frame = pd.DataFrame({name: rng.normal(size=5000) for name in COLUMNS})
    profile = ReferenceProfile.from_frame(frame)
    digest = platform.artifacts.put_bytes(profile.to_bytes()).digest
    now = utcnow()
    start = now - timedelta(seconds=WINDOW_SECONDS * WINDOWS_FIRST)
    monitor_ids = [uuid.uuid4().hex for _ in range(ENDPOINTS)]
    with platform.database.session(write=True) as s:
        s.execute(
            insert(ServingEndpoint),
            [
                {
                    "name": f"endpoint-{i}",
                    "model_uri": f"models:/model-{i % 20}@champion",
                    "description": "",
                    "log_predictions": True,
                    "sample_rate": 1.0,
                    "redact": [],
                    "max_batch_rows": 64,
                    "max_delay_ms": 10.0,
                    "created_by": "bench",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(ENDPOINTS)
            ],
        )
        s.execute(
            insert(Monitor),
            [
                {
                    "id": monitor_id,
                    "endpoint": f"endpoint-{i}",
                    "name": "drift",
                    "description": "",
                    "stattests": {},
                    "thresholds": {},
                    "drift_share": 0.5,
                    "window_kind": "time",
                    "window_size": WINDOW_SECONDS,
                    "schedule_seconds": 3600,
                    "label_delay_seconds": 0,
                    "reference_uri": "runs:/0/data/train.parquet",
                    "reference_data_digest": digest,
                    "reference_profile_digest": digest,
                    "reference_columns": COLUMNS,
                    "enabled": True,
                    "next_run_at": now + timedelta(hours=1),
                    "created_by": "bench",
                    "created_at": now,
                    "updated_at": now,
                }
                for i, monitor_id in enumerate(monitor_ids)
            ],
        )
        results = []
        for i, monitor_id in enumerate(monitor_ids):
            count = WINDOWS_FIRST if i == 0 else WINDOWS_OTHERS
            for w in range(count):
                drifting = w >= count // 2
                columns = _columns(rng, drifting)
                drifted = sum(bool(c["drifted"]) for c in columns)
                results.append(
                    {
                        "monitor_id": monitor_id,
                        "window_start": start + timedelta(seconds=WINDOW_SECONDS * w),
                        "window_end": start + timedelta(seconds=WINDOW_SECONDS * (w + 1)),
                        "rows": 400,
                        "model_versions": ["1"],
                        "dataset_drift": drifted >= len(COLUMNS) / 2,
                        "drift_share": drifted / len(COLUMNS),
                        "drifted_columns": drifted,
                        "columns": columns,
                        "skipped": [],
                        "drift_type": "sudden" if drifting else None,
                        "drift_types": {c: "sudden" for c in COLUMNS} if drifting else {},
                        "task": "classification",
                        "performance": {
                            "accuracy": float(rng.uniform(0.7, 0.95)),
                            "f1": float(rng.uniform(0.6, 0.9)),
                        },
                        "performance_by_version": {},
                        "labelled_rows": 200,
                        "label_coverage": 0.5,
                        "created_at": now,
                    }
                )
        s.execute(insert(MonitorResult), results)
        s.execute(
            insert(AlertRule),
            [
                {
                    "monitor_id": monitor_id,
                    "name": name,
                    "metric": metric,
                    "comparison": ">=",
                    "threshold": 1.0,
                    "consecutive": 1,
                    "cooldown_seconds": 0,
                    "enabled": True,
                    "state": "firing" if i % 3 == 0 else "ok",
                    "breaches": 0,
                    "created_by": "bench",
                    "created_at": now,
                    "updated_at": now,
                }
                for i, monitor_id in enumerate(monitor_ids)
                for name, metric in (("drift", "dataset_drift"), ("share", "drift_share"))
            ],
        )
        first_rule = s.query(AlertRule.id).filter(AlertRule.monitor_id == monitor_ids[0]).first()
        assert first_rule is not None
        s.execute(
            insert(AlertEvent),
            [
                {
                    "rule_id": first_rule[0],
                    "monitor_id": monitor_ids[0],
                    "from_state": "ok" if e % 2 == 0 else "firing",
                    "to_state": "firing" if e % 2 == 0 else "resolved",
                    "metric": "dataset_drift",
                    "value": 1.0,
                    "threshold": 1.0,
                    "message": "dataset drift",
                    "window_end": start + timedelta(seconds=WINDOW_SECONDS * e),
                    "occurred_at": now,
                }
                for e in range(200)
            ],
        )
        last_window = (
            s.query(MonitorResult.id)
            .filter(MonitorResult.monitor_id == monitor_ids[0])
            .order_by(MonitorResult.id.desc())
            .first()
        )
        assert last_window is not None
    _write_log(Path(platform.settings.prediction_log_dir), start, rng)
    return {"endpoint": "endpoint-0", "monitor": monitor_ids[0], "window": str(last_window[0])}


def _write_log(root: Path, start: object, rng: np.random.Generator) -> None:
    """200,000 rows over the first monitor's 500 windows, in batches as a busy endpoint would log them."""
    first = start.timestamp()  # type: ignore[attr-defined]
    span = WINDOW_SECONDS * WINDOWS_FIRST
    with PredictionLog(root) as log:
        futures = []
        for batch in range(LOGGED_ROWS // BATCH_ROWS):
            at = first + span * (batch + 0.5) / (LOGGED_ROWS // BATCH_ROWS)
            received = at + np.sort(rng.uniform(0, span / (LOGGED_ROWS // BATCH_ROWS) * 0.9, BATCH_ROWS))
            futures.append(
                log.submit(
                    LogEntry(
                        endpoint="endpoint-0",
                        model_name="model-0",
                        model_version="1",
                        request_ids=[f"r{batch}-{i}" for i in range(BATCH_ROWS)],
                        rows=np.zeros(BATCH_ROWS, dtype=np.int64),
                        protocol="native",
                        received_at=received,
                        latency_ms=rng.uniform(1, 5, BATCH_ROWS),
                        inputs={name: rng.normal(size=BATCH_ROWS) for name in COLUMNS},
                        outputs={"prediction": rng.integers(0, 2, BATCH_ROWS)},
                    )
                )
            )
        for future in futures:
            future.result(timeout=120)
