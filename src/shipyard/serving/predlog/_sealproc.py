"""Sealing in a helper process: closed WAL files become a Parquet segment off the server's interpreter.

Turning a segment's worth of logged rows (100,000 by default) into an Arrow table holds the interpreter
lock for tens of milliseconds, in slices the event loop has to wait for: while a segment was sealed in
the serving process, a one-row pipeline's p99 rose from ~3 ms to 15-20 ms. The helper reads the WAL
files the server wrote (closed, complete: every record was written before its response left), builds
the table the server would have built from memory, checks that it holds the rows the server holds,
and writes the segment under a temporary name; the server's sealer thread only waits on a pipe, then
renames it into place (a server killed meanwhile replays those rows from its WAL at the next start, so
only a live server may publish them). If the helper fails, the sealer drops what it left and seals
the chunk itself, from memory.
"""

from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from shipyard.serving.children import launch, watch_parent
from shipyard.serving.predlog._segments import Segment, sort_by_time, write_segment
from shipyard.serving.predlog._stream import Chunk, batches_to_table
from shipyard.serving.predlog._wal import read_wal

__all__ = ["SealJob", "SealerProcess", "drop_unpublished", "seal_files", "seal_jobs"]

_STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class SealJob:
    """One chunk's WAL files, where its segment goes and how it is written."""

    paths: tuple[Path, ...]
    segment_dir: Path
    time_column: str
    wal_seq: int
    rows: int  # what the server holds of these files: the segment must hold exactly as many
    fsync: bool
    compression: str

    @classmethod
    def of(cls, chunk: Chunk, rows: int) -> SealJob:
        """The job of ``chunk``, which holds ``rows`` rows (``chunk.rows``, summed by the caller)."""
        stream = chunk.stream
        return cls(
            tuple(chunk.paths),
            stream.segment_dir,
            stream.time_column,
            max(chunk.seqs),
            rows,
            stream.fsync,
            stream.compression,
        )


def seal_files(job: SealJob) -> Segment:
    """Read the job's WAL files and write them as one time-sorted segment (what the helper runs)."""
    batches: list[Any] = []
    for path in job.paths:
        found, dropped = read_wal(path, repair=False)
        if dropped:
            raise ValueError(f"{path.name} ends in {dropped} bytes that are not a whole record")
        batches.extend(found)
    table = sort_by_time(batches_to_table(batches), job.time_column)
    if table.num_rows != job.rows:
        raise ValueError(f"the WAL files hold {table.num_rows} rows; the server holds {job.rows}")
    return write_segment(
        job.segment_dir,
        table,
        time_column=job.time_column,
        wal_seq=job.wal_seq,
        fsync=job.fsync,
        compression=job.compression,
        publish=False,  # the server renames it (see write_segment)
    )


def drop_unpublished(job: SealJob) -> None:
    """Delete what a helper that failed before it answered may have left of ``job``'s segment.

    Its temporary file carries the chunk's last WAL number, which no other segment file does: those
    sealed or compacted before hold lower ones, and nothing else writes while the sealer thread waits."""
    for path in job.segment_dir.glob(f".tmp-seg-*-{job.wal_seq:012d}-*.parquet"):
        path.unlink(missing_ok=True)


class SealerProcess:
    """The parent's handle on the helper; used from the sealer thread only (one job at a time)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the helper if it is not running (it imports for a second or so, on another core)."""
        with self._lock:
            self._start()

    def _start(self) -> Connection:
        if self._conn is None:
            process, sock = launch(f"{__name__}:seal_jobs")
            self._process, self._conn = process, Connection(sock.detach())
        return self._conn

    def seal(self, job: SealJob) -> Segment:
        """The job's segment, written by the helper (started if it is not running); raises if it could
        not be."""
        with self._lock:
            conn = self._start()
            try:
                conn.send(job)
                status, result = conn.recv()
            except (EOFError, OSError) as exc:
                self._stop()
                raise RuntimeError(f"the sealing process is gone: {exc or type(exc).__name__}") from None
        if status != "ok":
            raise RuntimeError(result)
        return result

    def close(self) -> None:
        """Stop the helper between jobs (the sealer thread is done): it holds nothing worth waiting
        for, and one still importing would take a second to read a polite request to leave."""
        with self._lock:
            self._stop()

    def _stop(self) -> None:
        conn, process = self._conn, self._process
        self._conn = self._process = None
        if conn is not None:
            conn.close()
        if process is not None:
            process.kill()
            process.wait(timeout=_STOP_TIMEOUT_S)


def seal_jobs(conn: Connection, parent_pid: int) -> None:
    """The helper process: seal each job the parent sends until its pipe closes (or the parent is
    gone; ``SealerProcess.close`` kills it)."""
    if not watch_parent(parent_pid):
        return
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[str, Any] = ("ok", seal_files(job))
        except Exception as exc:  # reported to the server, which seals the chunk itself
            reply = ("error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return
