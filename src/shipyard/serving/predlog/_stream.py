"""One append-only table of one endpoint (its predictions, or its feedback): files and in-memory state.

On disk: ``<folder>/wal/wal-<seq>.log`` (write-ahead files, the newest one open) and
``<folder>/segments/seg-….parquet`` (sealed, see ``_segments``), plus ``compact.journal`` while a
compaction swaps files. In memory: the batches of the open WAL file (``active``), the batches of closed
WAL files waiting to be sealed (``pending``), and the list of segments. The log's lock guards all three.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from shipyard.serving.predlog._columns import RawBatch, raw_to_table
from shipyard.serving.predlog._segments import Segment, list_segments, unify
from shipyard.serving.predlog._wal import WalFile, fsync_dir, read_wal

__all__ = [
    "JOURNAL",
    "Chunk",
    "Rows",
    "Stream",
    "batches_to_table",
    "finish_journal",
    "listing",
    "read_only_view",
    "write_journal",
]

_WAL_NAME = re.compile(r"wal-(\d{12})\.log")
JOURNAL = "compact.journal"
Rows = RawBatch | pa.RecordBatch


@dataclass(eq=False)  # identity: compared fields would hold arrays
class Chunk:
    """Rows of closed WAL files, on their way into one segment (then the files are deleted)."""

    stream: Stream
    seqs: list[int]
    paths: list[Path]
    batches: list[Rows]

    @property
    def rows(self) -> int:
        return sum(b.num_rows for b in self.batches)


@dataclass(eq=False)  # identity: compared fields would hold arrays
class Stream:
    folder: Path
    time_column: str
    fsync: bool
    compression: str = "lz4"
    wal: WalFile | None = None
    wal_seq: int = 0
    next_seq: int = 1
    active: list[Rows] = field(default_factory=list)
    active_rows: int = 0
    active_since: float = 0.0
    pending: list[Chunk] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)

    @property
    def wal_dir(self) -> Path:
        return self.folder / "wal"

    @property
    def segment_dir(self) -> Path:
        return self.folder / "segments"

    def ensure_folders(self) -> None:
        """Create the folders, making each new name durable in its parent."""
        for path in (self.folder.parent, self.folder, self.wal_dir, self.segment_dir):
            if not path.is_dir():
                path.mkdir(parents=True, exist_ok=True)
                if self.fsync:
                    fsync_dir(path.parent)

    def open_wal(self) -> WalFile:
        if self.wal is None:
            self.wal_seq, self.next_seq = self.next_seq, self.next_seq + 1
            self.wal = WalFile(self.wal_dir / f"wal-{self.wal_seq:012d}.log", fsync=self.fsync)
        return self.wal

    def freeze(self) -> Chunk | None:
        """Close the open WAL file and move its rows to ``pending`` (the caller holds the lock)."""
        if self.wal is None:
            return None
        self.wal.close()
        chunk = Chunk(self, [self.wal_seq], [self.wal.path], self.active)
        self.wal, self.active, self.active_rows = None, [], 0
        self.pending.append(chunk)
        return chunk

    def recover(self) -> Chunk | None:
        """Finish an interrupted compaction, drop temp files, reload WAL rows not yet in a segment."""
        self.ensure_folders()
        finish_journal(self.segment_dir)
        for stray in self.segment_dir.glob(".tmp-*"):
            stray.unlink(missing_ok=True)
        self.segments = list_segments(self.segment_dir)
        sealed = max((s.wal_seq for s in self.segments), default=0)
        seqs, paths, batches = [], [], []
        for seq, path in _wal_files(self.wal_dir):
            if seq <= sealed:
                path.unlink(missing_ok=True)  # sealed already; the crash came before its deletion
                continue
            found, _ = read_wal(path, repair=True)
            seqs.append(seq)
            paths.append(path)
            batches.extend(found)
        self.next_seq = max([sealed, *seqs]) + 1
        if not paths:
            return None
        chunk = Chunk(self, seqs, paths, batches)
        self.pending.append(chunk)
        return chunk

    def wal_bytes(self) -> int:
        total = 0
        for _, path in _wal_files(self.wal_dir):
            with contextlib.suppress(FileNotFoundError):  # sealed and deleted meanwhile
                total += path.stat().st_size
        return total


def _wal_files(folder: Path) -> list[tuple[int, Path]]:
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = _WAL_NAME.fullmatch(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def batches_to_table(batches: list[Rows]) -> pa.Table:
    """Rows held in memory as one table: raw batches by layout, Arrow batches by runs of one schema."""
    tables = raw_to_table([b for b in batches if isinstance(b, RawBatch)])
    runs: list[list[Rows]] = []
    for batch in batches:
        if isinstance(batch, RawBatch):
            continue
        if runs and runs[-1][0].schema.equals(batch.schema):
            runs[-1].append(batch)
        else:
            runs.append([batch])
    return unify(tables + [pa.Table.from_batches(run) for run in runs])


def write_journal(folder: Path, new: str, old: list[str], *, fsync: bool) -> None:
    """Record a compaction's swap before it happens, so a crash mid-swap never duplicates rows."""
    temporary = folder / f".tmp-{JOURNAL}"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump({"new": new, "old": old}, handle)
        handle.flush()
        if fsync:
            os.fsync(handle.fileno())
    os.replace(temporary, folder / JOURNAL)
    if fsync:
        fsync_dir(folder)


def _read_journal(folder: Path) -> tuple[str, list[str]] | None:
    try:
        record = json.loads((folder / JOURNAL).read_text(encoding="utf-8"))
        return str(record["new"]), [str(name) for name in record["old"]]
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        return "", []  # unreadable: written torn, so its new segment was never renamed into place


def finish_journal(folder: Path) -> None:
    """Complete (new segment in place: delete the old ones) or forget (it is not) a compaction."""
    found = _read_journal(folder)
    if found is None:
        return
    new, old = found
    if new and (folder / new).exists():
        for name in old:
            (folder / name).unlink(missing_ok=True)
    (folder / JOURNAL).unlink(missing_ok=True)


def listing(folder: Path) -> tuple[tuple[str, ...], ...]:
    """Names of a stream's files: equal before and after a read means no file moved meanwhile."""
    names = []
    for sub in ("segments", "wal"):
        path = folder / sub
        names.append(tuple(sorted(p.name for p in path.iterdir())) if path.is_dir() else ())
    return tuple(names)


def read_only_view(folder: Path) -> tuple[list[Segment], list[Rows]]:
    """Segments and WAL rows of a stream that no PredictionLog of this process has open.

    Raises FileNotFoundError when a file vanished while reading (a writer elsewhere sealed or compacted):
    the caller compares ``listing`` before and after its reads, and retries when they differ.
    """
    segment_dir, wal_dir = folder / "segments", folder / "wal"
    wal_files = _wal_files(wal_dir)
    segments = list_segments(segment_dir) if segment_dir.is_dir() else []
    journal = _read_journal(segment_dir) if segment_dir.is_dir() else None
    if journal is not None and journal[0] and any(s.path.name == journal[0] for s in segments):
        replaced = set(journal[1])
        segments = [s for s in segments if s.path.name not in replaced]
    sealed = max((s.wal_seq for s in segments), default=0)
    batches: list[Rows] = []
    for seq, path in wal_files:
        if seq > sealed:
            batches.extend(read_wal(path, repair=False)[0])
    return segments, batches
