"""Entries for the prediction-log tests, and a copy of a live log as a crash would leave it."""

from __future__ import annotations

import shutil
from itertools import count
from pathlib import Path

import numpy as np

from shipyard.serving.predlog import LogEntry

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
_ids = count()


def make_entry(
    *,
    endpoint: str = "churn",
    rows: int = 1,
    version: str = "1",
    at: float = T0,
    inputs: dict[str, np.ndarray] | None = None,
    outputs: dict[str, np.ndarray] | None = None,
    rows_per_request: int = 1,
) -> LogEntry:
    """An entry of ``rows`` rows, ``rows_per_request`` rows per request id, all received at ``at``."""
    request_ids = [f"req-{next(_ids)}" for _ in range(-(-rows // rows_per_request))]
    ids = [request_ids[i // rows_per_request] for i in range(rows)]
    g = np.random.default_rng(next(_ids))
    return LogEntry(
        endpoint=endpoint,
        model_name="model",
        model_version=version,
        request_ids=ids,
        rows=[i % rows_per_request for i in range(rows)],
        protocol="native",
        received_at=np.full(rows, at, dtype=np.float64),
        latency_ms=g.uniform(1, 5, rows),
        inputs=inputs if inputs is not None else {"x": g.normal(size=rows), "n": g.integers(0, 9, rows)},
        outputs=outputs if outputs is not None else {"prediction": g.integers(0, 2, rows)},
    )


def crash_copy(source: Path, target: Path) -> Path:
    """The files of a running log as a crash would leave them (the copy has no lock holder)."""
    shutil.copytree(source, target)
    return target
