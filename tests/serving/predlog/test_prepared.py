"""A prepared entry (``prepare`` while the model predicts, ``submit_prepared`` with its outputs) stores
exactly what ``submit`` of the whole entry stores: in memory, after a crash, sealed, with and without
fsync; and its bad parts fail as ``submit`` fails them, writing nothing."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from shipyard.core.errors import InvalidParameterError
from shipyard.serving.predlog import InputBlock, LogEntry, PredictionLog
from tests.serving.predlog.entries import T0, crash_copy, make_entry


def _entries() -> list[LogEntry]:
    """Entries of every shape a server logs: columns, a block, several rows per request, object outputs."""
    g = np.random.default_rng(7)
    blocked = make_entry(rows=16, at=T0 + 1, inputs={})
    blocked.input_block = InputBlock(("a", "b", "c"), np.ascontiguousarray(g.normal(size=(3, 16))))
    blocked.protocol = ["v2"] * 8 + ["native"] * 8
    labels = make_entry(rows=3, at=T0 + 2, outputs={"prediction": np.array(["yes", None, 3], dtype=object)})
    return [make_entry(rows=1), blocked, make_entry(rows=6, at=T0 + 3, rows_per_request=3), labels]


def _submit_prepared(log: PredictionLog, entry: LogEntry) -> None:
    outputs, latency = entry.outputs, entry.latency_ms
    partial = copy.copy(entry)
    partial.outputs, partial.latency_ms = {}, np.zeros(len(entry.request_ids))  # not known yet
    prepared = log.prepare(partial)
    log.submit_prepared(prepared, outputs, latency).result(timeout=30)


@pytest.mark.parametrize("fsync", [False, True], ids=["inline", "group-commit"])
def test_prepared_entries_store_what_submit_stores(tmp_path: Path, fsync: bool) -> None:
    entries = _entries()
    with PredictionLog(tmp_path / "plain", fsync=fsync, maintenance_seconds=None) as log:
        for entry in entries:
            log.submit(entry).result(timeout=30)
        expected = log.scan("churn")
    live, crashed = tmp_path / "live", tmp_path / "crashed"
    with PredictionLog(live, fsync=fsync, segment_seconds=3600, maintenance_seconds=None) as log:
        for entry in entries:
            _submit_prepared(log, entry)
        assert log.scan("churn").equals(expected)  # from memory
        crash_copy(live, crashed)
    with PredictionLog(crashed, maintenance_seconds=None) as log:
        assert log.scan("churn").equals(expected)  # replayed from the WAL
    with PredictionLog(live, maintenance_seconds=None) as log:
        assert log.stats("churn")["segments"] == 1
        assert log.scan("churn").equals(expected)  # sealed
    assert expected.num_rows == sum(len(e.request_ids) for e in entries)


@pytest.mark.parametrize(
    ("outputs", "latency", "field"),
    [
        ({"prediction": np.zeros(2)}, np.zeros(3), "latency_ms"),
        ({"prediction": np.zeros(1)}, np.zeros(2), "outputs.prediction"),
        ({"prediction": [0, 1]}, np.zeros(2), "outputs.prediction"),
        ({3: np.zeros(2)}, np.zeros(2), "outputs"),
    ],
    ids=["latency-length", "output-length", "not-an-array", "name-not-text"],
)
def test_bad_outputs_of_a_prepared_entry_fail_it_and_write_nothing(
    log: PredictionLog, outputs: dict, latency: np.ndarray, field: str
) -> None:
    prepared = log.prepare(make_entry(rows=2, outputs={}))
    with pytest.raises(InvalidParameterError) as caught:
        log.submit_prepared(prepared, outputs, latency)
    assert caught.value.field == field
    assert log.scan("churn").num_rows == 0
    good = make_entry(rows=2)
    log.submit(good).result(timeout=30)  # the log goes on
    assert log.scan("churn").column("request_id").to_pylist() == good.request_ids


@pytest.mark.parametrize("fsync", [False, True], ids=["inline", "group-commit"])
def test_a_bad_entry_fails_in_prepare(tmp_path: Path, fsync: bool) -> None:
    entry = make_entry(rows=2, outputs={})
    entry.received_at = np.array([T0, np.nan])
    with PredictionLog(tmp_path, fsync=fsync, maintenance_seconds=None) as log:
        with pytest.raises(InvalidParameterError) as caught:
            log.prepare(entry)
        assert caught.value.field == "received_at"
        failed = log.submit(make_entry(rows=2, at=float("nan")))  # submit fails its future instead
        assert isinstance(failed.exception(timeout=30), InvalidParameterError)
        assert log.scan("churn").num_rows == 0


def test_a_failed_write_fails_the_prepared_entry_only(
    log: PredictionLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = log.prepare(make_entry(rows=2, outputs={}))
    log.submit(make_entry(rows=1)).result(timeout=30)  # opens the WAL file
    stream = next(iter(log._streams.values()))
    wal = stream.open_wal()

    def broken(data: bytes, *, sync: bool = True) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(wal, "append", broken)
    failed = log.submit_prepared(first, {"prediction": np.zeros(2)}, np.zeros(2))
    assert "could not write" in str(failed.exception(timeout=30))
    monkeypatch.undo()
    later = make_entry(rows=3)
    log.submit(later).result(timeout=30)  # a fresh WAL file takes the next batches
    ids = log.scan("churn").column("request_id").to_pylist()
    assert ids[-3:] == later.request_ids and len(ids) == 4  # the failed batch is not there
