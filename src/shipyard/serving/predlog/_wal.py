"""The write-ahead file: framed records, appended with one write and one fsync per group commit.

A WAL file is an 8-byte magic followed by records. A record is ``length`` (uint32, little endian),
``crc32`` of the payload (uint32) and ``length`` bytes of payload: predictions as raw columns (``R``,
see ``_columns``), feedback as ``A`` and an Arrow IPC stream of one record batch. A crash can leave a
torn last record (short, or with a CRC that does not match); reading stops at the first record that
does not check out and recovery truncates the file there. Because every group is fsync'd before its
callers are told, nothing acknowledged can lie past that point.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from pathlib import Path

import pyarrow as pa

from shipyard.serving.predlog._columns import TAG as RAW_TAG
from shipyard.serving.predlog._columns import EncodedColumn, RawBatch

__all__ = ["MAGIC", "WalFile", "decode_payload", "encode_record", "fsync_dir", "read_wal"]

logger = logging.getLogger(__name__)

MAGIC = b"SYPLWAL1"
_HEADER = struct.Struct("<II")
_ARROW = b"A"
# A record larger than this is certainly a corrupt length field, not a batch we wrote.
_MAX_RECORD = 1 << 31
_sync = getattr(os, "fdatasync", os.fsync)


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (a created, renamed or deleted file) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def encode_record(rows: RawBatch | pa.RecordBatch, encoded: dict[str, EncodedColumn] | None = None) -> bytes:
    """One framed record holding ``rows``; an Arrow batch carries its schema, so each record reads alone.
    ``encoded``: columns of a raw batch encoded already (see ``RawBatch.encode_columns``)."""
    if isinstance(rows, RawBatch):
        payload = rows.encode(encoded)
    else:
        sink = pa.BufferOutputStream()
        sink.write(_ARROW)
        with pa.ipc.new_stream(sink, rows.schema) as writer:
            writer.write_batch(rows)
        payload = sink.getvalue().to_pybytes()
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def decode_payload(payload: bytes) -> list[RawBatch | pa.RecordBatch]:
    if payload[:1] == RAW_TAG:
        return [RawBatch.decode(payload)]
    if payload[:1] == _ARROW:
        return list(pa.ipc.open_stream(memoryview(payload)[1:]))
    raise ValueError(f"unknown record type {payload[:1]!r}")


class WalFile:
    """An open WAL file that only grows; ``append`` returns once the bytes are on disk (if ``fsync``)."""

    def __init__(self, path: Path, *, fsync: bool) -> None:
        self.path = path
        self.fsync = fsync
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        try:
            self.size = 0
            self.append(MAGIC)
            if fsync:
                fsync_dir(path.parent)  # the file's name must survive a crash too
        except BaseException:
            os.close(self._fd)
            raise

    def append(self, data: bytes, *, sync: bool = True) -> None:
        """Write ``data`` at the end; with ``sync`` (and ``fsync``) return once it is on disk."""
        view = memoryview(data)
        while view:  # a regular file writes everything at once; loop for the rare short write
            written = os.write(self._fd, view)
            view = view[written:]
        self.size += len(data)
        if sync:
            self.sync()

    def sync(self) -> None:
        if self.fsync:
            _sync(self._fd)

    def close(self) -> None:
        os.close(self._fd)


def read_wal(path: Path, *, repair: bool) -> tuple[list[RawBatch | pa.RecordBatch], int]:
    """The batches of every intact record, and the count of bytes dropped after the last one.

    With ``repair`` a torn or corrupt tail is truncated (and the truncation fsync'd), so the next
    writer starts from a clean end; without it (a read-only look) the file is left as it is.
    """
    data = path.read_bytes()
    if not data.startswith(MAGIC):
        good = 0
        batches: list[RawBatch | pa.RecordBatch] = []
    else:
        good = len(MAGIC)
        batches = []
        while good + _HEADER.size <= len(data):
            length, crc = _HEADER.unpack_from(data, good)
            start, end = good + _HEADER.size, good + _HEADER.size + length
            if length == 0 or length >= _MAX_RECORD or end > len(data):
                break
            payload = data[start:end]
            if zlib.crc32(payload) != crc:
                break
            try:
                batches.extend(decode_payload(payload))
            except (pa.ArrowInvalid, OSError, ValueError, KeyError, TypeError):
                break  # a CRC match on garbage is unlikely, but a bad record must still end the replay
            good = end
    dropped = len(data) - good
    if dropped and repair:
        logger.warning("prediction log: truncating %d torn bytes at the end of %s", dropped, path)
        with open(path, "r+b") as handle:
            handle.truncate(good)
            handle.flush()
            os.fsync(handle.fileno())
    return batches, dropped
