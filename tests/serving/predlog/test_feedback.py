"""Feedback: typed values, durable on return, and the latest label joined to each prediction row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from shipyard.core.errors import InvalidParameterError
from shipyard.serving.predlog import PredictionLog
from tests.serving.predlog.entries import crash_copy, make_entry

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("values", "expected_type", "expected"),
    [
        ([True, False], pa.bool_(), [True, False]),
        ([3, -1], pa.int64(), [3, -1]),
        ([3, 0.5, True], pa.float64(), [3.0, 0.5, 1.0]),
        (["cat", "dog"], pa.string(), ["cat", "dog"]),
        ([1, "dog", 2.5, False], pa.string(), ["1", "dog", "2.5", "false"]),
        ([np.int64(4), np.float32(0.5)], pa.float64(), [4.0, 0.5]),
    ],
)
def test_values_come_back_typed(
    log: PredictionLog, values: list, expected_type: pa.DataType, expected: list
) -> None:
    ids = [f"r{i}" for i in range(len(values))]
    log.add_feedback("churn", ids, values, at=AT)
    table = log.scan_feedback("churn")
    assert table.column_names == ["at", "request_id", "row", "value"]
    assert table.column("value").type == expected_type
    assert table.column("value").to_pylist() == expected
    assert table.column("request_id").to_pylist() == ids
    assert set(table.column("at").to_pylist()) == {AT}


def test_feedback_is_durable_when_add_feedback_returns(tmp_path: Path) -> None:
    live_root = tmp_path / "live"
    with PredictionLog(live_root, segment_seconds=3600, maintenance_seconds=None) as live:
        live.add_feedback("churn", ["a", "b"], [1, 0], rows=[0, 2])
        crashed = crash_copy(live_root, tmp_path / "crashed")
    with PredictionLog(crashed, maintenance_seconds=None) as log:
        table = log.scan_feedback("churn")
        assert table.column("request_id").to_pylist() == ["a", "b"]
        assert table.column("row").to_pylist() == [0, 2]
        assert log.stats("churn")["feedback_rows"] == 2


def test_latest_feedback_wins_per_row_and_per_request(log: PredictionLog) -> None:
    single = make_entry(rows=1)
    triple = make_entry(rows=3, rows_per_request=3)
    unlabelled = make_entry(rows=2)
    for entry in (single, triple, unlabelled):
        log.submit(entry).result(timeout=30)
    (s,), t = single.request_ids, triple.request_ids[0]
    log.add_feedback("churn", [s], [0], at=AT)
    log.add_feedback("churn", [s], [1], at=AT + timedelta(hours=1))  # a correction
    log.add_feedback("churn", [s], [5], at=AT - timedelta(hours=1))  # late to arrive, older: loses
    log.add_feedback("churn", [t], [0], at=AT)  # the whole request ...
    log.add_feedback("churn", [t, t], [1, 1], rows=[1, 2], at=AT + timedelta(minutes=1))  # ... then rows 1, 2
    log.add_feedback("churn", [t], [7], at=AT + timedelta(minutes=2), rows=[2])
    log.add_feedback("churn", ["someone-else"], [9], at=AT)

    table = log.labelled("churn")
    by_key = {
        (rid, row): (label, at)
        for rid, row, label, at in zip(
            table.column("request_id").to_pylist(),
            table.column("row").to_pylist(),
            table.column("label").to_pylist(),
            table.column("label_at").to_pylist(),
            strict=True,
        )
    }
    assert by_key[(s, 0)] == (1, AT + timedelta(hours=1))
    assert by_key[(t, 0)] == (0, AT)
    assert by_key[(t, 1)] == (1, AT + timedelta(minutes=1))
    assert by_key[(t, 2)] == (7, AT + timedelta(minutes=2))
    for rid in unlabelled.request_ids:
        assert by_key[(rid, 0)] == (None, None)
    assert table.num_rows == 6
    assert table.column("label").type == pa.int64()
    # The join leaves the predictions as they were, in order.
    assert table.drop_columns(["label", "label_at"]).equals(log.scan("churn"))


def test_labelled_window_only_filters_predictions(log: PredictionLog) -> None:
    early, late = make_entry(at=1_700_000_000.0), make_entry(at=1_800_000_000.0)
    for entry in (early, late):
        log.submit(entry).result(timeout=30)
    log.add_feedback("churn", early.request_ids + late.request_ids, ["x", "y"])
    window = log.labelled("churn", until=datetime.fromtimestamp(1_750_000_000, UTC))
    assert window.column("label").to_pylist() == ["x"]
    narrow = log.labelled("churn", columns=["output.prediction"])
    assert narrow.column_names == ["output.prediction", "label", "label_at"]
    assert narrow.column("label").to_pylist() == ["x", "y"]


@pytest.mark.parametrize(
    ("request_ids", "values", "rows", "field"),
    [
        (["a"], [None], None, "values[0]"),
        (["a"], [float("nan")], None, "values[0]"),
        (["a"], [[1, 2]], None, "values[0]"),
        (["a", "b"], [1], None, "values"),
        ([], [], None, "request_ids"),
        ("abc", [1, 2, 3], None, "request_ids"),
        ([""], [1], None, "request_ids[0]"),
        (["a\x00"], [1], None, "request_ids[0]"),
        (["a"], [1], [-1], "rows[0]"),
        (["a"], [1], [0, 1], "rows"),
        (["a"], [2**60], None, "values[0]"),
    ],
)
def test_bad_feedback_is_rejected_naming_the_field(
    log: PredictionLog, request_ids: list, values: list, rows: list | None, field: str
) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        log.add_feedback("churn", request_ids, values, rows=rows)
    assert caught.value.field == field
    assert log.scan_feedback("churn").num_rows == 0


def test_feedback_from_a_process_that_does_not_own_the_log(root: Path) -> None:
    with PredictionLog(root, maintenance_seconds=None, compact_rows=100) as server:
        entry = make_entry(rows=2, rows_per_request=2)
        server.submit(entry).result(timeout=30)
        (rid,) = set(entry.request_ids)
        server.add_feedback("churn", [rid], [0], at=AT)
        cli = PredictionLog(root)  # not started: the server holds the root
        cli.add_feedback("churn", [rid], [1], rows=[1], at=AT + timedelta(minutes=1))
        cli.add_feedback("other", ["x"], [True], at=AT)
        assert server.scan_feedback("churn").column("value").to_pylist() == [0, 1]
        assert server.labelled("churn").column("label").to_pylist() == [0, 1]
        assert server.stats("churn")["feedback_rows"] == 2
        assert server.scan_feedback("other").column("value").to_pylist() == [True]
        assert cli.scan_feedback("churn").num_rows == 2
    with PredictionLog(root, maintenance_seconds=None, compact_rows=100) as server:
        assert server.compact("churn") == 2  # the server's own feedback segment and the CLI's
        assert server.labelled("churn").column("label").to_pylist() == [0, 1]
        assert server.stats("churn")["feedback_rows"] == 2
