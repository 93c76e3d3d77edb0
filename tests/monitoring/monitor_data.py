"""Prediction logs with a drift injected half way and delayed labels, and references stored as run artifacts.

The model is a fixed rule (predict 1 when ``x1 > 0``) so the expected numbers are easy to recompute. From
window ``drift_from`` on, ``x1`` is shifted by +1.5, category ``c`` tilts towards "c", and the labels follow
``x1 - 1.5`` instead (a concept change), so accuracy drops too.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from shipyard.core import files
from shipyard.core.auth import LOCAL_ADMIN
from shipyard.core.platform import Platform
from shipyard.serving.predlog import LogEntry, PredictionLog
from shipyard.tracking import runs

__all__ = ["START", "LogSpec", "reference_frame", "upload_reference", "write_log"]

START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def reference_frame(rows: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=rows)
    return pd.DataFrame(
        {
            "x1": x1,
            "x2": rng.normal(size=rows),
            "c": rng.choice(["a", "b", "c"], rows, p=[0.5, 0.3, 0.2]),
            "y": (x1 + rng.normal(scale=0.5, size=rows) > 0).astype(np.int64),
        }
    )


def upload_reference(platform: Platform, frame: pd.DataFrame, path: str = "data/train.parquet") -> str:
    """Store ``frame`` as a run's artifact; returns its ``runs:/`` URI."""
    buffer = io.BytesIO()
    if path.endswith(".csv"):
        buffer.write(frame.to_csv(index=False).encode())
    else:
        frame.to_parquet(buffer, index=False)
    blob = platform.artifacts.put_bytes(buffer.getvalue())
    with platform.database.session(write=True) as session:
        run_id = runs.create_run(session, actor=LOCAL_ADMIN, run_name="training").id
        files.register_file(
            session, actor=LOCAL_ADMIN, owner_type="run", owner_id=run_id, path=path, blob=blob
        )
    return f"runs:/{run_id}/{path}"


@dataclass
class LogSpec:
    endpoint: str = "churn"
    windows: int = 8
    window_seconds: int = 60
    rows_per_second: int = 20
    drift_from: int = 4
    labelled_share: float = 0.5
    seed: int = 1
    drift_until: int | None = None  # windows in [drift_from, drift_until) drift
    versions: tuple[str, ...] = ("1",)  # served in turn, one per second

    def drifted(self, window: int) -> bool:
        return window >= self.drift_from and (self.drift_until is None or window < self.drift_until)


@dataclass
class Logged:
    """What was written: per row, the window, features, prediction, probability and (maybe) label."""

    window: np.ndarray
    prediction: np.ndarray
    proba_1: np.ndarray
    truth: np.ndarray
    labelled: np.ndarray
    latency_ms: np.ndarray
    second: np.ndarray


def write_log(log: PredictionLog, spec: LogSpec) -> Logged:
    rng = np.random.default_rng(spec.seed)
    seconds = spec.windows * spec.window_seconds
    n = spec.rows_per_second
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("window", "pred", "p1", "truth", "lab", "lat", "sec")
    }
    futures = []
    feedback_ids: list[str] = []
    feedback_rows: list[int] = []
    feedback_values: list[int] = []
    for second in range(seconds):
        window = second // spec.window_seconds
        drifted = spec.drifted(window)
        shift = 1.5 if drifted else 0.0
        x1 = rng.normal(loc=shift, size=n)
        x2 = rng.normal(size=n)
        c = rng.choice(["a", "b", "c"], n, p=[0.2, 0.2, 0.6] if drifted else [0.5, 0.3, 0.2])
        truth = (x1 - shift + rng.normal(scale=0.5, size=n) > 0).astype(np.int64)
        prediction = (x1 > 0).astype(np.int64)
        p1 = 1.0 / (1.0 + np.exp(-3.0 * x1))
        latency = rng.gamma(2.0, 2.0, size=n)
        request_id = f"r{second}"
        received = (START + timedelta(seconds=second)).timestamp()
        futures.append(
            log.submit(
                LogEntry(
                    endpoint=spec.endpoint,
                    model_name="churn",
                    model_version=spec.versions[second % len(spec.versions)],
                    request_ids=[request_id] * n,
                    rows=np.arange(n),
                    protocol="native",
                    received_at=np.full(n, received),
                    latency_ms=latency,
                    inputs={"x1": x1, "x2": x2, "c": c},
                    outputs={"prediction": prediction, "proba_0": 1.0 - p1, "proba_1": p1},
                )
            )
        )
        labelled = rng.random(n) < spec.labelled_share
        for row in np.flatnonzero(labelled):
            feedback_ids.append(request_id)
            feedback_rows.append(int(row))
            feedback_values.append(int(truth[row]))
        for key, values in zip(
            ("window", "pred", "p1", "truth", "lab", "lat", "sec"),
            (np.full(n, window), prediction, p1, truth, labelled, latency, np.full(n, second)),
            strict=True,
        ):
            parts[key].append(values)
    for future in futures:
        future.result(timeout=60)
    # Labels arrive later than the predictions they belong to (delayed feedback).
    if feedback_ids:
        log.add_feedback(
            spec.endpoint,
            feedback_ids,
            feedback_values,
            rows=feedback_rows,
            at=START + timedelta(seconds=seconds + 3600),
        )
    joined = {k: np.concatenate(v) for k, v in parts.items()}
    return Logged(
        joined["window"],
        joined["pred"],
        joined["p1"],
        joined["truth"],
        joined["lab"].astype(bool),
        joined["lat"],
        joined["sec"],
    )


def open_log(root: Path) -> PredictionLog:
    log = PredictionLog(root, fsync=False, maintenance_seconds=None)
    log.start()
    return log
