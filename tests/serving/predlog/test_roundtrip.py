"""What goes in comes back: every column type, from the WAL (unsealed) and from sealed segments."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from shipyard.serving.predlog import LogEntry, PredictionLog
from tests.serving.predlog.entries import T0, make_entry

N = 4


def typed_entry(at: float = T0) -> LogEntry:
    inputs = {
        "f64": np.array([1.5, math.nan, -0.0, 1e300]),
        "f32": np.array([0.25, 1.0, 2.0, 3.0], dtype=np.float32),
        "i8": np.array([-128, 0, 1, 127], dtype=np.int8),
        "i64": np.array([2**62, -(2**62), 0, 7], dtype=np.int64),
        "u16": np.array([0, 1, 65535, 2], dtype=np.uint16),
        "flag": np.array([True, False, True, False]),
        "city": np.array(["Zürich", "", "Lyon", "東京"]),
        "maybe": np.array(["a", None, "c", None], dtype=object),
        "when": np.array(["2026-01-01T00:00", "2026-01-02T03:04:05.123456", "NaT", "1999-12-31"], "M8[us]"),
        "day": np.array(["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"], dtype="M8[D]"),
    }
    outputs = {
        "prediction": np.array([0, 1, 1, 0]),
        "proba": np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]]),
    }
    return LogEntry(
        endpoint="types",
        model_name="m",
        model_version="7",
        request_ids=["a", "a", "b", "c"],
        rows=np.array([0, 1, 0, 0]),
        protocol=["v2", "v2", "mlflow", "native"],
        received_at=np.array([at, at, at + 0.5, at + 1.0]),
        latency_ms=np.array([1.0, 1.0, 2.5, 3.0]),
        inputs=inputs,
        outputs=outputs,
    )


def check_typed(table: pa.Table, entry: LogEntry) -> None:
    assert table.num_rows == N
    assert table.column("request_id").to_pylist() == ["a", "a", "b", "c"]
    assert table.column("row").to_pylist() == [0, 1, 0, 0]
    assert table.column("protocol").to_pylist() == ["v2", "v2", "mlflow", "native"]
    assert set(table.column("model_version").to_pylist()) == {"7"}
    assert table.schema.field("received_at").type == pa.timestamp("us", tz="UTC")
    stamps = [t.timestamp() for t in table.column("received_at").to_pylist()]
    assert stamps == pytest.approx(list(entry.received_at), abs=1e-6)
    assert table.column("latency_ms").to_pylist() == [1.0, 1.0, 2.5, 3.0]
    for name, values in entry.inputs.items():
        column = table.column(f"input.{name}")
        if values.dtype.kind == "f":
            got = column.to_numpy()
            assert got.dtype == values.dtype
            np.testing.assert_array_equal(got, values)  # NaN stays NaN, -0.0 compares equal
        elif values.dtype.kind == "M":
            expected = [None if np.isnat(v) else v.astype("M8[us]").item() for v in values]
            assert column.to_pylist() == expected
        else:
            assert column.to_pylist() == values.tolist()
            if values.dtype.kind in "iub":
                assert column.type == pa.from_numpy_dtype(values.dtype)
    assert table.column("output.prediction").to_pylist() == [0, 1, 1, 0]
    proba = table.column("output.proba")
    assert proba.type == pa.list_(pa.float64(), 2)
    np.testing.assert_array_equal(np.array(proba.to_pylist()), entry.outputs["proba"])


def test_every_type_round_trips_unsealed_then_sealed(root: Path) -> None:
    entry = typed_entry()
    with PredictionLog(root, maintenance_seconds=None) as log:
        log.submit(entry).result(timeout=30)
        assert log.stats("types")["segments"] == 0  # still in the WAL
        check_typed(log.scan("types"), entry)
    with PredictionLog(root, maintenance_seconds=None) as log:
        assert log.stats("types")["segments"] == 1  # close() sealed it
        assert log.stats("types")["wal_bytes"] == 0
        check_typed(log.scan("types"), entry)
    check_typed(PredictionLog(root).scan("types"), entry)  # read-only, without start()


def test_entries_of_one_layout_group_into_one_batch_in_order(log: PredictionLog) -> None:
    entries = [make_entry(rows=r, at=T0 + i) for i, r in enumerate([1, 3, 64, 1, 2])]
    futures = [log.submit(e) for e in entries]
    for future in futures:
        future.result(timeout=30)
    table = log.scan("churn")
    assert table.column("request_id").to_pylist() == [rid for e in entries for rid in e.request_ids]
    expected_x = np.concatenate([e.inputs["x"] for e in entries])
    np.testing.assert_array_equal(table.column("input.x").to_numpy(), expected_x)


def test_scan_filters_time_orders_rows_and_picks_columns(log: PredictionLog) -> None:
    # Submitted out of time order: a scan hands them back sorted.
    for offset in (30.0, 10.0, 20.0, 40.0):
        log.submit(make_entry(rows=2, at=T0 + offset)).result(timeout=30)
    table = log.scan(
        "churn",
        since=datetime.fromtimestamp(T0 + 10, UTC),
        until=datetime.fromtimestamp(T0 + 40, UTC),
        columns=["input.x", "latency_ms", "input.absent"],
    )
    assert table.column_names == ["input.x", "latency_ms", "input.absent"]
    assert table.num_rows == 6
    assert table.column("input.absent").null_count == 6
    times = log.scan("churn").column("received_at").to_pylist()
    assert times == sorted(times)
    naive = log.scan("churn", since=datetime(2026, 1, 1, 0, 0, 35))  # naive means UTC
    assert naive.num_rows == 2


def test_tensor_input_column_round_trips(log: PredictionLog) -> None:
    pixels = np.arange(12, dtype=np.float32).reshape(3, 4)
    log.submit(make_entry(rows=3, inputs={"input": pixels})).result(timeout=30)
    column = log.scan("churn").column("input.input")
    assert column.type == pa.list_(pa.float32(), 4)
    np.testing.assert_array_equal(np.array(column.to_pylist(), dtype=np.float32), pixels)


def test_async_write_and_empty_entry(log: PredictionLog) -> None:
    async def main() -> None:
        await asyncio.gather(*(log.write(make_entry(rows=2)) for _ in range(10)))

    asyncio.run(main())
    assert log.scan("churn").num_rows == 20
    empty = make_entry(rows=0)
    assert log.submit(empty).result(timeout=1) is None
    assert log.stats("churn")["rows"] == 20


def test_unknown_endpoint_scans_empty_with_base_columns(log: PredictionLog) -> None:
    table = log.scan("never-served")
    assert table.num_rows == 0
    assert "received_at" in table.column_names
    assert log.labelled("never-served").column_names[-2:] == ["label", "label_at"]
