"""Monitors scoring a real prediction log: drift only after the injection, sklearn-equal performance."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics

from shipyard.core.auth import LOCAL_ADMIN
from shipyard.core.errors import InvalidParameterError
from shipyard.core.platform import Platform
from shipyard.monitoring import monitors, runner
from shipyard.serving.predlog import PredictionLog
from tests.monitoring.monitor_data import (
    START,
    Logged,
    LogSpec,
    open_log,
    reference_frame,
    upload_reference,
    write_log,
)

SPEC = LogSpec()
END = START + timedelta(seconds=SPEC.windows * SPEC.window_seconds)


@pytest.fixture
def logged(tmp_path: Path) -> Iterator[tuple[PredictionLog, Logged]]:
    log = open_log(tmp_path / "predictions")
    try:
        yield log, write_log(log, SPEC)
    finally:
        log.close()


def create(platform: Platform, **settings: object) -> str:
    uri = upload_reference(platform, reference_frame())
    values = {"window_kind": "time", "window_size": SPEC.window_seconds, "target_column": "y", **settings}
    with platform.database.session(write=True) as session:
        return monitors.create_monitor(
            session,
            actor=LOCAL_ADMIN,
            store=platform.artifacts,
            endpoint="churn",
            name="drift",
            reference_uri=uri,
            **values,
        ).id


def results(platform: Platform, monitor_id: str) -> list[runner.MonitorResult]:
    with platform.database.session() as session:
        return list(reversed(runner.list_results(session, monitor_id, limit=1000)))


def test_drift_appears_only_after_the_injection(
    platform: Platform, logged: tuple[PredictionLog, Logged]
) -> None:
    log, _ = logged
    monitor_id = create(platform)
    outcome = runner.run_monitor(platform, log, monitor_id, now=END + timedelta(seconds=1))
    assert len(outcome.result_ids) == SPEC.windows
    rows = results(platform, monitor_id)
    assert [r.window_start for r in rows] == [START + timedelta(seconds=60 * i) for i in range(SPEC.windows)]
    assert all(r.rows == SPEC.window_seconds * SPEC.rows_per_second for r in rows)
    drifted = [bool(r.dataset_drift) for r in rows]
    assert drifted == [i >= SPEC.drift_from for i in range(SPEC.windows)]
    by_column = {c["column"]: c for c in rows[-1].columns}
    assert by_column["x1"]["drifted"] and by_column["c"]["drifted"] and not by_column["x2"]["drifted"]
    assert by_column["x1"]["stattest"] == "wasserstein"  # > 1000 reference rows, as Evidently chooses
    assert rows[0].prediction_drift is not None and not rows[0].prediction_drift["drifted"]
    assert rows[-1].prediction_drift["drifted"]
    assert rows[-1].drift_type == "sudden"
    # A second run finds nothing new; the cursor sits at the last window's end.
    again = runner.run_monitor(platform, log, monitor_id, now=END + timedelta(seconds=1))
    assert again.result_ids == [] and again.cursor_at == END


def test_performance_equals_sklearn_on_the_labelled_rows(
    platform: Platform, logged: tuple[PredictionLog, Logged]
) -> None:
    log, data = logged
    monitor_id = create(platform)
    runner.run_monitor(platform, log, monitor_id, now=END)
    for index, row in enumerate(results(platform, monitor_id)):
        mask = (data.window == index) & data.labelled
        y, p, score = data.truth[mask], data.prediction[mask], data.proba_1[mask]
        tn, fp, _, _ = metrics.confusion_matrix(y, p, labels=[0, 1]).ravel()
        expected = {
            "accuracy": metrics.accuracy_score(y, p),
            "precision": metrics.precision_score(y, p),
            "recall": metrics.recall_score(y, p),
            "f1": metrics.f1_score(y, p),
            "roc_auc": metrics.roc_auc_score(y, score),
            "specificity": tn / (tn + fp),
        }
        for name, value in expected.items():
            assert row.performance[name] == pytest.approx(value, rel=1e-12), name
        assert row.labelled_rows == int(mask.sum())
        assert row.label_coverage == pytest.approx(mask.sum() / (data.window == index).sum())
        latency = data.latency_ms[data.window == index]
        assert row.latency_p99_ms == pytest.approx(np.percentile(latency, 99))
        assert row.latency_p50_ms == pytest.approx(np.percentile(latency, 50))
        assert row.throughput_rps == pytest.approx(SPEC.rows_per_second)
    rows = results(platform, monitor_id)
    assert rows[-1].performance["accuracy"] < rows[0].performance["accuracy"] - 0.1


def test_count_windows_and_version_filter(platform: Platform, logged: tuple[PredictionLog, Logged]) -> None:
    log, _ = logged
    monitor_id = create(platform, window_kind="count", window_size=1000)
    runner.run_monitor(platform, log, monitor_id, now=END + timedelta(hours=1))
    rows = results(platform, monitor_id)
    total = SPEC.windows * SPEC.window_seconds * SPEC.rows_per_second
    # 1000 rows end inside a second (20 rows share a timestamp): windows close on whole seconds.
    assert [r.rows for r in rows] == [1000] * (total // 1000)
    assert all(b.window_start >= a.window_end for a, b in itertools.pairwise(rows))
    other = create_other_version(platform)
    runner.run_monitor(platform, log, other, now=END + timedelta(hours=1))
    assert results(platform, other) == []


def create_other_version(platform: Platform) -> str:
    uri = upload_reference(platform, reference_frame())
    with platform.database.session(write=True) as session:
        return monitors.create_monitor(
            session,
            actor=LOCAL_ADMIN,
            store=platform.artifacts,
            endpoint="churn",
            name="v2",
            reference_uri=uri,
            window_kind="time",
            window_size=60,
            model_version="2",
        ).id


def test_reference_profile_is_built_once_per_content(platform: Platform) -> None:
    frame = reference_frame()
    first, second = upload_reference(platform, frame), upload_reference(platform, frame)
    with platform.database.session(write=True) as session:
        a = monitors.create_monitor(
            session,
            actor=LOCAL_ADMIN,
            store=platform.artifacts,
            endpoint="churn",
            name="a",
            reference_uri=first,
        )
        b = monitors.create_monitor(
            session,
            actor=LOCAL_ADMIN,
            store=platform.artifacts,
            endpoint="churn",
            name="b",
            reference_uri=second,
        )
        assert a.reference_profile_digest == b.reference_profile_digest
        assert a.reference_columns == ["x1", "x2", "c", "y"]


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("/etc/passwd", "runs:/<run_id>/<path>"),
        ("file:///tmp/x.csv", "runs:/<run_id>/<path>"),
        ("runs:/0123456789abcdef0123456789abcdef/data.csv", "not found"),
    ],
)
def test_bad_reference_is_refused_naming_the_field(platform: Platform, uri: str, message: str) -> None:
    with platform.database.session(write=True) as session, pytest.raises(InvalidParameterError) as caught:
        monitors.create_monitor(
            session,
            actor=LOCAL_ADMIN,
            store=platform.artifacts,
            endpoint="churn",
            name="x",
            reference_uri=uri,
        )
    assert caught.value.field == "reference_uri" and message in caught.value.message


def test_label_delay_waits_for_the_labels(platform: Platform, tmp_path: Path) -> None:
    log = open_log(tmp_path / "late")
    try:
        spec = LogSpec(windows=3, rows_per_second=5, labelled_share=0.0)
        write_log(log, spec)
        monitor_id = create(platform, label_delay_seconds=600)
        end = START + timedelta(minutes=spec.windows)
        assert runner.run_monitor(platform, log, monitor_id, now=end).result_ids == []
        # Labels come in for the first window's requests only, then the delay has passed for two windows.
        log.add_feedback("churn", [f"r{s}" for s in range(60)], [1] * 60, at=end)
        outcome = runner.run_monitor(platform, log, monitor_id, now=START + timedelta(minutes=12))
        assert len(outcome.result_ids) == 2
    finally:
        log.close()
    first, second = results(platform, monitor_id)
    assert first.label_coverage == 1.0 and first.labelled_rows == 300
    assert second.label_coverage == 0.0 and second.performance == {}


def test_run_monitor_now_reads_the_settings_folder_and_keeps_empty_windows(platform: Platform) -> None:
    spec = LogSpec(windows=2, rows_per_second=5)
    log = open_log(Path(platform.settings.prediction_log_dir))
    try:
        write_log(log, spec)
    finally:
        log.close()
    monitor_id = create(platform)
    outcome = runner.run_monitor_now(platform, monitor_id, now=START + timedelta(minutes=4))
    assert len(outcome.result_ids) == 4
    rows = results(platform, monitor_id)
    assert [r.rows for r in rows] == [300, 300, 0, 0]
    # An idle window is part of the series: no drift verdict, zero throughput.
    assert rows[2].dataset_drift is None and rows[2].throughput_rps == 0.0 and rows[2].error


def test_performance_per_model_version(platform: Platform, tmp_path: Path) -> None:
    spec = LogSpec(windows=2, rows_per_second=10, versions=("1", "2"))
    log = open_log(tmp_path / "versions")
    try:
        data = write_log(log, spec)
        monitor_id = create(platform)
        runner.run_monitor(platform, log, monitor_id, now=START + timedelta(minutes=2))
    finally:
        log.close()
    first = results(platform, monitor_id)[0]
    assert first.model_versions == ["1", "2"] and set(first.performance_by_version) == {"1", "2"}
    for version, parity in (("1", 0), ("2", 1)):
        mask = (data.window == 0) & (data.second % 2 == parity)
        labelled = mask & data.labelled
        found = first.performance_by_version[version]
        assert found["rows"] == mask.sum() and found["labelled_rows"] == labelled.sum()
        assert found["accuracy"] == pytest.approx(
            metrics.accuracy_score(data.truth[labelled], data.prediction[labelled])
        )
        assert found["roc_auc"] == pytest.approx(
            metrics.roc_auc_score(data.truth[labelled], data.proba_1[labelled])
        )
