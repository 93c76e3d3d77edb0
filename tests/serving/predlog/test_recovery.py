"""Crash recovery: torn WAL tails are cut, unsealed rows replayed, half-done swaps finished."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from shipyard.core.errors import ConflictError
from shipyard.serving.predlog import PredictionLog
from shipyard.serving.predlog._wal import MAGIC, WalFile, encode_record, read_wal
from tests.serving.predlog.entries import crash_copy, make_entry


def _batch(values: list[int]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({"v": values})


def _wal_with(path: Path, batches: list[pa.RecordBatch]) -> int:
    wal = WalFile(path, fsync=False)
    for batch in batches:
        wal.append(encode_record(batch))
    wal.close()
    return path.stat().st_size


@pytest.mark.parametrize("cut", [1, 4, 8, 9, 40])
def test_torn_tail_is_detected_and_truncated(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "wal-000000000001.log"
    good = _wal_with(path, [_batch([1, 2]), _batch([3])])
    last = encode_record(_batch([4, 5, 6]))
    with open(path, "ab") as handle:
        handle.write(last[: max(1, len(last) - cut)])  # a write cut short by the crash
    batches, dropped = read_wal(path, repair=False)
    assert [b.column(0).to_pylist() for b in batches] == [[1, 2], [3]]
    assert dropped == path.stat().st_size - good  # read-only: the file is left alone
    batches, dropped = read_wal(path, repair=True)
    assert path.stat().st_size == good
    assert read_wal(path, repair=False) == (batches, 0)


def test_corrupt_record_stops_the_replay_there(tmp_path: Path) -> None:
    path = tmp_path / "wal-000000000001.log"
    _wal_with(path, [_batch([1]), _batch([2]), _batch([3])])
    data = bytearray(path.read_bytes())
    first_length = int.from_bytes(data[len(MAGIC) : len(MAGIC) + 4], "little")
    second = len(MAGIC) + 8 + first_length
    data[second + 8 + 10] ^= 0xFF  # flip one payload byte of the second record: its CRC fails
    path.write_bytes(bytes(data))
    batches, dropped = read_wal(path, repair=True)
    assert [b.column(0).to_pylist() for b in batches] == [[1]]
    assert path.stat().st_size == second and dropped > 0
    assert zlib.crc32(b"") == 0  # an empty payload is never a valid record (length 0 stops the scan)


def test_unsealed_rows_are_replayed_after_a_crash_with_a_torn_tail(tmp_path: Path) -> None:
    live_root, crashed = tmp_path / "live", tmp_path / "crashed"
    entries = [make_entry(rows=3) for _ in range(5)]
    with PredictionLog(live_root, segment_seconds=3600, maintenance_seconds=None) as live:
        for entry in entries:
            live.submit(entry).result(timeout=30)
        crash_copy(live_root, crashed)
    (wal,) = (crashed / "churn" / "predictions" / "wal").iterdir()
    with open(wal, "ab") as handle:
        handle.write(b"\x40\x00\x00\x00\x12\x34")  # the start of a record the crash interrupted
    with PredictionLog(crashed, maintenance_seconds=None) as log:
        table = log.scan("churn")
        assert table.column("request_id").to_pylist() == [r for e in entries for r in e.request_ids]
        log.submit(make_entry(rows=1)).result(timeout=30)  # writing goes on in a fresh WAL file
    with PredictionLog(crashed, maintenance_seconds=None) as log:
        assert log.stats("churn")["rows"] == 16
        assert log.stats("churn")["wal_bytes"] == 0


def test_a_wal_already_sealed_is_not_replayed_twice(tmp_path: Path) -> None:
    # Crash between "segment renamed" and "WAL deleted": the segment's WAL number marks the file as done.
    root = tmp_path / "log"
    with PredictionLog(root, segment_seconds=3600, maintenance_seconds=None) as log:
        log.submit(make_entry(rows=4)).result(timeout=30)
        crash_copy(root, tmp_path / "wal-only")
    with PredictionLog(root, maintenance_seconds=None) as log:
        assert log.stats("churn")["segments"] == 1
    (leftover,) = (tmp_path / "wal-only" / "churn" / "predictions" / "wal").iterdir()
    (root / "churn" / "predictions" / "wal" / leftover.name).write_bytes(leftover.read_bytes())
    with PredictionLog(root, maintenance_seconds=None) as log:
        assert log.scan("churn").num_rows == 4


def test_interrupted_compaction_keeps_each_row_once(tmp_path: Path) -> None:
    root = tmp_path / "log"
    with PredictionLog(root, segment_rows=2, compact_rows=100, maintenance_seconds=None) as log:
        for _ in range(4):
            log.submit(make_entry(rows=2)).result(timeout=30)
    segments = root / "churn" / "predictions" / "segments"
    before = sorted(p.name for p in segments.iterdir())
    assert len(before) == 4
    snapshot = {name: (segments / name).read_bytes() for name in before}
    with PredictionLog(root, compact_rows=100, maintenance_seconds=None) as log:
        assert log.compact() == 4
    # Put the old segments back next to the merged one, with the journal the swap wrote first.
    (merged,) = segments.glob("seg-*.parquet")
    for name, data in snapshot.items():
        (segments / name).write_bytes(data)
    (segments / "compact.journal").write_text(json.dumps({"new": merged.name, "old": before}))
    with PredictionLog(root, maintenance_seconds=None) as log:
        assert log.scan("churn").num_rows == 8
        assert log.stats("churn")["segments"] == 1
    assert not (segments / "compact.journal").exists()


def test_one_process_owns_a_root(root: Path, log: PredictionLog) -> None:
    with pytest.raises(ConflictError) as caught:
        PredictionLog(root).start()
    assert caught.value.field == "root"


def test_unreadable_files_in_the_folders_are_ignored(root: Path, log: PredictionLog) -> None:
    log.submit(make_entry(rows=2)).result(timeout=30)
    (root / "not an endpoint").mkdir()
    (root / "churn" / "predictions" / "segments" / "notes.txt").write_text("hello")
    assert log.endpoints() == ["churn"]
    assert np.isfinite(log.scan("churn").column("latency_ms").to_numpy()).all()
