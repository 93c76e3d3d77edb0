"""Sealing in a helper process stores exactly what sealing in the server stores; when the helper fails
or dies, the server seals the chunk itself, and no row is ever stored twice or lost."""

from __future__ import annotations

import copy
import os
import signal
import time
from pathlib import Path

import pyarrow as pa
import pytest

from shipyard.core.errors import InvalidParameterError
from shipyard.serving.predlog import LogEntry, PredictionLog
from shipyard.serving.predlog._sealproc import SealerProcess, SealJob, drop_unpublished, seal_files
from shipyard.serving.predlog._segments import list_segments, publish_segment, temporary_path
from tests.serving.predlog.entries import T0, make_entry
from tests.serving.predlog.test_prepared import _entries


def _sealed(log: PredictionLog, segments: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while log.stats("churn")["segments"] < segments:
        assert time.monotonic() < deadline, f"fewer than {segments} segments after {timeout} s"
        time.sleep(0.02)


def _write(root: Path, entries: list[LogEntry], **options: object) -> pa.Table:
    """``entries`` sealed at close; the table read back from the segments alone."""
    with PredictionLog(root, maintenance_seconds=None, **options) as log:  # type: ignore[arg-type]
        for entry in entries:
            log.submit(copy.deepcopy(entry)).result(timeout=30)
    with PredictionLog(root, maintenance_seconds=None) as log:
        assert log.stats("churn")["wal_bytes"] == 0
        return log.scan("churn")


@pytest.mark.parametrize("fsync", [False, True], ids=["inline", "group-commit"])
def test_the_helper_stores_what_the_server_stores(tmp_path: Path, fsync: bool) -> None:
    entries = _entries()  # every shape a server logs
    here = _write(tmp_path / "here", entries, fsync=fsync, seal_process_rows=None)
    helper = _write(tmp_path / "helper", entries, fsync=fsync, seal_process_rows=1)
    assert helper.equals(here) and here.num_rows == sum(len(e.request_ids) for e in entries)


def test_the_helper_starts_with_the_first_rows_written_and_only_where_asked(tmp_path: Path) -> None:
    with PredictionLog(tmp_path / "plain", maintenance_seconds=None) as log:
        log.submit(make_entry(rows=2)).result(timeout=30)
        assert log.seal_process_rows is None and log._sealer.pid is None
    with PredictionLog(tmp_path / "helped", seal_process_rows=10, maintenance_seconds=None) as log:
        assert log._sealer.pid is None
        log.submit(make_entry(rows=2)).result(timeout=30)  # far from a segment: the helper starts anyway
        deadline = time.monotonic() + 30
        while log._sealer.pid is None:
            assert time.monotonic() < deadline, "the helper did not start"
            time.sleep(0.02)
    assert log._sealer.pid is None


def test_segments_are_sealed_by_the_helper_while_the_log_runs(tmp_path: Path) -> None:
    with PredictionLog(tmp_path, segment_rows=4, seal_process_rows=1, maintenance_seconds=None) as log:
        for index in range(3):
            log.submit(make_entry(rows=4, at=T0 + index)).result(timeout=30)
        _sealed(log, 3)
        assert log._sealer.pid not in (None, os.getpid())
        assert log.scan("churn").num_rows == 12
    assert log._sealer.pid is None, "close() leaves the helper running"


def test_a_dead_helper_leaves_the_sealing_to_the_server(tmp_path: Path) -> None:
    with PredictionLog(tmp_path, segment_rows=4, seal_process_rows=1, maintenance_seconds=None) as log:
        log.submit(make_entry(rows=4)).result(timeout=30)
        _sealed(log, 1)
        helper = log._sealer.pid
        assert helper is not None
        os.kill(helper, signal.SIGKILL)
        os.waitpid(helper, 0)
        log.submit(make_entry(rows=4, at=T0 + 1)).result(timeout=30)
        _sealed(log, 2)  # the helper's pipe is closed: sealed by the server (the next one restarts it)
        log.submit(make_entry(rows=4, at=T0 + 2)).result(timeout=30)
        _sealed(log, 3)
        assert log._sealer.pid not in (None, helper)
    with PredictionLog(tmp_path, maintenance_seconds=None) as log:
        assert log.scan("churn").num_rows == 12 and log.stats("churn")["segments"] == 3


def test_a_helper_that_wrote_but_did_not_answer_is_not_written_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def write_then_fail(self: SealerProcess, job: SealJob) -> None:
        seal_files(job)
        raise RuntimeError("the pipe broke after the segment was renamed")

    monkeypatch.setattr(SealerProcess, "seal", write_then_fail)
    with PredictionLog(tmp_path, segment_rows=4, seal_process_rows=1, maintenance_seconds=None) as log:
        log.submit(make_entry(rows=4)).result(timeout=30)
        _sealed(log, 1)
        assert log.scan("churn").num_rows == 4
    folder = tmp_path / "churn" / "predictions" / "segments"
    assert len(list_segments(folder)) == 1 and not list(folder.glob(".tmp-*"))


def test_only_the_server_makes_the_helpers_segment_visible(tmp_path: Path) -> None:
    """A server killed while its helper seals replays those rows from its WAL at the next start: the
    helper's file must not be a segment by then, or the rows would be stored twice."""
    with PredictionLog(tmp_path, seal_process_rows=None, maintenance_seconds=None) as log:
        log.submit(make_entry(rows=3)).result(timeout=30)
        chunk = log._stream("churn", "predictions").freeze()
        assert chunk is not None
        job = SealJob.of(chunk, chunk.rows)
        segment = seal_files(job)
        assert list_segments(job.segment_dir) == [] and temporary_path(segment).is_file()
        drop_unpublished(job)  # what the server does when the helper does not answer
        assert not list(job.segment_dir.iterdir())
        segment = seal_files(job)
        publish_segment(segment, fsync=False)  # what it does when the helper answers
        assert list_segments(job.segment_dir) == [segment] and not temporary_path(segment).exists()
        segment.path.unlink()
        log._seal_queue.put(chunk)  # sealed as usual: nothing lost
        _sealed(log, 1)


def test_the_helper_refuses_files_that_do_not_hold_the_servers_rows(tmp_path: Path) -> None:
    with PredictionLog(tmp_path, seal_process_rows=None, maintenance_seconds=None) as log:
        log.submit(make_entry(rows=3)).result(timeout=30)
        [chunk] = [log._stream("churn", "predictions").freeze()]
        assert chunk is not None
        job = SealJob.of(chunk, chunk.rows)
        wrong = SealJob(job.paths, job.segment_dir, job.time_column, job.wal_seq, 4, False, "lz4")
        with pytest.raises(ValueError, match="hold 3 rows; the server holds 4"):
            seal_files(wrong)
        assert list_segments(job.segment_dir) == []
        log._seal_queue.put(chunk)  # sealed as usual: nothing lost
        _sealed(log, 1)


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "10"])
def test_seal_process_rows_must_be_a_positive_integer_or_none(tmp_path: Path, bad: object) -> None:
    with pytest.raises(InvalidParameterError, match="seal_process_rows"):
        PredictionLog(tmp_path, seal_process_rows=bad)  # type: ignore[arg-type]
