"""Run Evidently 0.7.x's ``Report([DataDriftPreset()])`` and read back per-column method, score, decision."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import pandas as pd

from shipyard.monitoring.stattests import STATTESTS

__all__ = ["EvidentlyColumn", "EvidentlyResult", "run_evidently"]

BY_DISPLAY_NAME = {test.display_name: name for name, test in STATTESTS.items()}


@dataclass(frozen=True)
class EvidentlyColumn:
    stattest: str
    score: float
    threshold: float
    drifted: bool


@dataclass(frozen=True)
class EvidentlyResult:
    columns: dict[str, EvidentlyColumn]
    drifted_count: int
    share: float


def run_evidently(reference: pd.DataFrame, current: pd.DataFrame, **preset: Any) -> EvidentlyResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Evidently and SciPy warn about their own deprecations
        from evidently import Report
        from evidently.presets import DataDriftPreset

        snapshot = Report([DataDriftPreset(**preset)], include_tests=True).run(current, reference).dict()
    status = {
        t["metric_config"]["params"]["column"]: t["status"] == "FAIL"
        for t in snapshot["tests"]
        if t["metric_config"]["params"]["type"].endswith("ValueDrift")
    }
    columns = {}
    for metric in snapshot["metrics"]:
        config = metric["config"]
        if config["type"].endswith("ValueDrift"):
            columns[config["column"]] = EvidentlyColumn(
                BY_DISPLAY_NAME.get(config["method"], config["method"]),
                float(metric["value"]),
                float(config["threshold"]),
                status[config["column"]],
            )
        elif config["type"].endswith("DriftedColumnsCount"):
            count, share = int(metric["value"]["count"]), float(metric["value"]["share"])
    return EvidentlyResult(columns, count, share)
