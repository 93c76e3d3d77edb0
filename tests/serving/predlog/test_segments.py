"""Segments: rotation by rows and by age, compaction keeps every row, retention, schema changes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from shipyard.serving.predlog import PredictionLog
from tests.serving.predlog.entries import T0, make_entry


def _ids(table: pa.Table) -> list[str]:
    return table.column("request_id").to_pylist()


def test_rotation_by_rows_seals_segments_and_drops_wals(root: Path) -> None:
    with PredictionLog(root, segment_rows=10, maintenance_seconds=None) as log:
        entries = [make_entry(rows=4, at=T0 + i) for i in range(10)]
        for entry in entries:
            log.submit(entry).result(timeout=30)
        # 40 rows in segments of at least 10 (whole groups are sealed together), the rest still in a WAL.
        deadline = time.monotonic() + 30
        while log.stats("churn")["segments"] < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        stats = log.stats("churn")
        assert stats["segments"] >= 3 and stats["rows"] == 40 and stats["bytes"] > 0
        assert _ids(log.scan("churn")) == [r for e in entries for r in e.request_ids]
    wals = list((root / "churn" / "predictions" / "wal").iterdir())
    assert wals == []


def test_rotation_by_age_seals_a_quiet_endpoint(root: Path) -> None:
    with PredictionLog(root, segment_seconds=0.05, maintenance_seconds=None) as log:
        log.submit(make_entry(rows=2)).result(timeout=30)
        deadline = time.monotonic() + 30
        while log.stats("churn")["segments"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert log.stats("churn")["segments"] == 1
        assert log.stats("churn")["wal_bytes"] == 0


def test_compaction_keeps_every_row_and_respects_days(root: Path) -> None:
    day = 86_400
    entries = [make_entry(rows=3, at=T0 + i) for i in range(6)] + [
        make_entry(rows=3, at=T0 + day + i) for i in range(3)
    ]
    with PredictionLog(root, segment_rows=1, compact_rows=1_000, maintenance_seconds=None) as log:
        for entry in entries:
            log.submit(entry).result(timeout=30)
    with PredictionLog(root, compact_rows=1_000, maintenance_seconds=None) as log:
        before = log.scan("churn")
        assert log.stats("churn")["segments"] == 9
        assert log.compact("churn") == 9
        assert log.stats("churn")["segments"] == 2  # one per UTC day
        after = log.scan("churn")
        assert after.equals(before)
        assert log.compact() == 0  # nothing small left


def test_retention_deletes_only_old_segments(root: Path) -> None:
    now = datetime.fromtimestamp(T0, UTC) + timedelta(days=40)
    old = [make_entry(rows=2, at=T0 + i) for i in range(3)]
    recent = [make_entry(rows=2, at=T0 + 35 * 86_400 + i) for i in range(2)]
    with PredictionLog(root, segment_rows=1, retention_days=30, maintenance_seconds=None) as log:
        for entry in old + recent:
            log.submit(entry).result(timeout=30)
        log.add_feedback("churn", [recent[0].request_ids[0]], [1], at=now - timedelta(days=1))
    with PredictionLog(root, retention_days=30, maintenance_seconds=None) as log:
        assert log.enforce_retention(now=now) == 3
        assert _ids(log.scan("churn")) == [r for e in recent for r in e.request_ids]
        assert log.scan_feedback("churn").num_rows == 1
        assert log.enforce_retention(now=now) == 0
        assert log.enforce_retention(now=now + timedelta(days=60)) == 3  # 2 prediction + 1 feedback
    with PredictionLog(root, retention_days=None, maintenance_seconds=None) as log:
        assert log.enforce_retention(now=now + timedelta(days=1000)) == 0


def test_schema_changes_between_versions_are_unified(root: Path) -> None:
    v1 = make_entry(
        rows=2,
        version="1",
        inputs={"age": np.array([30, 40], dtype=np.int32), "city": np.array(["a", "b"])},
        outputs={"prediction": np.array([0, 1]), "emb": np.zeros((2, 2))},
    )
    v2 = make_entry(
        rows=2,
        version="2",
        at=T0 + 1,
        inputs={"age": np.array([31.5, 41.5]), "income": np.array([1.0, 2.0]), "city": np.array([7, 8])},
        outputs={"prediction": np.array([1, 1]), "emb": np.ones((2, 3))},
    )
    with PredictionLog(root, segment_rows=2, maintenance_seconds=None) as log:
        log.submit(v1).result(timeout=30)
        log.submit(v2).result(timeout=30)
        for table in (log.scan("churn"), None):
            if table is None:  # and again once both versions sit in sealed segments
                log.close()
                log.start()
                table = log.scan("churn")
            assert table.column("model_version").to_pylist() == ["1", "1", "2", "2"]
            assert table.column("input.age").type == pa.float64()
            assert table.column("input.age").to_pylist() == [30.0, 40.0, 31.5, 41.5]
            assert table.column("input.income").to_pylist() == [None, None, 1.0, 2.0]
            assert table.column("input.city").to_pylist() == ["a", "b", "7", "8"]
            assert table.column("output.emb").to_pylist() == [[0.0, 0.0]] * 2 + [[1.0, 1.0, 1.0]] * 2
        assert log.compact() == 2
        assert log.scan("churn").column("input.income").null_count == 2
