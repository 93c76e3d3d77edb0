"""Group commit: futures resolve only after the fsync, and everything queued meanwhile shares the next one."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from shipyard.core.errors import InvalidParameterError, StoreUnavailableError
from shipyard.serving.predlog import PredictionLog, _wal
from shipyard.serving.predlog._scan import read_tables
from tests.serving.predlog.entries import T0, crash_copy, make_entry


def test_queued_entries_share_one_write_and_fsync(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    syncing, release = threading.Event(), threading.Event()
    calls: list[int] = []
    original = _wal._sync

    def held_sync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:  # the first record after the file's magic: hold it until the test says so
            syncing.set()
            assert release.wait(30)
        original(fd)

    monkeypatch.setattr(_wal, "_sync", held_sync)
    with PredictionLog(root, maintenance_seconds=None) as log:
        first = log.submit(make_entry(rows=2))
        assert syncing.wait(30)
        queued = [log.submit(make_entry(rows=1, endpoint=name)) for name in ("a", "b") for _ in range(50)]
        assert not first.done()  # written, not yet fsync'd: not acknowledged
        assert not any(f.done() for f in queued)
        before = len(calls)
        release.set()
        first.result(timeout=30)
        for future in queued:
            future.result(timeout=30)
        # Endpoints a and b: each a new WAL file (magic + its fsync) and then one fsync for its 50 entries.
        assert len(calls) - before == 4
        assert log.stats("a")["rows"] == log.stats("b")["rows"] == 50


def test_a_second_reader_sees_a_running_log(root: Path) -> None:
    with PredictionLog(root, segment_rows=5, maintenance_seconds=None) as log:
        for _ in range(4):
            log.submit(make_entry(rows=3)).result(timeout=30)
        reader = PredictionLog(root)  # not started: reads files, as another process would
        assert (
            reader.scan("churn").column("request_id").to_pylist()
            == log.scan("churn").column("request_id").to_pylist()
        )
        assert reader.stats("churn")["rows"] == 12


def test_a_scan_retries_when_a_segment_vanishes(root: Path) -> None:
    with PredictionLog(root, segment_rows=1, maintenance_seconds=None) as log:
        log.submit(make_entry(rows=2)).result(timeout=30)
    with PredictionLog(root, maintenance_seconds=None) as log:
        held = log._snapshot("churn", "predictions")
        assert held is not None
        segments, memory = held
        gone = segments[0].path.with_name(segments[0].path.name.replace("seg-", "seg-gone-"))
        stale = [
            type(segments[0])(
                gone, *[getattr(segments[0], f) for f in ("first_us", "last_us", "rows", "wal_seq")]
            )
        ]
        answers = iter([(stale, memory), (segments, memory)])
        tables = read_tables(lambda: next(answers), root / "churn" / "predictions", None, None, None)
        assert sum(t.num_rows for t in tables) == 2


def test_times_outside_the_supported_range_are_refused(log: PredictionLog) -> None:
    entry = make_entry(rows=2)
    entry.received_at = entry.received_at * -1
    with pytest.raises(InvalidParameterError) as caught:
        log.submit(entry).result(timeout=30)
    assert caught.value.field == "received_at"
    with pytest.raises(InvalidParameterError) as caught:
        log.add_feedback("churn", ["r"], [1], at=datetime(1960, 1, 1, tzinfo=UTC))
    assert caught.value.field == "at"
    assert log.stats("churn")["rows"] == 0


def test_one_turn_with_two_versions_keeps_every_row(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # During a hot swap one group commit holds batches of both versions, with different columns.
    syncing, release = threading.Event(), threading.Event()
    original = _wal._sync
    calls: list[int] = []

    def held_sync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            syncing.set()
            assert release.wait(30)
        original(fd)

    monkeypatch.setattr(_wal, "_sync", held_sync)
    with PredictionLog(root, maintenance_seconds=None) as log:
        log.submit(make_entry(at=T0 - 100))  # held in its fsync while the others queue up
        assert syncing.wait(30)
        entries = []
        for i in range(20):
            if i % 2:
                extra = {"x": np.full(2, float(i)), "new": np.array(["a", "b"])}
                entries.append(make_entry(rows=2, version="2", at=T0 + i, inputs=extra))
            else:
                entries.append(make_entry(rows=2, version="1", at=T0 + i, inputs={"x": np.full(2, float(i))}))
        futures = [log.submit(e) for e in entries]
        release.set()
        for future in futures:
            future.result(timeout=30)
        table = log.scan("churn", since=datetime.fromtimestamp(T0, UTC))
    assert table.column("request_id").to_pylist() == [r for e in entries for r in e.request_ids]
    assert table.column("input.x").to_pylist() == [float(i) for i in range(20) for _ in range(2)]
    assert table.column("model_version").to_pylist() == [str(1 + i % 2) for i in range(20) for _ in range(2)]
    assert table.column("input.new").to_pylist() == [None, None, "a", "b"] * 10


def test_a_failed_fsync_fails_its_callers_and_the_log_goes_on(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = _wal._sync
    fail_next = threading.Event()

    def flaky_sync(fd: int) -> None:
        if fail_next.is_set():
            fail_next.clear()
            raise OSError(28, "No space left on device")
        original(fd)

    monkeypatch.setattr(_wal, "_sync", flaky_sync)
    with PredictionLog(root, maintenance_seconds=None) as log:
        before = make_entry(rows=2)
        log.submit(before).result(timeout=30)
        fail_next.set()
        lost = make_entry(rows=2)
        with pytest.raises(StoreUnavailableError, match="No space left"):
            log.submit(lost).result(timeout=30)
        after = make_entry(rows=2)
        log.submit(after).result(timeout=30)  # in a fresh WAL file
        acknowledged = before.request_ids + after.request_ids
        assert set(acknowledged) <= set(log.scan("churn").column("request_id").to_pylist())
    with PredictionLog(root, maintenance_seconds=None) as log:
        assert set(acknowledged) <= set(log.scan("churn").column("request_id").to_pylist())


def test_without_fsync_the_caller_writes_its_batch_before_submit_returns(root: Path) -> None:
    with PredictionLog(root, fsync=False, segment_rows=5, maintenance_seconds=None) as log:
        futures = [log.submit(make_entry(rows=2)) for _ in range(6)]
        assert all(f.done() and f.exception() is None for f in futures)  # no hand-off to the writer
        on_disk = PredictionLog(root).stats("churn")  # read from the files, as another process would
        assert on_disk["wal_bytes"] > 0 or on_disk["segments"] > 0
        assert on_disk["rows"] == log.stats("churn")["rows"] == 12
        # Every 5 rows the caller also rolled the WAL for sealing, as the writer does after its commits.
        assert len(log.scan("churn")) == 12
    with pytest.raises(StoreUnavailableError, match="not running"):
        log.submit(make_entry(rows=1))
    reopened = PredictionLog(root)
    assert reopened.stats("churn")["rows"] == 12


def test_without_fsync_a_batch_is_sealed_with_the_file_it_was_written_to(tmp_path: Path) -> None:
    """The first batch fills a WAL file, so the second one's write rolls it: the second batch's bytes are
    in the closed file, and its rows must be sealed from that file's chunk, not kept in memory for the
    next one (a crash would then lose them once the closed file is sealed and deleted)."""
    live = tmp_path / "live"
    with PredictionLog(live, fsync=False, segment_rows=5, maintenance_seconds=None) as log:
        first, second = make_entry(rows=5), make_entry(rows=1, at=T0 + 1)
        log.submit(first).result(timeout=30)
        log.submit(second).result(timeout=30)
        deadline = time.monotonic() + 30
        while log.stats("churn")["segments"] < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        crashed = crash_copy(live, tmp_path / "crashed")
    with PredictionLog(crashed, maintenance_seconds=None) as reopened:
        ids = reopened.scan("churn").column("request_id").to_pylist()
    assert sorted(ids) == sorted(first.request_ids + second.request_ids)
